//! Broker addresses as users write them (`mqtt://user:password@host:port`), turned
//! into rumqttc options with the settings labflight always wants: MQTT 3.1.1,
//! a keep-alive, a persistent session where asked, and a packet limit shared with
//! the brokers (`MAX_PACKET_BYTES`), so a payload too large for the decoder still
//! arrives, is refused with a reason and acknowledged, and a packet too large for
//! the client never leaves the broker.

use rumqttc::MqttOptions;
use std::time::Duration;

/// The largest MQTT packet (after the fixed header) labflight's clients read or
/// send. Larger than `payload::MAX_PAYLOAD_BYTES`, so an oversized payload is still
/// read, refused as `too_large` and acknowledged. A broker must never deliver more:
/// rumqttc drops the connection on a bigger packet without acknowledging it, and a
/// persistent session would redeliver it on every reconnect. So the embedded broker
/// refuses bigger publishes, and `deploy/mosquitto/mosquitto.conf` sets
/// `max_packet_size` at or below this (checked by a test).
pub const MAX_PACKET_BYTES: usize = 256 * 1024;
// A payload at the decoder's limit, with its topic, must fit in a packet.
const _: () = assert!(MAX_PACKET_BYTES > crate::payload::MAX_PAYLOAD_BYTES + 1024);

/// A parsed broker URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttUrl {
    /// The broker's host name or address.
    pub host: String,
    /// Its port (1883 when the URL names none).
    pub port: u16,
    /// The login, if the URL gives one.
    pub username: Option<String>,
    /// The login's password, if the URL gives one (never shown).
    pub password: Option<String>,
}

impl MqttUrl {
    /// `mqtt://[user[:password]@]host[:port]` (port defaults to 1883).
    pub fn parse(url: &str) -> Result<MqttUrl, String> {
        let rest = url
            .strip_prefix("mqtt://")
            .or_else(|| url.strip_prefix("tcp://"))
            .ok_or_else(|| format!("MQTT URL `{url}` must start with mqtt://"))?;
        let rest = rest.trim_end_matches('/');
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (username, password) = match creds {
            None => (None, None),
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
                None => (Some(c.to_owned()), None),
            },
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse::<u16>()
                    .map_err(|_| format!("MQTT URL `{url}`: port `{p}` is not a number 0-65535"))?,
            ),
            None => (hostport.to_owned(), 1883),
        };
        if host.is_empty() {
            return Err(format!("MQTT URL `{url}` has no host"));
        }
        Ok(MqttUrl {
            host,
            port,
            username,
            password,
        })
    }

    /// The same broker, logging in as someone else.
    pub fn with_credentials(&self, username: &str, password: &str) -> MqttUrl {
        MqttUrl {
            username: Some(username.to_owned()),
            password: Some(password.to_owned()),
            ..self.clone()
        }
    }

    /// Options for one client. `persistent` keeps the session (and its QoS 1
    /// messages) across reconnects.
    pub fn options(&self, client_id: &str, persistent: bool) -> MqttOptions {
        let mut o = MqttOptions::new(client_id, &self.host, self.port);
        o.set_keep_alive(Duration::from_secs(15));
        o.set_clean_session(!persistent);
        o.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
        o.set_inflight(200);
        if let Some(u) = &self.username {
            o.set_credentials(u, self.password.as_deref().unwrap_or(""));
        }
        o
    }
}

impl std::fmt::Display for MqttUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.username {
            Some(u) => write!(f, "mqtt://{u}@{}:{}", self.host, self.port),
            None => write!(f, "mqtt://{}:{}", self.host, self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        let u = MqttUrl::parse("mqtt://svc:s3cret@127.0.0.1:1884").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 1884));
        assert_eq!(u.username.as_deref(), Some("svc"));
        assert_eq!(u.password.as_deref(), Some("s3cret"));
        let u = MqttUrl::parse("mqtt://localhost").unwrap();
        assert_eq!((u.port, u.username.as_deref()), (1883, None));
        assert!(u.to_string().contains("localhost:1883"));
        let e = MqttUrl::parse("http://x").unwrap_err();
        assert!(e.contains("http://x"), "{e}");
        let e = MqttUrl::parse("mqtt://h:99999").unwrap_err();
        assert!(e.contains("99999"), "{e}");
        // A password may hold `@` and `:`; the last `@` ends the credentials.
        let u = MqttUrl::parse("mqtt://D-01:p@ss:w0rd@broker.lan:8883").unwrap();
        assert_eq!(u.username.as_deref(), Some("D-01"));
        assert_eq!(u.password.as_deref(), Some("p@ss:w0rd"));
        assert_eq!((u.host.as_str(), u.port), ("broker.lan", 8883));
        // The password is never shown.
        assert_eq!(u.to_string(), "mqtt://D-01@broker.lan:8883");
    }

    #[test]
    fn options_carry_the_credentials_and_the_packet_limit() {
        let u = MqttUrl::parse("mqtt://svc:s3cret@127.0.0.1:1884").unwrap();
        let o = u.options("svc", true);
        assert_eq!(o.credentials(), Some(("svc".into(), "s3cret".into())));
        assert_eq!(o.max_packet_size(), MAX_PACKET_BYTES);
        assert!(!o.clean_session());
    }

    /// The deploy broker must not deliver a packet the service cannot read.
    #[test]
    fn the_deploy_broker_limit_fits_the_service() {
        let conf = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/mosquitto/mosquitto.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        let limit: usize = text
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("max_packet_size "))
            .unwrap_or_else(|| panic!("{} sets no max_packet_size", conf.display()))
            .trim()
            .parse()
            .unwrap();
        assert!(
            limit > 0 && limit <= MAX_PACKET_BYTES,
            "max_packet_size {limit} must be 1..={MAX_PACKET_BYTES}"
        );
    }
}
