//! User accounts: a name, a role (and a lab for a `lab` user) and an argon2
//! password hash, created or replaced from the CLI and the demo.

use super::roles::Role;
use crate::limits;
use crate::secret::hash_password;
use chrono::Utc;
use labflight_store::User;

/// Checks a new user's name, role and password.
fn check_user(name: &str, role: Role, lab: Option<&str>, password: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > limits::USER_NAME {
        return Err(format!(
            "user name `{}`: 1 to {} characters",
            name.chars().take(limits::USER_NAME).collect::<String>(),
            limits::USER_NAME
        ));
    }
    check_password(name, password)?;
    if (role == Role::Lab) != lab.is_some() {
        return Err(format!(
            "user `{name}`: a lab user names its lab (--lab), other roles do not"
        ));
    }
    Ok(())
}

pub(super) fn check_password(name: &str, password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < limits::PASSWORD_MIN {
        return Err(format!(
            "password for `{name}`: at least {} characters",
            limits::PASSWORD_MIN
        ));
    }
    if len > limits::PASSWORD {
        return Err(format!(
            "password for `{name}`: at most {} characters",
            limits::PASSWORD
        ));
    }
    Ok(())
}

/// Creates or replaces a user (the CLI and the demo); the user's sessions end.
/// The hash is computed on a blocking thread.
pub async fn put_user(
    store: &labflight_store::Store,
    name: &str,
    role: Role,
    lab: Option<&str>,
    password: &str,
) -> Result<(), String> {
    check_user(name, role, lab, password)?;
    let owned = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| e.to_string())??;
    let user = User {
        name: name.into(),
        role: role.as_str().into(),
        lab: lab.map(str::to_owned),
        password_hash,
    };
    store
        .put_user(&user, Utc::now())
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(check_user("u", Role::Viewer, None, "short").is_err());
        assert!(check_user("u", Role::Viewer, None, &"p".repeat(limits::PASSWORD)).is_ok());
        let e = check_user("u", Role::Viewer, None, &"p".repeat(limits::PASSWORD + 1)).unwrap_err();
        assert!(e.contains(&format!("at most {}", limits::PASSWORD)), "{e}");
        let e = check_user(
            &"n".repeat(limits::USER_NAME + 1),
            Role::Viewer,
            None,
            "long enough",
        )
        .unwrap_err();
        assert!(e.contains(&limits::USER_NAME.to_string()), "{e}");
    }
}
