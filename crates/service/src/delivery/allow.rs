//! Where hooks may go: an allow-list of host and port, so a subscription can only make
//! the service call the receivers an operator named — not another port on the same
//! machine (a database, an admin console) nor any other host.

use std::fmt;

/// One allowed destination.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Lower case; an IPv6 address without brackets.
    host: String,
    port: Port,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    /// `host:*`: any port.
    Any,
    /// `host:8443`.
    Exactly(u16),
    /// Bare `host`: the scheme's default port only (80 for http, 443 for https).
    SchemeDefault,
}

/// The hosts and ports hooks may call (`hook_hosts` in labflight.toml).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
}

impl AllowList {
    /// Nothing configured: the demo's loopback receivers, `127.0.0.1:*` and `localhost:*`.
    pub fn loopback() -> AllowList {
        AllowList::parse(&["127.0.0.1:*", "localhost:*"]).expect("valid default entries")
    }

    /// Reads `host:port`, `host:*` or `host` entries (`[::1]:8080` for IPv6); a
    /// malformed entry is an error naming it. An empty list means `loopback()`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, String> {
        if entries.is_empty() {
            return Ok(AllowList::loopback());
        }
        let entries = entries
            .iter()
            .map(|e| parse_entry(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowList { entries })
    }

    /// Whether `url` is http(s) or mllp to an allowed host and port.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("hook URL `{url}`: {e}"))?;
        let scheme = parsed.scheme();
        if !matches!(scheme, "http" | "https" | "mllp") {
            return Err(format!(
                "hook URL `{url}` must be http://, https:// or mllp://"
            ));
        }
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h.trim_matches(['[', ']']).to_ascii_lowercase(),
            _ => return Err(format!("hook URL `{url}` names no host")),
        };
        let default = match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        let Some(port) = parsed.port().or(default) else {
            return Err(format!(
                "hook URL `{url}` names no port (mllp:// needs one)"
            ));
        };
        let ok = self.entries.iter().any(|e| {
            e.host == host
                && match e.port {
                    Port::Any => true,
                    Port::Exactly(p) => p == port,
                    Port::SchemeDefault => default == Some(port),
                }
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "hook URL `{url}`: {host} port {port} is not in the allowed hosts ({self})"
            ))
        }
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let host = if e.host.contains(':') {
                format!("[{}]", e.host)
            } else {
                e.host.clone()
            };
            match e.port {
                Port::Any => write!(f, "{host}:*")?,
                Port::Exactly(p) => write!(f, "{host}:{p}")?,
                Port::SchemeDefault => write!(f, "{host}")?,
            }
        }
        Ok(())
    }
}

fn parse_entry(raw: &str) -> Result<Entry, String> {
    let bad =
        |why: &str| format!("hook_hosts entry `{raw}`: {why}; expected host:port, host:* or host");
    let text = raw.trim();
    if text.is_empty() {
        return Err(bad("empty"));
    }
    if text.contains("://") || text.contains('/') {
        return Err(bad("a host, not a URL"));
    }
    // `[v6]`, `[v6]:port`, `host`, `host:port`.
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        match after {
            "" => (h, None),
            _ => (
                h,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("text after `]`"))?,
                ),
            ),
        }
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let host = host.to_ascii_lowercase();
    // The same rules as a URL's host (no spaces, no `@`, a valid IP or DNS name).
    let valid = !host.is_empty()
        && reqwest::Url::parse(&format!(
            "http://{}/",
            if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            }
        ))
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']) == host))
        .unwrap_or(false);
    if !valid {
        return Err(bad("not a valid host name or IP address"));
    }
    let port = match port {
        None => Port::SchemeDefault,
        Some("*") => Port::Any,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Port::Exactly(n),
            _ => return Err(bad(&format!("port `{p}` is not 1-65535 or *"))),
        },
    };
    Ok(Entry { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_must_both_be_allowed() {
        let list =
            AllowList::parse(&["127.0.0.1:9000", "his.example.cn", "lis.example.cn:*"]).unwrap();
        assert!(list.check("http://127.0.0.1:9000/hook").is_ok());
        let e = list.check("http://127.0.0.1:5432/hook").unwrap_err();
        assert!(e.contains("127.0.0.1 port 5432"), "{e}");
        // Bare host: the scheme's default port only.
        assert!(list.check("https://his.example.cn/fhir").is_ok());
        assert!(list.check("http://his.example.cn/fhir").is_ok());
        assert!(list.check("https://his.example.cn:8443/fhir").is_err());
        assert!(list.check("mllp://his.example.cn:2575").is_err());
        // host:* any port.
        assert!(list.check("https://LIS.example.cn:8443/fhir").is_ok());
        assert!(list.check("mllp://lis.example.cn:2575").is_ok());
        assert!(
            list.check("mllp://lis.example.cn").is_err(),
            "mllp needs a port"
        );
        let e = list.check("http://10.0.0.8/hook").unwrap_err();
        assert!(e.contains("10.0.0.8"), "{e}");
        assert!(list.check("ftp://127.0.0.1:9000/x").is_err());
        assert!(list.check("http://127.0.0.1.evil.example:9000/").is_err());
    }

    #[test]
    fn the_default_is_loopback_on_any_port() {
        let list = AllowList::parse::<&str>(&[]).unwrap();
        assert_eq!(list, AllowList::loopback());
        assert!(list.check("http://127.0.0.1:1/").is_ok());
        assert!(list.check("http://localhost:65535/").is_ok());
        assert!(list.check("http://[::1]:80/").is_err());
        assert_eq!(list.to_string(), "127.0.0.1:*, localhost:*");
    }

    #[test]
    fn ipv6_entries() {
        let list = AllowList::parse(&["[::1]:8080"]).unwrap();
        assert!(list.check("http://[::1]:8080/").is_ok());
        assert!(list.check("http://[::1]:8081/").is_err());
        assert_eq!(list.to_string(), "[::1]:8080");
    }

    #[test]
    fn malformed_entries_are_named() {
        for bad in [
            "",
            "host:",
            "host:0",
            "host:70000",
            "host:abc",
            "http://host",
            "host/path",
            "a b",
            "[::1",
            "[::1]x",
        ] {
            let e = AllowList::parse(&[bad]).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
        }
    }
}
