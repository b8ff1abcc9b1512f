//! Response templates (`phananh_domain::templates`): per field (NULL: any field) and step.

use phananh_domain::procedure::Action;
use phananh_domain::templates::Template;

use crate::{Result, Store, StoreError, ms};

type Row = (i64, Option<String>, String, String, String, String, i64);

const COLUMNS: &str = "id, field, action, name, text_vi, text_en, automatic";

fn from_row((id, field, action, name, text_vi, text_en, automatic): Row) -> Result<Template> {
    Ok(Template {
        id,
        field,
        action: Action::parse(&action).ok_or_else(|| {
            StoreError::Corrupt(format!("template {id}: unknown action {action}"))
        })?,
        name,
        text_vi,
        text_en,
        automatic: automatic != 0,
    })
}

impl Store {
    /// Every template, oldest first.
    pub async fn templates(&self) -> Result<Vec<Template>> {
        let sql = format!("SELECT {COLUMNS} FROM templates ORDER BY id");
        let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(&self.read).await?;
        rows.into_iter().map(from_row).collect()
    }

    /// The templates of `field` and those for any field, oldest first.
    pub async fn templates_for_field(&self, field: &str) -> Result<Vec<Template>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM templates WHERE field IS NULL OR field = $1 ORDER BY id"
        );
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(field)
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    pub async fn template(&self, id: i64) -> Result<Option<Template>> {
        let sql = format!("SELECT {COLUMNS} FROM templates WHERE id = $1");
        let row: Option<Row> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(from_row).transpose()
    }

    /// Adds `t` (id 0) or replaces the template with its id; returns the id.
    pub async fn save_template(&self, t: &Template) -> Result<i64> {
        let now = ms(self.now());
        if t.id == 0 {
            return Ok(sqlx::query_scalar(
                "INSERT INTO templates (field, action, name, text_vi, text_en, automatic, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&t.field)
            .bind(t.action.as_str())
            .bind(&t.name)
            .bind(&t.text_vi)
            .bind(&t.text_en)
            .bind(t.automatic as i64)
            .bind(now)
            .fetch_one(&self.write)
            .await?);
        }
        let r = sqlx::query(
            "UPDATE templates SET field = $1, action = $2, name = $3, text_vi = $4, text_en = $5, \
             automatic = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&t.field)
        .bind(t.action.as_str())
        .bind(&t.name)
        .bind(&t.text_vi)
        .bind(&t.text_en)
        .bind(t.automatic as i64)
        .bind(now)
        .bind(t.id)
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(t.id)
    }

    pub async fn delete_template(&self, id: i64) -> Result<()> {
        let r = sqlx::query("DELETE FROM templates WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
