//! One-off calls an operator makes when connecting the chat platforms (`phananh chat …`).

use phananh_channels::{ChatConfig, messenger, viber};

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
