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

/// A parsed broker URL: one broker, or the nodes of a clustered one
/// (`mqtt://host1:port1,host2:port2,…`), tried in turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttUrl {
    /// The (first) broker's host name or address.
    pub host: String,
    /// Its port (1883 when the URL names none).
    pub port: u16,
    /// The other nodes of a clustered broker, in the order given.
    pub more_nodes: Vec<(String, u16)>,
    /// The login, if the URL gives one.
    pub username: Option<String>,
    /// The login's password, if the URL gives one (never shown).
    pub password: Option<String>,
}

impl MqttUrl {
    /// `mqtt://[user[:password]@]host[:port][,host[:port]…]` (port defaults to
    /// 1883; several hosts are the nodes of one clustered broker).
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
        let mut nodes = Vec::new();
        for node in hostport.split(',') {
            let (host, port) = match node.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_owned(),
                    p.parse::<u16>().map_err(|_| {
                        format!("MQTT URL `{url}`: port `{p}` is not a number 0-65535")
                    })?,
                ),
                None => (node.to_owned(), 1883),
            };
            if host.is_empty() {
                return Err(format!("MQTT URL `{url}` has no host"));
            }
            nodes.push((host, port));
        }
        let (host, port) = nodes.remove(0);
        Ok(MqttUrl {
            host,
            port,
            more_nodes: nodes,
            username,
            password,
        })
    }

    /// Every node: the first, then the others.
    pub fn nodes(&self) -> Vec<(String, u16)> {
        let mut all = vec![(self.host.clone(), self.port)];
        all.extend(self.more_nodes.iter().cloned());
        all
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
        let nodes: Vec<String> = self
            .nodes()
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect();
        match &self.username {
            Some(u) => write!(f, "mqtt://{u}@{}", nodes.join(",")),
            None => write!(f, "mqtt://{}", nodes.join(",")),
        }
    }
}

/// Moves a client over a clustered broker's nodes: after a connection error its
/// next attempt goes to the next node its URL names. With one node it changes
/// nothing. The session (client id, persistence, last will, credentials) is the
/// same on every node: a clustered broker keeps it across them.
#[derive(Clone, Debug)]
pub struct NodeRotation {
    nodes: Vec<(String, u16)>,
    at: usize,
}

impl NodeRotation {
    /// Starting at the URL's first node.
    pub fn new(url: &MqttUrl) -> NodeRotation {
        NodeRotation {
            nodes: url.nodes(),
            at: 0,
        }
    }

    /// After a connection error: point `eventloop` at the next node. Returns it
    /// (`host:port`) when there is another to try.
    pub fn after_error(&mut self, eventloop: &mut rumqttc::EventLoop) -> Option<String> {
        if self.nodes.len() < 2 {
            return None;
        }
        self.at = (self.at + 1) % self.nodes.len();
        let (host, port) = &self.nodes[self.at];
        eventloop.mqtt_options = on_node(&eventloop.mqtt_options, host, *port);
        Some(format!("{host}:{port}"))
    }
}

/// Whether the broker refused a subscription this SUBACK answers (return code
/// 0x80). A clustered broker may (NATS, when JetStream cannot make the
/// session's consumer in time): the client must subscribe again, or it never
/// hears what is published for it.
pub fn subscription_refused(ack: &rumqttc::SubAck) -> bool {
    ack.return_codes
        .iter()
        .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
}

/// `o` for the node at `host:port`: every other setting kept.
fn on_node(o: &MqttOptions, host: &str, port: u16) -> MqttOptions {
    let mut n = MqttOptions::new(o.client_id(), host, port);
    n.set_keep_alive(o.keep_alive());
    n.set_clean_session(o.clean_session());
    n.set_max_packet_size(o.max_packet_size(), o.max_packet_size());
    n.set_inflight(o.inflight());
    n.set_manual_acks(o.manual_acks());
    n.set_request_channel_capacity(o.request_channel_capacity());
    n.set_pending_throttle(o.pending_throttle());
    if let Some((u, p)) = o.credentials() {
        n.set_credentials(u, p);
    }
    if let Some(will) = o.last_will() {
        n.set_last_will(will);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suback_with_a_failure_code_is_a_refusal() {
        use rumqttc::{QoS, SubAck, SubscribeReasonCode as Code};
        let ack = |codes: Vec<Code>| SubAck {
            pkid: 1,
            return_codes: codes,
        };
        assert!(!subscription_refused(&ack(vec![Code::Success(
            QoS::AtLeastOnce
        )])));
        assert!(subscription_refused(&ack(vec![Code::Failure])));
        assert!(subscription_refused(&ack(vec![
            Code::Success(QoS::AtMostOnce),
            Code::Failure
        ])));
    }

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
        // A clustered broker: its nodes in order, each port its own.
        let u = MqttUrl::parse("mqtt://svc:pw@10.0.0.1:1883,10.0.0.2,10.0.0.3:1884").unwrap();
        assert_eq!(
            u.nodes(),
            vec![
                ("10.0.0.1".to_owned(), 1883),
                ("10.0.0.2".to_owned(), 1883),
                ("10.0.0.3".to_owned(), 1884)
            ]
        );
        assert_eq!(
            u.to_string(),
            "mqtt://svc@10.0.0.1:1883,10.0.0.2:1883,10.0.0.3:1884"
        );
        let e = MqttUrl::parse("mqtt://a:1883,:1884").unwrap_err();
        assert!(e.contains("no host"), "{e}");
    }

    #[test]
    fn a_rotation_moves_the_client_to_the_next_node_keeping_its_session() {
        let u = MqttUrl::parse("mqtt://svc:pw@127.0.0.1:1001,127.0.0.1:1002").unwrap();
        let mut o = u.options("svc", true);
        o.set_manual_acks(true);
        o.set_last_will(rumqttc::LastWill::new(
            "status",
            "offline",
            rumqttc::QoS::AtLeastOnce,
            true,
        ));
        let (_client, mut eventloop) = rumqttc::AsyncClient::new(o, 10);
        let mut rotation = NodeRotation::new(&u);
        assert_eq!(
            rotation.after_error(&mut eventloop).as_deref(),
            Some("127.0.0.1:1002")
        );
        let moved = &eventloop.mqtt_options;
        assert_eq!(moved.broker_address(), ("127.0.0.1".to_owned(), 1002));
        assert!(!moved.clean_session() && moved.manual_acks());
        assert_eq!(moved.credentials(), Some(("svc".into(), "pw".into())));
        assert_eq!(moved.last_will().unwrap().topic, "status");
        assert_eq!(moved.max_packet_size(), MAX_PACKET_BYTES);
        assert_eq!(
            rotation.after_error(&mut eventloop).as_deref(),
            Some("127.0.0.1:1001")
        );
        let single = MqttUrl::parse("mqtt://127.0.0.1:1001").unwrap();
        assert_eq!(NodeRotation::new(&single).after_error(&mut eventloop), None);
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
