//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), so that a health
//! centre's endpoint can tell that a result or status notice really comes from labflight,
//! was not altered on the way, and is not an old message replayed.
//!
//! A signature is `v1,` followed by the base64 of HMAC-SHA256 over
//! `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the subscription's secret
//! (`whsec_` + base64 of the key bytes). The receiver checks the timestamp against its own
//! clock within a tolerance (5 minutes by default) and compares signatures in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the message id, unique per message (and kept across retries).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the send time in whole seconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying one or more space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The prefix of a serialized secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from the receiver's clock, either way, by default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// A signing key. Its `Debug` form never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    /// It lacks the `whsec_` prefix.
    #[error("webhook secret: {shown:?} does not start with \"whsec_\"")]
    MissingPrefix {
        /// The start of what was given.
        shown: String,
    },
    /// The key is not base64.
    #[error("webhook secret: the part after \"whsec_\" is not valid base64: {reason}")]
    BadBase64 {
        /// What the decoder said.
        reason: String,
    },
    /// The key is empty.
    #[error("webhook secret: the key is empty")]
    Empty,
}

impl Secret {
    /// Reads a `whsec_<base64>` secret.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let Some(encoded) = text.strip_prefix(SECRET_PREFIX) else {
            return Err(SecretError::MissingPrefix {
                shown: redact(text),
            });
        };
        let key = B64.decode(encoded).map_err(|e| SecretError::BadBase64 {
            reason: e.to_string(),
        })?;
        Self::from_bytes(key)
    }

    /// Wraps raw key bytes (e.g. freshly generated random bytes).
    pub fn from_bytes(key: Vec<u8>) -> Result<Self, SecretError> {
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(key))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length; `from_bytes` has ruled out nothing it would refuse.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// Shows at most the first few characters of something that may be a secret.
fn redact(text: &str) -> String {
    let head: String = text.chars().take(4).collect();
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        head
    }
}

impl FromStr for Secret {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The serialized `whsec_<base64>` form, to hand to a subscriber once.
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", B64.encode(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

/// The `v1,<base64>` signature of one message.
pub fn sign(secret: &Secret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let tag = secret
        .mac(msg_id, &timestamp_secs.to_string(), body)
        .finalize()
        .into_bytes();
    format!("v1,{}", B64.encode(tag))
}

/// The three headers to send with a message: `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`, in that order.
pub fn headers(
    secret: &Secret,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        (HEADER_ID, msg_id.to_string()),
        (HEADER_TIMESTAMP, timestamp_secs.to_string()),
        (HEADER_SIGNATURE, sign(secret, msg_id, timestamp_secs, body)),
    ]
}

/// The webhook headers of a received request, each `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

impl<'a> WebhookHeaders<'a> {
    /// Picks the three headers out of (name, value) pairs, ignoring case in names.
    pub fn from_pairs<I>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut found = Self::default();
        for (name, value) in pairs {
            if name.eq_ignore_ascii_case(HEADER_ID) {
                found.id = Some(value);
            } else if name.eq_ignore_ascii_case(HEADER_TIMESTAMP) {
                found.timestamp = Some(value);
            } else if name.eq_ignore_ascii_case(HEADER_SIGNATURE) {
                found.signature = Some(value);
            }
        }
        found
    }
}

/// Why a received message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// A header is missing or empty.
    #[error("header {header}: missing or empty")]
    MissingHeader {
        /// Which.
        header: &'static str,
    },
    /// The timestamp is not a number of seconds.
    #[error("header webhook-timestamp: {value:?} is not a whole number of seconds since 1970")]
    BadTimestamp {
        /// The header's value.
        value: String,
    },
    /// The message is too old (a replay, or a clock far behind).
    #[error(
        "header webhook-timestamp: {timestamp} is {age} s before now ({now}), more than the {tolerance} s allowed"
    )]
    TooOld {
        /// The message's timestamp (Unix seconds).
        timestamp: i64,
        /// The receiver's clock (Unix seconds).
        now: i64,
        /// How far behind, seconds.
        age: i64,
        /// How far is allowed, seconds.
        tolerance: i64,
    },
    /// The message is from the future (a clock far ahead).
    #[error(
        "header webhook-timestamp: {timestamp} is {ahead} s after now ({now}), more than the {tolerance} s allowed"
    )]
    TooNew {
        /// The message's timestamp (Unix seconds).
        timestamp: i64,
        /// The receiver's clock (Unix seconds).
        now: i64,
        /// How far ahead, seconds.
        ahead: i64,
        /// How far is allowed, seconds.
        tolerance: i64,
    },
    /// No signature in the header matches.
    #[error(
        "header webhook-signature: none of its {count} entries is a valid v1 signature of message {msg_id:?}"
    )]
    NoMatchingSignature {
        /// The message's id.
        msg_id: String,
        /// How many signatures the header held.
        count: usize,
    },
}

