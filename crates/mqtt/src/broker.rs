//! The embedded broker (rumqttd) that `serve` and `demo` start when no external
//! broker is configured: one MQTT 3.1.1 listener on 127.0.0.1, running on its own
//! threads for as long as the process lives, that lets in only the logins it was
//! started with (`BrokerLogins`). rumqttd checks logins only: it has no per-topic
//! rules, so any device that logs in may publish on any topic (the decoder still
//! checks every message); production uses Mosquitto with `deploy/mosquitto/acl`.

use crate::connect::MAX_PACKET_BYTES;
use crate::layout::TopicLayout;
use crate::topics::SERVICE_SUBSCRIPTIONS;
use hmac::{Hmac, Mac};
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, SegmentConfig, ServerSettings};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The username the service logs in with (as in `deploy/mosquitto/acl`).
pub const SERVICE_USER: &str = "labflight";

/// Who may log in to the embedded broker: the service with its own password, and
/// each device (username = its id, client id = its id) with a password of its own,
/// derived from a device key so devices first seen during the day (boxes) need no
/// list: password = the first 32 hex digits of HMAC-SHA256(device key, device id).
/// Both are random, made fresh each time the broker starts.
#[derive(Clone)]
pub struct BrokerLogins {
    /// The password the service logs in with as [`SERVICE_USER`].
    pub service_password: String,
    device_key: [u8; 32],
}

impl std::fmt::Debug for BrokerLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrokerLogins { .. }")
    }
}

impl BrokerLogins {
    /// Fresh random logins (a 24-character service password, a 256-bit device key).
    pub fn generate() -> BrokerLogins {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let mut pw = [0u8; 12];
        rand::rng().fill_bytes(&mut pw);
        BrokerLogins {
            service_password: hex::encode(pw),
            device_key: key,
        }
    }

    /// The device key as 64 hex digits, as printed for `labflight devices --device-key`.
    pub fn device_key(&self) -> String {
        hex::encode(self.device_key)
    }

    /// The password of device `id` (also of a test or tool logging in as `id`).
    pub fn device_password(&self, id: &str) -> String {
        device_password(&self.device_key, id)
    }

    /// Whether a CONNECT may pass. The service may use any client id (it names its
    /// session after its run); a device must use its own id as client id, so no
    /// device can take over another's (or the service's) session.
    pub fn allows(&self, client_id: &str, username: &str, password: &str) -> bool {
        if username == SERVICE_USER {
            return same(password, &self.service_password);
        }
        let id_ok = !username.is_empty()
            && username.len() <= 64
            && !username.contains(['+', '#', '/'])
            && client_id == username;
        id_ok && same(password, &self.device_password(username))
    }
}

/// A device's password from a device key given as 64 hex digits.
pub fn device_password_from_key(key_hex: &str, id: &str) -> Result<String, String> {
    let key = hex::decode(key_hex)
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| format!("device key `{key_hex}` is not 64 hex digits"))?;
    Ok(device_password(&key, id))
}

