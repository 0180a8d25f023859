//! What protects sign-in and sessions across requests: the login throttles
//! (per user name and per source address), the password-hashing slots, the
//! cookie policy and the signal open live feeds re-check their session on.

use crate::error::ApiError;
use crate::limits;
use axum::http::StatusCode;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// What protects sign-in and sessions, shared by every request: the login
/// throttles, the password-hashing slots, whether cookies are `Secure`, and the
/// signal open live feeds re-check their session on.
pub struct Guard {
    per_user: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    hashing: Semaphore,
    /// Set `Secure` on the session cookie (the service is reached over https).
    pub secure_cookies: bool,
    /// Bumped whenever sessions end (sign-out, password change).
    sessions_ended: watch::Sender<u64>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

impl Default for Guard {
    fn default() -> Guard {
        Guard::new(false)
    }
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least one"))
}

/// How long until a key of `limiter` may try again, or `None` when it may now.
fn throttled<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K, every: Duration) -> Option<Duration>
where
    K: Clone + Eq + std::hash::Hash,
{
    if limiter.len() >= limits::LOGIN_KEYS {
        limiter.retain_recent();
        limiter.shrink_to_fit();
        if limiter.len() >= limits::LOGIN_KEYS {
            // Still full of recent keys: refuse rather than grow.
            return Some(every);
        }
    }
    limiter
        .check_key(key)
        .err()
        .map(|not_until| not_until.wait_time_from(limiter.clock().now()))
}

impl Guard {
    /// Fresh throttles and slots; `secure_cookies` when the service is reached over https.
    pub fn new(secure_cookies: bool) -> Guard {
        Guard {
            per_user: RateLimiter::keyed(quota(
                limits::LOGIN_PER_USER_BURST,
                limits::LOGIN_PER_USER_EVERY,
            )),
            per_address: RateLimiter::keyed(quota(
                limits::LOGIN_PER_ADDRESS_BURST,
                limits::LOGIN_PER_ADDRESS_EVERY,
            )),
            hashing: Semaphore::new(limits::HASHING_AT_ONCE),
            secure_cookies,
            sessions_ended: watch::channel(0).0,
        }
    }

    /// Counts one sign-in attempt for `user` from `address`; `Err(wait)` when
    /// either has tried too often (the address is checked first).
    pub fn admit_login(&self, user: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        if let Some(ip) = address
            && let Some(wait) = throttled(&self.per_address, &ip, limits::LOGIN_PER_ADDRESS_EVERY)
        {
            return Err(wait);
        }
        let key: String = user
            .trim()
            .to_lowercase()
            .chars()
            .take(limits::USER_NAME)
            .collect();
        match throttled(&self.per_user, &key, limits::LOGIN_PER_USER_EVERY) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Runs `work` (argon2) on a blocking thread once a hashing slot is free, so
    /// a flood of sign-ins never stalls the async workers; 503 when no slot
    /// frees up within [`limits::HASHING_WAIT`].
    pub async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _slot = tokio::time::timeout(limits::HASHING_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| {
                ApiError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "sign-in is busy; try again shortly".into(),
                )
            })?
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)
    }

    /// Tells open live feeds that sessions ended, so they re-check theirs now.
    pub fn sessions_ended(&self) {
        self.sessions_ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever sessions end.
    pub fn watch_sessions(&self) -> watch::Receiver<u64> {
        self.sessions_ended.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_is_throttled_per_user_and_per_address() {
        let guard = Guard::default();
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..limits::LOGIN_PER_USER_BURST {
            assert!(
                guard.admit_login("coord", Some(here)).is_ok(),
                "attempt {i}"
            );
        }
        let wait = guard.admit_login("Coord", Some(here)).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= limits::LOGIN_PER_USER_EVERY,
            "{wait:?}"
        );
        // Another user from the same address is still let in, until the address runs out.
        assert!(guard.admit_login("watcher", Some(here)).is_ok());
        let mut refused = 0;
        for i in 0..limits::LOGIN_PER_ADDRESS_BURST * 2 {
            if guard.admit_login(&format!("user{i}"), Some(here)).is_err() {
                refused += 1;
            }
        }
        assert!(refused > 0, "the address was never throttled");
        // Another address is not held back by this one.
        assert!(
            guard
                .admit_login("someone", Some("192.0.2.2".parse().unwrap()))
                .is_ok()
        );
    }

    #[test]
    fn the_throttle_table_does_not_grow_without_bound() {
        let guard = Guard::default();
        let mut refused = 0;
        for i in 0..(limits::LOGIN_KEYS + 50) as u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            if guard.admit_login(&format!("u{i}"), Some(ip)).is_err() {
                refused += 1;
            }
        }
        assert!(
            guard.per_address.len() <= limits::LOGIN_KEYS,
            "{}",
            guard.per_address.len()
        );
        assert!(
            guard.per_user.len() <= limits::LOGIN_KEYS,
            "{}",
            guard.per_user.len()
        );
        assert!(refused >= 50, "a full table refuses new keys: {refused}");
    }
}
