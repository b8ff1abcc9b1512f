//! Staff accounts and sessions: argon2id password hashes, random session tokens stored
//! only as SHA-256 hashes, a CSRF token per session.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use phananh_domain::access::{Principal, Role};
use phananh_storage::{Session, User};
use sha2::{Digest, Sha256};

use crate::{App, AppError};

pub const SESSION_HOURS: i64 = 12;
pub const MIN_PASSWORD: usize = 10;
/// How long an admin's password reset link works.
pub const RESET_HOURS: i64 = 24;

fn check_new_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::invalid(
            "password",
            "password_too_short",
            &format!("Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự"),
            &format!("The password needs at least {MIN_PASSWORD} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid(
            "password",
            "password_too_long",
            "Mật khẩu dài quá 1024 byte",
            "The password is longer than 1,024 bytes",
        ));
    }
    Ok(())
}

/// A random token for cookies and CSRF fields.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id (the crate's default parameters, OWASP-compatible).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

pub fn principal(user: &User) -> Principal {
    Principal {
        user_id: user.id,
        name: user.name.clone(),
        role: user.role,
        unit: user.unit.clone(),
    }
}

impl App {
    /// Forgets the sessions whose time is up (the server's upkeep calls this).
    pub async fn delete_expired_sessions(&self) -> Result<u64, AppError> {
        Ok(self.store.delete_expired_sessions(self.clock.now()).await?)
    }

    /// Creates a staff account after checking role, unit and password length.
    pub async fn add_user(
        &self,
        email: &str,
        name: &str,
        role: Role,
        unit: Option<&str>,
        password: &str,
    ) -> Result<i64, AppError> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(AppError::invalid(
                "email",
                "invalid_email",
                "Email không hợp lệ",
                "Invalid email",
            ));
        }
        check_new_password(password)?;
        let unit = self.check_role_unit(role, unit).await?;
        let hash = hash_password(password.to_string()).await?;
        let name = if name.trim().is_empty() {
            email.as_str()
        } else {
            name.trim()
        };
        Ok(self
            .store
            .create_user(&email, name, role, unit.as_deref(), &hash)
            .await?)
    }

    /// Unit roles need an existing unit; other roles have none.
    pub async fn check_role_unit(
        &self,
        role: Role,
        unit: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        match (role.needs_unit(), unit) {
            (true, None) => Err(AppError::invalid(
                "unit",
                "unit_required",
                "Vai trò này cần chọn đơn vị",
                "This role needs a unit",
            )),
            (true, Some(u)) if self.catalog().await.unit(u).is_none() => Err(AppError::invalid(
                "unit",
                "unknown_unit",
                "Đơn vị không có trong danh sách",
                "Unknown unit",
            )),
            (true, Some(u)) => Ok(Some(u.to_string())),
            (false, _) => Ok(None),
        }
    }

    /// Checks a password and opens a session; returns (cookie token, session).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        lang: &str,
    ) -> Result<(String, Session), AppError> {
        let user = self.store.user_by_email(email).await?;
        let ok = match &user {
            Some(u) => verify_password(password.to_string(), u.password_hash.clone()).await,
            None => {
                // Spend the same time as for a known email, so timing tells nothing.
                let _ = hash_password(password.to_string()).await;
                false
            }
        };
        let user = match user {
            Some(u) if ok && u.active => u,
            _ => {
                self.metrics
                    .logins_failed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Err(AppError::BadCredentials);
            }
        };
        let token = random_token();
        let csrf = random_token();
        let expires = self.clock.now() + Duration::hours(SESSION_HOURS);
        self.store
            .create_session(&token_hash(&token), user.id, &csrf, lang, expires)
            .await?;
        Ok((
            token,
            Session {
                user,
                csrf,
                lang: lang.to_string(),
                expires_at: expires,
            },
        ))
    }

    /// Remembers the language a signed-in person chose, for this session.
    pub async fn set_session_lang(&self, session_token: &str, lang: &str) -> Result<(), AppError> {
        Ok(self
            .store
            .set_session_lang(&crate::auth::token_hash(session_token), lang)
            .await?)
    }

    pub async fn session(&self, token: &str) -> Result<Option<Session>, AppError> {
        Ok(self
            .store
            .session(&token_hash(token), self.clock.now())
            .await?)
    }

    /// A signed-in user changes their own password: the current one is required, and every
    /// other session of theirs ends (this one, `session_token`, stays).
    pub async fn change_password(
        &self,
        user_id: i64,
        session_token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        let user = self.store.user(user_id).await?.ok_or(AppError::NotFound)?;
        if !verify_password(current.to_string(), user.password_hash.clone()).await {
            return Err(AppError::invalid(
                "current",
                "wrong_password",
                "Mật khẩu hiện tại không đúng",
                "The current password is wrong",
            ));
        }
        check_new_password(new)?;
        let hash = hash_password(new.to_string()).await?;
        self.store
            .set_password_keeping(user_id, &hash, &token_hash(session_token))
            .await?;
        tracing::info!(user_id, "password changed; other sessions ended");
        Ok(())
    }

    /// An admin issues a one-time reset link token for `user_id`, valid [`RESET_HOURS`].
    /// Returns the token (shown once; only its hash is stored). Earlier links stop working.
    pub async fn issue_password_reset(
        &self,
        by: &Principal,
        user_id: i64,
    ) -> Result<String, AppError> {
        if !by.can_admin() {
            return Err(AppError::Forbidden);
        }
        let user = self.store.user(user_id).await?.ok_or(AppError::NotFound)?;
        if !user.active {
            return Err(AppError::invalid(
                "user",
                "user_inactive",
                "Tài khoản đã bị khóa; hãy mở lại trước",
                "The account is disabled; enable it first",
            ));
        }
        let token = random_token();
        let now = self.clock.now();
        self.store
            .create_password_reset(
                &token_hash(&token),
                user_id,
                by.user_id,
                now,
                now + Duration::hours(RESET_HOURS),
            )
            .await?;
        tracing::info!(user_id, by = by.user_id, "password reset link issued");
        Ok(token)
    }

    /// The user a reset link is for, while it works.
    pub async fn password_reset_user(&self, token: &str) -> Result<Option<User>, AppError> {
        Ok(self
            .store
            .password_reset_user(&token_hash(token), self.clock.now())
            .await?)
    }

    /// Uses a reset link once: sets the password and ends all the user's sessions.
    pub async fn reset_password(&self, token: &str, new: &str) -> Result<(), AppError> {
        check_new_password(new)?;
        if self.password_reset_user(token).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let hash = hash_password(new.to_string()).await?;
        match self
            .store
            .use_password_reset(&token_hash(token), &hash, self.clock.now())
            .await?
        {
            Some(user_id) => {
                tracing::info!(user_id, "password reset by link; sessions ended");
                Ok(())
            }
            None => Err(AppError::NotFound),
        }
    }

    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }
}
