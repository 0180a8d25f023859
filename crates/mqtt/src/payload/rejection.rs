//! The decoder's one answer besides an event: a refusal that names the topic, a
//! short stable reason (the metrics label) and the field and value at fault.

use serde::{Deserialize, Serialize};

/// Why a message was refused; published on `labflight/v1/rejected` and counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The topic the message came in on, as received.
    pub topic: String,
    /// A short stable code, the metrics label.
    pub reason: String,
    /// The field and value at fault, in words.
    pub detail: String,
}

impl Rejection {
    pub(crate) fn new(topic: &str, reason: &str, detail: impl Into<String>) -> Rejection {
        Rejection {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.topic, self.detail, self.reason)
    }
}
