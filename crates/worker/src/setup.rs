//! One-off calls an operator makes when connecting the chat platforms (`phananh chat …`).

use phananh_channels::{ChatConfig, messenger, telegram, viber};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Registers `url` as the Viber bot's webhook. Viber calls it at once to check it.
pub async fn viber_set_webhook(cfg: &ChatConfig, url: &str) -> Result<String, String> {
    if !cfg.viber_enabled() {
        return Err(
            "no Viber auth token ([chat] viber_auth_token / PHANANH_VIBER_AUTH_TOKEN)".into(),
        );
    }
    let resp = client()
        .post(format!(
            "{}/set_webhook",
            cfg.viber_api_url.trim_end_matches('/')
        ))
        .header("X-Viber-Auth-Token", &cfg.viber_auth_token)
        .json(&viber::set_webhook_body(url))
        .send()
        .await
        .map_err(|e| format!("Viber: {}", crate::http_error(e)))?;
    let answer: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| format!("Viber: {}", crate::http_error(e)))?;
    match answer["status"].as_i64() {
        Some(0) => Ok(format!(
            "Viber webhook set to {url}: {}",
            answer["event_types"]
        )),
        _ => Err(format!("Viber refused: {answer}")),
    }
}

/// Checks the Messenger settings: the secrets are there and the Page token works.
pub async fn messenger_check(cfg: &ChatConfig) -> Result<String, String> {
    let mut missing = Vec::new();
    for (name, v) in [
        ("messenger_verify_token", &cfg.messenger_verify_token),
        ("messenger_app_secret", &cfg.messenger_app_secret),
        ("messenger_page_token", &cfg.messenger_page_token),
    ] {
        if v.is_empty() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(format!("[chat] is missing: {}", missing.join(", ")));
    }
    // The token in the Authorization header; a GET has no body, so the proof (an HMAC of
    // the token, which reveals neither it nor the app secret) stays in the query.
    let url = format!(
        "{}/me?fields=id,name&appsecret_proof={}",
        cfg.graph_url.trim_end_matches('/'),
        messenger::appsecret_proof(&cfg.messenger_app_secret, &cfg.messenger_page_token)
    );
    let resp = client()
        .get(url)
        .bearer_auth(&cfg.messenger_page_token)
        .send()
        .await
        .map_err(|e| format!("Graph API: {}", crate::http_error(e)))?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "Graph API {status}: {}",
            answer["error"]["message"]
        ));
    }
    if !cfg.messenger_page_id.is_empty() && answer["id"] != cfg.messenger_page_id.as_str() {
        return Err(format!(
            "the token belongs to page {} (\"{}\"), not {}",
            answer["id"], answer["name"], cfg.messenger_page_id
        ));
    }
    Ok(format!(
        "Messenger: page {} (\"{}\") reachable; webhook path /webhooks/messenger",
        answer["id"].as_str().unwrap_or(""),
        answer["name"].as_str().unwrap_or("")
    ))
}

/// Registers `url` as the Telegram bot's webhook, with the secret token Telegram will
/// present on every update. The token is in the call's URL path: no error here shows it.
pub async fn telegram_set_webhook(cfg: &ChatConfig, url: &str) -> Result<String, String> {
    if cfg.telegram_bot_token.is_empty() {
        return Err(
            "no Telegram bot token ([chat] telegram_bot_token / PHANANH_TELEGRAM_BOT_TOKEN)".into(),
        );
    }
    if !telegram::valid_secret_token(&cfg.telegram_secret_token) {
        return Err("[chat] telegram_secret_token / PHANANH_TELEGRAM_SECRET_TOKEN must be 1–256 characters of A-Z a-z 0-9 _ -".into());
    }
    if !url.starts_with("https://") {
        return Err("Telegram sends updates to https:// URLs only".into());
    }
    let resp = client()
        .post(telegram_method(cfg, "setWebhook"))
        .json(&telegram::set_webhook_body(url, &cfg.telegram_secret_token))
        .send()
        .await
        .map_err(|e| format!("Telegram: {}", crate::http_error(e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("Telegram: {}", crate::http_error(e)))?;
    match telegram::api_result(status, &body) {
        Ok(_) => Ok(format!(
            "Telegram webhook set to {url} (updates carry the secret token)"
        )),
        Err(e) => Err(crate::redact(
            &format!("Telegram refused: {}", e.message),
            std::slice::from_ref(&cfg.telegram_bot_token),
        )),
    }
}

/// A Bot API method's URL. It holds the bot token: never log or show it.
pub(crate) fn telegram_method(cfg: &ChatConfig, method: &str) -> String {
    format!(
        "{}/bot{}/{method}",
        cfg.telegram_api_url.trim_end_matches('/'),
        cfg.telegram_bot_token
    )
}