/// Checks a received message: all three headers present, the timestamp within
/// `tolerance_secs` of `now_secs`, and at least one `v1` signature matching `body`.
pub fn verify(
    secret: &Secret,
    headers: &WebhookHeaders<'_>,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    fn present<'a>(value: Option<&'a str>, header: &'static str) -> Result<&'a str, VerifyError> {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(VerifyError::MissingHeader { header }),
        }
    }
    let msg_id = present(headers.id, HEADER_ID)?;
    let timestamp_text = present(headers.timestamp, HEADER_TIMESTAMP)?;
    let signatures = present(headers.signature, HEADER_SIGNATURE)?;

    let timestamp: i64 = timestamp_text
        .parse()
        .map_err(|_| VerifyError::BadTimestamp {
            value: timestamp_text.to_string(),
        })?;
    let age = now_secs.saturating_sub(timestamp);
    if age > tolerance_secs {
        return Err(VerifyError::TooOld {
            timestamp,
            now: now_secs,
            age,
            tolerance: tolerance_secs,
        });
    }
    if -age > tolerance_secs {
        return Err(VerifyError::TooNew {
            timestamp,
            now: now_secs,
            ahead: -age,
            tolerance: tolerance_secs,
        });
    }

    // Sign the timestamp text as received: it is what the sender signed.
    let expected = secret.mac(msg_id, timestamp_text, body);
    let mut count = 0;
    for entry in signatures.split_whitespace() {
        count += 1;
        let Some(encoded) = entry.strip_prefix("v1,") else {
            continue; // another scheme (e.g. v1a): not ours to check
        };
        let Ok(tag) = B64.decode(encoded) else {
            continue;
        };
        if expected.clone().verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatchingSignature {
        msg_id: msg_id.to_string(),
        count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks specification and libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> Secret {
        Secret::parse(SECRET).unwrap()
    }

    fn hdrs<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> WebhookHeaders<'a> {
        WebhookHeaders {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn official_test_vector() {
        assert_eq!(sign(&secret(), MSG_ID, TS, BODY), SIG);
        let ts = TS.to_string();
        verify(&secret(), &hdrs(MSG_ID, &ts, SIG), BODY, TS, 300).unwrap();
    }

    #[test]
    fn headers_round_trip() {
        let h = headers(&secret(), MSG_ID, TS, BODY);
        assert_eq!(h[0], ("webhook-id", MSG_ID.to_string()));
        assert_eq!(h[1], ("webhook-timestamp", "1614265330".to_string()));
        assert_eq!(h[2], ("webhook-signature", SIG.to_string()));
        let received = WebhookHeaders::from_pairs([
            ("Webhook-Id", h[0].1.as_str()),
            ("Content-Type", "application/fhir+json"),
            ("WEBHOOK-TIMESTAMP", h[1].1.as_str()),
            ("webhook-signature", h[2].1.as_str()),
        ]);
        verify(&secret(), &received, BODY, TS + 10, DEFAULT_TOLERANCE_SECS).unwrap();
    }

    #[test]
    fn secret_display_round_trips_and_debug_hides_key() {
        let s = secret();
        assert_eq!(s.to_string(), SECRET);
        assert_eq!(SECRET.parse::<Secret>().unwrap(), s);
        assert!(!format!("{s:?}").contains("MfKQ"));
    }

    #[test]
    fn bad_secrets() {
        assert!(matches!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::MissingPrefix { .. })
        ));
        let err = Secret::parse("whsec_not*base64!").unwrap_err();
        assert!(matches!(err, SecretError::BadBase64 { .. }), "{err}");
        assert_eq!(Secret::parse("whsec_"), Err(SecretError::Empty));
        assert_eq!(Secret::from_bytes(Vec::new()), Err(SecretError::Empty));
        // The message of a missing prefix never shows the whole would-be key.
        let msg = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("whsec_") && !msg.contains("9r8G"), "{msg}");
    }

    #[test]
    fn tampered_body_fails() {
        let ts = TS.to_string();
        let err = verify(
            &secret(),
            &hdrs(MSG_ID, &ts, SIG),
            br#"{"test": 2432232315}"#,
            TS,
            300,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            VerifyError::NoMatchingSignature { count: 1, .. }
        ));
        assert!(err.to_string().contains("webhook-signature"));
    }

    #[test]
    fn tampered_id_or_timestamp_fails() {
        let ts = TS.to_string();
        assert!(matches!(
            verify(&secret(), &hdrs("msg_other", &ts, SIG), BODY, TS, 300),
            Err(VerifyError::NoMatchingSignature { .. })
        ));
        let ts1 = (TS + 1).to_string();
        assert!(matches!(
            verify(&secret(), &hdrs(MSG_ID, &ts1, SIG), BODY, TS, 300),
            Err(VerifyError::NoMatchingSignature { .. })
        ));
    }

    #[test]
    fn wrong_secret_fails() {
        let other = Secret::from_bytes(b"another key entirely".to_vec()).unwrap();
        let ts = TS.to_string();
        assert!(matches!(
            verify(&other, &hdrs(MSG_ID, &ts, SIG), BODY, TS, 300),
            Err(VerifyError::NoMatchingSignature { .. })
        ));
    }

    #[test]
    fn stale_and_future_timestamps_fail() {
        let ts = TS.to_string();
        let h = hdrs(MSG_ID, &ts, SIG);
        // Exactly at the edge is still accepted.
        verify(&secret(), &h, BODY, TS + 300, 300).unwrap();
        verify(&secret(), &h, BODY, TS - 300, 300).unwrap();
        let err = verify(&secret(), &h, BODY, TS + 301, 300).unwrap_err();
        assert_eq!(
            err,
            VerifyError::TooOld {
                timestamp: TS,
                now: TS + 301,
                age: 301,
                tolerance: 300
            }
        );
        assert!(err.to_string().contains("1614265330"), "{err}");
        let err = verify(&secret(), &h, BODY, TS - 3600, DEFAULT_TOLERANCE_SECS).unwrap_err();
        assert!(
            matches!(err, VerifyError::TooNew { ahead: 3600, .. }),
            "{err}"
        );
    }

    #[test]
    fn bad_timestamp_and_missing_headers() {
        let err = verify(&secret(), &hdrs(MSG_ID, "yesterday", SIG), BODY, TS, 300).unwrap_err();
        assert_eq!(
            err,
            VerifyError::BadTimestamp {
                value: "yesterday".into()
            }
        );
        assert!(err.to_string().contains("\"yesterday\""));
        let ts = TS.to_string();
        for (h, name) in [
            (
                WebhookHeaders {
                    id: None,
                    ..hdrs(MSG_ID, &ts, SIG)
                },
                HEADER_ID,
            ),
            (
                WebhookHeaders {
                    timestamp: Some(""),
                    ..hdrs(MSG_ID, &ts, SIG)
                },
                HEADER_TIMESTAMP,
            ),
            (
                WebhookHeaders {
                    signature: None,
                    ..hdrs(MSG_ID, &ts, SIG)
                },
                HEADER_SIGNATURE,
            ),
        ] {
            assert_eq!(
                verify(&secret(), &h, BODY, TS, 300),
                Err(VerifyError::MissingHeader { header: name })
            );
        }
    }

    #[test]
    fn multiple_signatures_one_valid() {
        let ts = TS.to_string();
        // Key rotation: an old-key signature, a foreign scheme, junk, then the valid one.
        let old = Secret::from_bytes(b"old key".to_vec()).unwrap();
        let header = format!(
            "{} v1a,AAAA v1,not-base64!! {SIG}",
            sign(&old, MSG_ID, TS, BODY)
        );
        verify(&secret(), &hdrs(MSG_ID, &ts, &header), BODY, TS, 300).unwrap();
        // The same list without the valid one fails, counting every entry.
        let header = format!("{} v1a,AAAA", sign(&old, MSG_ID, TS, BODY));
        assert!(matches!(
            verify(&secret(), &hdrs(MSG_ID, &ts, &header), BODY, TS, 300),
            Err(VerifyError::NoMatchingSignature { count: 2, .. })
        ));
    }

    #[test]
    fn truncated_signature_fails() {
        let ts = TS.to_string();
        // verify_slice wants the full tag: a prefix of the right tag must not pass.
        let short = "v1,g0hM9SsE+OTPJTGt";
        assert!(verify(&secret(), &hdrs(MSG_ID, &ts, short), BODY, TS, 300).is_err());
    }
}
