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
        if password.chars().count() < MIN_PASSWORD {
            return Err(AppError::invalid(
                "password",
                "password_too_short",
                &format!("Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự"),
                &format!("The password needs at least {MIN_PASSWORD} characters"),
            ));
        }
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

    pub async fn session(&self, token: &str) -> Result<Option<Session>, AppError> {
        Ok(self
            .store
            .session(&token_hash(token), self.clock.now())
            .await?)
    }

    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }
}
