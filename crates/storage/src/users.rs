//! Staff users and their sessions. Passwords arrive here already hashed (argon2id) and
//! session tokens as hashes: the database never holds a secret that logs someone in.

use chrono::{DateTime, Utc};
use phananh_domain::access::Role;

use crate::{Result, Store, StoreError, from_ms, ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub unit: Option<String>,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub lang: String,
    pub expires_at: DateTime<Utc>,
}

type UserRow = (i64, String, String, String, Option<String>, String, i64);

fn user_from(row: UserRow) -> Result<User> {
    let (id, email, name, role, unit, password_hash, active) = row;
    Ok(User {
        id,
        email,
        name,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        unit,
        password_hash,
        active: active != 0,
    })
}

const USER_COLUMNS: &str = "id, email, name, role, unit, password_hash, active";

impl Store {
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        role: Role,
        unit: Option<&str>,
        password_hash: &str,
    ) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (email, name, role, unit, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(email.trim().to_lowercase())
        .bind(name)
        .bind(role.as_str())
        .bind(unit)
        .bind(password_hash)
        .bind(ms(self.now()))
        .fetch_optional(&self.write)
        .await?;
        id.ok_or_else(|| StoreError::Conflict(format!("email {email} is taken")))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.read)
            .await?;
        row.map(user_from).transpose()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(user_from).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY role, email");
        let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(&self.read).await?;
        rows.into_iter().map(user_from).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }

    pub async fn update_user(
        &self,
        id: i64,
        role: Role,
        unit: Option<&str>,
        active: bool,
    ) -> Result<()> {
        let r = sqlx::query("UPDATE users SET role = $1, unit = $2, active = $3 WHERE id = $4")
            .bind(role.as_str())
            .bind(unit)
            .bind(active as i64)
            .bind(id)
            .execute(&self.write)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Sets a new password and ends the user's sessions everywhere.
    pub async fn set_password(&self, id: i64, password_hash: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password and ends the user's other sessions (all but `keep_token_hash`,
    /// the one that asked for the change).
    pub async fn set_password_keeping(
        &self,
        id: i64,
        password_hash: &str,
        keep_token_hash: &str,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(keep_token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a reset link's token hash for `user_id`; earlier unused links of that user
    /// stop working.
    pub async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: i64,
        created_by: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1 OR expires_at <= $2")
            .bind(user_id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(created_by)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user a reset link is for, if it is unused and unexpired.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM password_resets \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&self.read)
        .await?;
        match id {
            Some(id) => Ok(self.user(id).await?.filter(|u| u.active)),
            None => Ok(None),
        }
    }

    /// Uses a reset link: marks it used, sets the password and ends all the user's
    /// sessions, in one transaction. `None` if the link is unknown, used or expired (a link
    /// used twice at once works once).
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
        )
        .bind(ms(now))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND active = 1")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The token hashes of the reset links that still work (for audits and tests).
    pub async fn live_password_reset_hashes(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT token_hash FROM password_resets WHERE used_at IS NULL AND expires_at > $1 \
             ORDER BY created_at",
        )
        .bind(ms(now))
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        lang: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, lang, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(lang)
        .bind(ms(self.now()))
        .bind(ms(expires_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The live session for a token hash, with its (active) user.
    pub async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT csrf, lang, expires_at, user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&self.read)
        .await?;
        let Some((csrf, lang, expires_at, user_id)) = row else {
            return Ok(None);
        };
        let Some(user) = self.user(user_id).await? else {
            return Ok(None);
        };
        if !user.active {
            return Ok(None);
        }
        Ok(Some(Session {
            user,
            csrf,
            lang,
            expires_at: from_ms(expires_at),
        }))
    }

    pub async fn set_session_lang(&self, token_hash: &str, lang: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET lang = $1 WHERE token_hash = $2")
            .bind(lang)
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.write)
            .await?
            .rows_affected())
    }
}
