//! How the view writes an instant: RFC 3339 in the day's zone (Shenzhen), to the
//! second, so the page shows local time without converting.

use chrono::FixedOffset;
use labflight_core::Instant;

/// `t` in the day's zone, RFC 3339 to the second.
pub(super) fn local(t: Instant, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
