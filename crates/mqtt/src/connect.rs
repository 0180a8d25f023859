//! Broker addresses as users write them (`mqtt://user:password@host:port`), turned
//! into rumqttc options with the settings labflight always wants: MQTT 3.1.1,
//! a keep-alive, a persistent session where asked, and room for large payloads so
//! the service itself can refuse them with a reason.

use rumqttc::MqttOptions;
use std::time::Duration;

/// A parsed broker URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttUrl {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
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
        o.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
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
    }
}
