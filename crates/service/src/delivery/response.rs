//! What a receiver answered, read defensively: a receiver is not trusted to send a
//! sane `Retry-After`, a short body, or a well-formed reply at all. Everything here
//! is bounded (the wait, the bytes read, the text recorded) and nothing can panic.

use chrono::Duration;
use std::time::SystemTime;

/// Most bytes of a failed response's body read (and shown in the delivery's error).
pub const BODY_EXCERPT_BYTES: usize = 512;

/// Why an attempt failed, for the per-endpoint metric (`kind` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The URL is not (or no longer) on the allow-list.
    NotAllowed,
    /// The subscription's secret does not parse.
    Secret,
    Timeout,
    Tls,
    Connect,
    /// Reset or closed mid-exchange, or a reply that is not HTTP.
    Connection,
    Redirect,
    Status4xx,
    Status5xx,
    /// 1xx or another status that is neither success nor error.
    StatusOther,
    Gone,
    Mllp,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAllowed => "not_allowed",
            Self::Secret => "secret",
            Self::Timeout => "timeout",
            Self::Tls => "tls",
            Self::Connect => "connect",
            Self::Connection => "connection",
            Self::Redirect => "redirect",
            Self::Status4xx => "status_4xx",
            Self::Status5xx => "status_5xx",
            Self::StatusOther => "status_other",
            Self::Gone => "gone",
            Self::Mllp => "mllp",
        }
    }

    /// The kind of a non-success, non-410 HTTP status.
    pub fn of_status(code: u16) -> FailureKind {
        match code {
            300..=399 => Self::Redirect,
            400..=499 => Self::Status4xx,
            500..=599 => Self::Status5xx,
            _ => Self::StatusOther,
        }
    }
}

/// A `Retry-After` read: the wait it asks for in service time (at most `max`), and a
/// note for the delivery's error when the value was clamped or ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    pub wait: Option<Duration>,
    pub note: Option<String>,
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3),
/// in wall time, converted to service time at `speed`× and clamped to `max`. A
/// malformed or negative value is ignored (the backoff applies) and noted; a date in
/// the past asks for no extra wait.
pub fn retry_after(raw: &[u8], now: SystemTime, speed: f64, max: Duration) -> RetryAfter {
    let shown = excerpt(raw, 40);
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t.trim(),
        Err(_) => {
            return RetryAfter {
                wait: None,
                note: Some(format!("Retry-After `{shown}` ignored: not text")),
            };
        }
    };
    let wall_secs: f64 = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits: too many for u64 is simply "very long".
        text.parse::<u64>().map_or(f64::INFINITY, |s| s as f64)
    } else if let Ok(at) = httpdate::parse_http_date(text) {
        at.duration_since(now).map_or(0.0, |d| d.as_secs_f64())
    } else {
        return RetryAfter {
            wait: None,
            note: Some(format!(
                "Retry-After `{shown}` ignored: neither seconds nor an HTTP-date"
            )),
        };
    };
    let service_ms = wall_secs * 1000.0 * speed;
    let max_ms = max.num_milliseconds();
    if !service_ms.is_finite() || service_ms > max_ms as f64 {
        return RetryAfter {
            wait: Some(max),
            note: Some(format!(
                "Retry-After `{shown}` clamped to {} min of service time",
                max.num_minutes()
            )),
        };
    }
    RetryAfter {
        // Finite, non-negative and at most max_ms: the cast cannot overflow.
        wait: Duration::try_milliseconds(service_ms.max(0.0) as i64),
        note: None,
    }
}

/// At most `max` bytes of `bytes` as printable text (control characters become
/// spaces; a cut is marked with `…`).
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if bytes.len() > max {
        s.push('…');
    }
    s
}

/// The first `BODY_EXCERPT_BYTES` of a response's body, never more: a receiver that
/// sends 50 MB, or never stops, costs this much and the request timeout.
pub async fn body_excerpt(mut resp: reqwest::Response) -> String {
    let mut buf: Vec<u8> = Vec::new();
    while buf.len() <= BODY_EXCERPT_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    excerpt(&buf, BODY_EXCERPT_BYTES)
}

/// A transport error, with its causes (reqwest's own text names little), and its kind.
pub fn describe(e: &reqwest::Error, https: bool) -> (FailureKind, String) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut depth = 0;
    while let Some(s) = source {
        depth += 1;
        if depth > 8 {
            break;
        }
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    let lower = text.to_ascii_lowercase();
    let tls_words = [
        "tls",
        "certificate",
        "handshake",
        "corrupt message",
        "invalidcontenttype",
    ];
    let kind = if e.is_timeout() {
        FailureKind::Timeout
    } else if https && tls_words.iter().any(|w| lower.contains(w)) {
        FailureKind::Tls
    } else if e.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Connection
    };
    (kind, excerpt(text.as_bytes(), 600))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::minutes(480);

    fn at(raw: &str, speed: f64) -> RetryAfter {
        retry_after(raw.as_bytes(), SystemTime::now(), speed, MAX)
    }

    #[test]
    fn seconds_scale_with_the_clock_and_are_clamped() {
        assert_eq!(at("2", 600.0).wait, Some(Duration::minutes(20)));
        assert_eq!(at(" 120 ", 1.0).wait, Some(Duration::minutes(2)));
        assert_eq!(at("0", 60.0).wait, Some(Duration::zero()));
        // The reproduction, and longer than any integer type.
        for huge in ["99999999999999", "184467440737095516150", &"9".repeat(400)] {
            let r = at(huge, 600.0);
            assert_eq!(r.wait, Some(MAX), "{huge}");
            assert!(r.note.unwrap().contains("clamped"), "{huge}");
        }
        assert_eq!(at("3600", 1000.0).wait, Some(MAX));
    }

    #[test]
    fn malformed_and_negative_values_are_ignored_and_noted() {
        for bad in [
            "-5",
            "soon",
            "1.5",
            "",
            "0x10",
            "+3",
            "Sun, 99 Nov 1994 08:49:37 GMT",
        ] {
            let r = at(bad, 60.0);
            assert_eq!(r.wait, None, "{bad:?}");
            assert!(r.note.unwrap().contains("ignored"), "{bad:?}");
        }
        let r = retry_after(&[0xff, 0xfe, b'1'], SystemTime::now(), 60.0, MAX);
        assert_eq!(r.wait, None);
    }

    #[test]
    fn http_dates_in_every_form() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let later = |s: &str| retry_after(s.as_bytes(), now, 1.0, MAX).wait;
        assert_eq!(
            later("Sun, 06 Nov 1994 08:50:37 GMT"),
            Some(Duration::minutes(1))
        );
        assert_eq!(
            later("Sunday, 06-Nov-94 08:51:37 GMT"),
            Some(Duration::minutes(2))
        );
        assert_eq!(
            later("Sun Nov  6 08:52:37 1994"),
            Some(Duration::minutes(3))
        );
        // In the past: no extra wait. Far future: clamped.
        assert_eq!(
            later("Sat, 05 Nov 1994 08:49:37 GMT"),
            Some(Duration::zero())
        );
        assert_eq!(later("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX));
    }

    #[test]
    fn excerpts_are_bounded_and_printable() {
        let long = vec![b'x'; 10_000];
        let e = excerpt(&long, 512);
        assert_eq!(e.chars().count(), 513);
        assert_eq!(excerpt(b"a\r\nb\x1b", 10), "a  b ");
    }
}
