//! Secrets without a request around them: fresh random tokens, constant-time
//! comparison, argon2 password hashes and the configured tokens' minimum length.
//! Sign-in ([`crate::auth`]) and the error mapping ([`crate::error`]) both use them.

use crate::limits;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `phc` (false when `phc` is not one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh random secret, URL-safe (session tokens, generated passwords).
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub(crate) fn token_digest(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Whether two secrets are equal, in time that depends on neither (their
/// digests are compared, so not even on their lengths).
pub fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes())
        .ct_eq(&Sha256::digest(b.as_bytes()))
        .into()
}

/// A configured token (admin, a lab's) must be at least [`limits::TOKEN_MIN`]
/// characters; the error names its owner, never the token.
pub fn check_token(owner: &str, token: &str) -> Result<(), String> {
    let len = token.chars().count();
    if len < limits::TOKEN_MIN {
        return Err(format!(
            "{owner}: token is {len} characters, at least {} required",
            limits::TOKEN_MIN
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("a-long-enough-token", "a-long-enough-token"));
        assert!(!same_secret("a-long-enough-token", "a-long-enough-tokeN"));
        assert!(!same_secret("a-long-enough-token", "a-long-enough-token-"));
        assert!(!same_secret("", "x"));
    }

    #[test]
    fn a_short_configured_token_is_refused_naming_its_owner_not_the_token() {
        let e = check_token("labs.LAB-CH", "t-ch").unwrap_err();
        assert!(e.contains("labs.LAB-CH"), "{e}");
        assert!(e.contains(&limits::TOKEN_MIN.to_string()), "{e}");
        assert!(!e.contains("t-ch"), "the token leaked: {e}");
        assert!(check_token("admin_token", &"x".repeat(limits::TOKEN_MIN)).is_ok());
    }
}
