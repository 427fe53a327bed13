//! Sign-in, API tokens and who the caller is.
//!
//! Passwords are argon2id hashes; tokens are 256 random bits given to the client once and stored
//! only as their SHA-256; sign-in is throttled per account and per client address, in the database
//! so that it holds across several app nodes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use minhu_domain::{Actor, Role};
use rand::RngExt;
use sha2::{Digest, Sha256};

use super::{App, AppError, AppResult, password};
use crate::storage::{NewToken, NewUser, User};

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The bearer token; shown to the client once, stored only as a hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

/// Hashes a password with argon2id and a fresh salt, on the calling thread in memory of its own.
/// For one-shot tools (the CLI); the server hashes through [`App::password_work`], which reuses a
/// fixed set of buffers.
pub fn hash_password(password: &str) -> AppResult<String> {
    password::hash_with_memory(password, &mut Vec::new())
}

/// Whether `password` matches the stored PHC string (false for a malformed hash), on the calling
/// thread in memory of its own; the server checks through [`App::password_work`].
#[must_use]
pub fn verify_password(password: &str, stored: &str) -> bool {
    password::verify_with_memory(password, stored, &mut Vec::new())
}

/// The SHA-256 of a token, hex-encoded: what storage keeps.
#[must_use]
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random secret: 32 bytes, URL-safe base64.
#[must_use]
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password people can type: 16 characters without look-alikes.
#[must_use]
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| {
            let i = rng.random_range(0..ALPHABET.len());
            char::from(ALPHABET.get(i).copied().unwrap_or(b'x'))
        })
        .collect()
}

/// Checks a new password's strength: at least 8 characters, not all digits.
pub fn check_password_strength(password: &str) -> AppResult<()> {
    if password.chars().count() < 8 {
        return Err(AppError::invalid("password", "密码至少需要8位"));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid("password", "密码不能全部为数字"));
    }
    if password.chars().count() > 128 {
        return Err(AppError::invalid("password", "密码不能超过128位"));
    }
    Ok(())
}

impl App {
    /// Signs a user in with a password from a client `address`, giving a new API token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> AppResult<LoginOutcome> {
        let now = self.now();
        let config = &self.config;
        let since = now - Duration::minutes(i64::from(config.login_window_minutes));
        let counts = self
            .store
            .count_login_failures(username, address, since)
            .await?;
        if counts.for_username >= i64::from(config.login_max_failures_per_account)
            || counts.for_address >= i64::from(config.login_max_failures_per_address)
        {
            self.audit(None, "login_throttled", username, None, Some(address))
                .await?;
            return Err(AppError::TooManyAttempts {
                retry_after_minutes: config.login_window_minutes,
            });
        }
        let user = self.store.find_user_by_username(username).await?;
        // One hashing per core at a time, each in a reused buffer (`password_work`).
        let verified = match &user {
            Some(user) => {
                self.password_work
                    .verify(password, &user.password_hash)
                    .await?
            }
            None => {
                // Spend the same time as a real check so that timing does not tell which
                // usernames exist.
                self.password_work.hash(password).await?;
                false
            }
        };
        let user = match user {
            Some(user) if verified && user.active => user,
            _ => {
                self.store
                    .record_login_failure(username, address, now)
                    .await?;
                self.audit(None, "login_failed", username, None, Some(address))
                    .await?;
                return Err(AppError::InvalidCredentials);
            }
        };
        self.store.clear_login_failures(username).await?;
        let token = random_secret();
        let expires_at = now + Duration::hours(i64::from(config.token_ttl_hours));
        self.store
            .create_token(&NewToken {
                token_hash: token_hash(&token),
                user_id: user.id,
                created_at: now,
                expires_at,
            })
            .await?;
        self.audit(Some(user.id), "login", &user.username, None, Some(address))
            .await?;
        let actor = self.actor_for(&user).await?;
        Ok(LoginOutcome {
            token,
            expires_at,
            actor,
        })
    }

    /// The person a bearer token belongs to.
    pub async fn authenticate(&self, token: &str) -> AppResult<Actor> {
        let holder = self
            .store
            .find_token_holder(&token_hash(token), self.now())
            .await?
            .filter(|holder| holder.user.active)
            .ok_or(AppError::Unauthenticated)?;
        self.reference.observe(holder.reference_generation);
        let user = holder.user;
        Ok(Actor {
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            roles: user.roles,
            unit: holder.unit,
        })
    }

    /// Ends a token's life.
    pub async fn logout(&self, token: &str) -> AppResult<()> {
        self.store.delete_token(&token_hash(token)).await?;
        Ok(())
    }

    /// The acting person for a stored user: the user with their unit.
    pub async fn actor_for(&self, user: &User) -> AppResult<Actor> {
        let unit =
            self.store.find_unit(user.unit_id).await?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("user {} has no unit", user.id))
            })?;
        Ok(Actor {
            user_id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            roles: user.roles.clone(),
            unit,
        })
    }

    /// Changes a user's own password after checking the current one.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new_password: &str,
    ) -> AppResult<()> {
        let user = self
            .store
            .find_user(actor.user_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !self
            .password_work
            .verify(current, &user.password_hash)
            .await?
        {
            return Err(AppError::invalid("current_password", "当前密码不正确"));
        }
        check_password_strength(new_password)?;
        let hash = self.password_work.hash(new_password).await?;
        self.store.set_password(user.id, &hash).await?;
        self.audit(Some(user.id), "change_password", &user.username, None, None)
            .await
    }

    /// Creates a user with a password (used by the admin API, the CLI and the demo).
    pub async fn create_user_with_password(
        &self,
        username: &str,
        display_name: &str,
        unit_id: i64,
        roles: &[Role],
        password: &str,
    ) -> AppResult<User> {
        validate_username(username)?;
        if display_name.trim().is_empty() || display_name.chars().count() > 50 {
            return Err(AppError::invalid(
                "display_name",
                "姓名不能为空且不超过50字",
            ));
        }
        if roles.is_empty() {
            return Err(AppError::invalid("roles", "至少需要一个角色"));
        }
        check_password_strength(password)?;
        if self.store.find_unit(unit_id).await?.is_none() {
            return Err(AppError::invalid("unit_id", "所属单位不存在"));
        }
        let password_hash = self.password_work.hash(password).await?;
        Ok(self
            .store
            .create_user(&NewUser {
                username: username.to_owned(),
                display_name: display_name.trim().to_owned(),
                unit_id,
                roles: roles.to_vec(),
                password_hash,
            })
            .await?)
    }
}

/// Usernames: 2–32 characters of ASCII letters, digits, `_`, `-`, `.`.
pub fn validate_username(username: &str) -> AppResult<()> {
    let ok_len = (2..=32).contains(&username.len());
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            "用户名须为2到32位字母、数字、下划线、点或连字符",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_secret();
        let b = random_secret();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(random_password().len(), 16);
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(validate_username("unit_water1").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("张三").is_err());
        assert!(check_password_strength("12345678").is_err());
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("demo-pass-1").is_ok());
    }
}