fn device_password(key: &[u8], id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Bytes of one segment of a telemetry filter's log (see [`router_config`]).
pub const TELEMETRY_SEGMENT_BYTES: usize = 1024 * 1024;
/// Full segments a telemetry filter's log keeps besides the one being written.
pub const TELEMETRY_SEGMENTS: usize = 3;
// rumqttd refuses segments under 1 KiB; the whole log (segments kept and the
// active one) stays within 8 MiB counted.
const _: () = assert!(
    TELEMETRY_SEGMENT_BYTES >= 1024
        && TELEMETRY_SEGMENT_BYTES * (TELEMETRY_SEGMENTS + 1) <= 8 * 1024 * 1024
);

/// The router's limits. rumqttd keeps every message in a log per subscription
/// filter (all subscribers of one filter read the same log, each at its own
/// place) made of segments; when the last is full, the oldest is dropped, and a
/// subscriber that was still in it skips ahead to the oldest message kept (it
/// loses what it skipped). The segment size counts topic and payload only, while
/// a kept message also holds its ~300-byte record and the network read buffer
/// its bytes were cut from: a log takes about 2.5 times its counted size.
///
/// - Telemetry filters (`…/+/telemetry`, QoS 0, the bulk of the traffic, each
///   sample superseding the last): 1 MiB segments, 3 kept besides the active one,
///   so at most 4 MiB counted, about 10 MiB resident, per filter: about half a
///   second of 40,000 msg/s. A subscriber further behind than that loses the
///   oldest samples, as at-most-once allows (Mosquitto likewise drops QoS 0
///   messages past `max_queued_messages`). Without this, the flood of one run
///   grew the process by 165 MB (issue 28).
/// - Every other filter (QoS 1 events, commands; low rate, must survive a
///   subscriber's restart): 5 MiB segments, 10 kept: 55 MiB counted each.
pub fn router_config() -> RouterConfig {
    // Each telemetry filter in the district layout, and in any partition's
    // subtree (`labflight/v1/p/+/…`, the partitioned topic layout).
    let telemetry = SERVICE_SUBSCRIPTIONS
        .iter()
        .filter(|f| f.ends_with("/telemetry"))
        .flat_map(|f| {
            let district = (*f).to_owned();
            let partitioned = TopicLayout::Partitioned("+".into()).device_topic(f);
            [district, partitioned]
        })
        .map(|f| {
            (
                f,
                SegmentConfig {
                    max_segment_size: TELEMETRY_SEGMENT_BYTES,
                    max_segment_count: TELEMETRY_SEGMENTS,
                },
            )
        })
        .collect();
    RouterConfig {
        max_connections: 10_010,
        max_outgoing_packet_count: 1_000,
        max_segment_size: 5 * 1024 * 1024,
        max_segment_count: 10,
        custom_segment: Some(telemetry),
        initialized_filters: None,
        shared_subscriptions_strategy: Default::default(),
    }
}

/// Starts the broker on `addr` (port 0 picks a free one), admitting only `logins`,
/// and waits until it accepts connections; returns the address it listens on.
pub fn start_embedded(addr: SocketAddr, logins: &BrokerLogins) -> Result<SocketAddr, String> {
    let addr = if addr.port() == 0 {
        let l = std::net::TcpListener::bind(addr).map_err(|e| format!("MQTT {addr}: {e}"))?;
        l.local_addr().map_err(|e| e.to_string())?
    } else {
        addr
    };
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!(
            "MQTT port {addr} is already in use; choose another with --mqtt-port"
        ));
    }
    let server = ServerSettings {
        name: "labflight-v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            // The clients' own limit: a bigger publish is refused here (its sender
            // is disconnected) and never reaches the service, which could not read
            // it. Payloads up to this size reach the service and are refused there
            // with a reason.
            max_payload_size: MAX_PACKET_BYTES,
            max_inflight_count: 500,
            auth: None,
            external_auth: Some({
                let logins = logins.clone();
                Arc::new(move |client_id, user, pass| logins.allows(&client_id, &user, &pass))
            }),
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: router_config(),
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    };
    std::thread::Builder::new()
        .name("rumqttd".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("embedded MQTT broker stopped: {e}");
            }
        })
        .map_err(|e| e.to_string())?;
    for _ in 0..100 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(addr);
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    Err(format!("embedded MQTT broker did not start on {addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rumqttd picks a log's segment settings by matching the log's filter against
    /// the configured keys (`rumqttd::protocol::matches`, as `Data::new` does):
    /// each telemetry filter the service subscribes to gets the small log, no other.
    #[test]
    fn telemetry_logs_are_small_and_only_they() {
        let config = router_config();
        let custom = config.custom_segment.as_ref().unwrap();
        let partitioned = TopicLayout::parse("partitioned", "north").unwrap();
        for filter in SERVICE_SUBSCRIPTIONS
            .map(String::from)
            .into_iter()
            .chain(partitioned.service_filters())
        {
            let filter = filter.as_str();
            let chosen: Vec<_> = custom
                .iter()
                .filter(|(key, _)| rumqttd::protocol::matches(filter, key))
                .map(|(_, c)| (c.max_segment_size, c.max_segment_count))
                .collect();
            if filter.ends_with("/telemetry") {
                assert_eq!(
                    chosen,
                    [(TELEMETRY_SEGMENT_BYTES, TELEMETRY_SEGMENTS)],
                    "{filter}"
                );
            } else {
                assert!(chosen.is_empty(), "{filter}: {chosen:?}");
            }
        }
    }

    #[test]
    fn each_login_has_its_own_password() {
        let logins = BrokerLogins::generate();
        let d01 = logins.device_password("D-01");
        assert_eq!(d01.len(), 32);
        assert_ne!(d01, logins.device_password("D-02"));
        assert_eq!(logins.service_password.len(), 24);
        assert!(logins.allows(
            "labflight-service-1",
            SERVICE_USER,
            &logins.service_password
        ));
        assert!(logins.allows("D-01", "D-01", &d01));
        // Wrong password, another device's password, another key's password.
        assert!(!logins.allows("D-01", "D-01", "guess"));
        assert!(!logins.allows("D-02", "D-02", &d01));
        assert!(!logins.allows(
            "D-01",
            "D-01",
            &BrokerLogins::generate().device_password("D-01")
        ));
        // A device's password does not open the service's login, nor another client id.
        assert!(!logins.allows("x", SERVICE_USER, &logins.device_password(SERVICE_USER)));
        assert!(!logins.allows("labflight-service-1", "D-01", &d01));
        assert!(!logins.allows("D-01", "D-01", ""));
        // Printed key and derived passwords agree.
        assert_eq!(
            device_password_from_key(&logins.device_key(), "D-01").unwrap(),
            d01
        );
        let e = device_password_from_key("xyz", "D-01").unwrap_err();
        assert!(e.contains("xyz"), "{e}");
    }
}
