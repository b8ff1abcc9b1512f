//! Satisfaction: the citizen rates the result of their report from 1 to 5 and says whether
//! it is really fixed ("not fixed" reopens it to the same unit). Only the reporter can: the
//! link they receive on their channel carries a token derived from the report's code and a
//! secret kept in the database, so no table of tokens is needed and any past report's link
//! can be recomputed.

use phananh_channels::mac::hmac_sha256;
use phananh_domain::model::Actor;
use phananh_domain::procedure::Command;

use crate::{App, AppError};

const SECRET_KEY: &str = "rating_secret";

impl App {
    async fn rating_secret(&self) -> Result<String, AppError> {
        if let Some(s) = self.store.setting(SECRET_KEY).await? {
            return Ok(s);
        }
        // First use: make one. Two processes racing both write; the later one wins and
        // the store is read again, so every link uses the stored value.
        self.store
            .set_setting(SECRET_KEY, &crate::auth::random_token())
            .await?;
        Ok(self.store.setting(SECRET_KEY).await?.unwrap_or_default())
    }

    /// The token in the reporter's rating link for report `code`.
    pub async fn rating_token(&self, code: &str) -> Result<String, AppError> {
        let secret = self.rating_secret().await?;
        let tag = hmac_sha256(secret.as_bytes(), &[code.as_bytes()]);
        Ok(hex::encode(&tag[..12]))
    }

    /// The rating link for a report (absolute, for messages).
    pub async fn rating_link(&self, base: &str, code: &str) -> Result<String, AppError> {
        Ok(format!(
            "{}/r/{code}/rate?t={}",
            base.trim_end_matches('/'),
            self.rating_token(code).await?
        ))
    }

    /// The reporter rates the result. Refused with a reason: a wrong token (not their
    /// report), a report that is not resolved, a second rating, a score out of range.
    pub async fn rate(
        &self,
        code: &str,
        token: &str,
        score: u8,
        fixed: bool,
        comment: Option<String>,
    ) -> Result<(), AppError> {
        let report = self.find(code).await?;
        let expected = self.rating_token(&report.code).await?;
        let given = token.trim().as_bytes();
        let same = expected.len() == given.len()
            && expected
                .as_bytes()
                .iter()
                .zip(given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(AppError::invalid(
                "token",
                "not_your_report",
                "Liên kết đánh giá không đúng với phản ánh này",
                "This rating link is not for this report",
            ));
        }
        if !matches!(
            report.status,
            phananh_domain::model::Status::Resolved | phananh_domain::model::Status::Closed
        ) {
            return Err(AppError::invalid(
                "score",
                "not_resolved",
                "Phản ánh chưa được xử lý xong nên chưa thể đánh giá",
                "The report is not resolved yet, so it cannot be rated",
            ));
        }
        self.apply(
            report,
            Actor::citizen(),
            Command::Rate {
                score,
                fixed,
                comment,
            },
        )
        .await?;
        Ok(())
    }
}
