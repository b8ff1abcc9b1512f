//! `phananh`: serve, manage users, move city profiles.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use phananh::{Config, open_app, start};
use phananh_app::SystemClock;
use phananh_domain::access::Role;
use phananh_domain::profile::Profile;

#[derive(Parser)]
#[command(
    name = "phananh",
    version,
    about = "Tiếp nhận và xử lý phản ánh của người dân / Citizen reports for a city"
)]
struct Cli {
    /// Configuration file (default: ./phananh.toml if present).
    #[arg(long, global = true, env = "PHANANH_CONFIG")]
    config: Option<PathBuf>,
    /// Database: a file path or sqlite:// URL (SQLite), or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and the worker.
    Serve {
        /// Address to listen on (default 127.0.0.1:8022).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and load the default profile, then exit.
    Migrate,
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The city profile (units, fields, wards, rules, calendar) as one JSON file.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// API keys of integrators (Open311).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The report to the City People's Committee, as an Excel file.
    Report {
        /// "month" or "week": the last complete one.
        #[arg(long, default_value = "month")]
        period: String,
        /// Where to write it: FILE.xlsx (Excel) or FILE.pdf.
        #[arg(long)]
        out: PathBuf,
    },
    /// A consistent copy of the SQLite database in FILE, taken while the server runs
    /// (refuses an existing FILE). For PostgreSQL, use pg_dump (docs/RELIABILITY.md).
    Backup { file: PathBuf },
    /// Print the effective configuration (file, environment, command line), with every
    /// setting's environment variables; secrets are masked.
    Config,
    /// Connect the chat platforms (settings in [chat] or PHANANH_MESSENGER_* / PHANANH_VIBER_* /
    /// PHANANH_TELEGRAM_*, PHANANH_ZALO_*).
    Chat {
        #[command(subcommand)]
        command: ChatCommand,
    },
}

#[derive(Subcommand)]
enum ChatCommand {
    /// Register this server's Viber webhook (the public HTTPS URL of /webhooks/viber).
    ViberWebhook { url: String },
    /// Check the Messenger settings and that the Page token works.
    MessengerCheck,
    /// Register this server's Telegram webhook (the public HTTPS URL of /webhooks/telegram)
    /// with the configured secret token.
    TelegramWebhook { url: String },
    /// Check the Zalo OA settings and tokens (refreshing the stored pair when due) and
    /// that the OA answers.
    ZaloCheck {
        /// Read a new refresh token (from authorising the OA again) from standard input;
        /// it replaces the stored chain.
        #[arg(long)]
        new_refresh_token: bool,
        /// Refresh the access token now, even if it is still valid.
        #[arg(long)]
        refresh: bool,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; it is printed once and stored only as a hash.
    Add {
        #[arg(long)]
        name: String,
        /// Requests per minute allowed with this key.
        #[arg(long)]
        rate: Option<u32>,
    },
    /// List keys (prefixes only).
    List,
    /// Revoke a key by id.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List staff accounts.
    List,
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Write the current profile to FILE ("-" for standard output).
    Export { file: PathBuf },
    /// Replace the profile with the one in FILE.
    Import { file: PathBuf },
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(Some(
        cli.config.as_deref().unwrap_or("phananh.toml".as_ref()),
    ))?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    init_logs(&config.log_format);
    let clock = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            let running = start(&config, clock).await?;
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            running.stop().await;
        }
        Command::Config => print!("{}", config.render()),
        Command::Migrate => {
            open_app(&config, clock).await?;
            println!("ok");
        }
        Command::User { command } => {
            let (app, store) = phananh::open(&config, clock).await?;
            match command {
                UserCommand::Add {
                    role,
                    unit,
                    email,
                    name,
                } => {
                    let role = Role::parse(&role).with_context(|| {
                        format!(
                            "unknown role {role}; one of: {}",
                            Role::ALL
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?;
                    let mut password = String::new();
                    std::io::stdin().read_to_string(&mut password)?;
                    let password = password.trim_end_matches(['\n', '\r']);
                    let id = app
                        .add_user(&email, &name, role, unit.as_deref(), password)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message()))?;
                    println!("created user {id} ({email}, {})", role.as_str());
                }
                UserCommand::List => {
                    for u in store.users().await? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            u.id,
                            u.email,
                            u.role.as_str(),
                            u.unit.unwrap_or_default(),
                            if u.active { "active" } else { "disabled" }
                        );
                    }
                }
            }
        }
        Command::Apikey { command } => {
            let (app, store) = phananh::open(&config, clock).await?;
            match command {
                ApikeyCommand::Add { name, rate } => {
                    let (id, key) = app
                        .create_api_key(&name, rate)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message()))?;
                    eprintln!("API key {id} for {name} (shown once, keep it safe):");
                    println!("{key}");
                }
                ApikeyCommand::List => {
                    for k in store.api_keys().await? {
                        println!(
                            "{}\t{}\t{}…\t{}/min\t{}",
                            k.id,
                            k.name,
                            k.prefix,
                            k.rate_per_minute,
                            if k.active { "active" } else { "revoked" }
                        );
                    }
                }
                ApikeyCommand::Revoke { id } => {
                    store.revoke_api_key(id).await?;
                    eprintln!("API key {id} revoked");
                }
            }
        }
        Command::Report { period, out } => {
            let app = open_app(&config, clock).await?;
            let p = phananh_app::committee::Period::parse(&period)
                .context("--period is \"month\" or \"week\"")?;
            let (from, to, label) = p.last_complete(app.clock.now());
            let started = std::time::Instant::now();
            let who = phananh_app::committee::committee_principal();
            let bytes = if out.extension().is_some_and(|e| e == "pdf") {
                app.committee_pdf(&who, from, to, &label).await
            } else {
                app.committee_workbook(&who, from, to, &label).await
            }
            .map_err(|e| anyhow::anyhow!(e.message()))?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "{label}: written to {} in {:.2} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Backup { file } => {
            let normalised = phananh_storage::normalise_url(&config.database_url);
            if !normalised.starts_with("sqlite:") {
                anyhow::bail!(
                    "backup works on SQLite; for PostgreSQL run: pg_dump --format=custom --file=FILE DATABASE_URL (docs/RELIABILITY.md)"
                );
            }
            anyhow::ensure!(
                !file.exists(),
                "{} exists; choose a new file",
                file.display()
            );
            let started = std::time::Instant::now();
            let store = phananh_storage::Store::open(&config.database_url)
                .await
                .with_context(|| format!("opening the database {}", config.database_url))?;
            store.backup_to(&file).await?;
            eprintln!(
                "backup written to {} in {:.2} s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Chat {
            command:
                ChatCommand::ZaloCheck {
                    new_refresh_token,
                    refresh,
                },
        } => {
            // From standard input, so the token is not in the process list or the history.
            let new_token = if new_refresh_token {
                let mut t = String::new();
                std::io::stdin().read_to_string(&mut t)?;
                Some(t.trim().to_string())
            } else {
                None
            };
            let (app, _store) = phananh::open(&config, clock).await?;
            match phananh_worker::zalo::check(&app, &config.chat, new_token.as_deref(), refresh)
                .await
            {
                Ok(msg) => println!("{msg}"),
                Err(e) => anyhow::bail!(e),
            }
        }
        Command::Chat { command } => {
            let result = match command {
                ChatCommand::ViberWebhook { url } => {
                    phananh_worker::setup::viber_set_webhook(&config.chat, &url).await
                }
                ChatCommand::MessengerCheck => {
                    phananh_worker::setup::messenger_check(&config.chat).await
                }
                ChatCommand::TelegramWebhook { url } => {
                    phananh_worker::setup::telegram_set_webhook(&config.chat, &url).await
                }
                ChatCommand::ZaloCheck { .. } => unreachable!("handled above"),
            };
            match result {
                Ok(msg) => println!("{msg}"),
                Err(e) => anyhow::bail!(e),
            }
        }
        Command::Profile { command } => {
            let (_app, store) = phananh::open(&config, clock).await?;
            match command {
                ProfileCommand::Export { file } => {
                    let profile = store.export_profile().await?.context("no profile loaded")?;
                    let text = serde_json::to_string_pretty(&profile)?;
                    if file.as_os_str() == "-" {
                        println!("{text}");
                    } else {
                        std::fs::write(&file, text)
                            .with_context(|| format!("writing {}", file.display()))?;
                        eprintln!("profile written to {}", file.display());
                    }
                }
                ProfileCommand::Import { file } => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let profile: Profile = serde_json::from_str(&text)
                        .with_context(|| format!("parsing {}", file.display()))?;
                    let problems = profile.problems();
                    if !problems.is_empty() {
                        anyhow::bail!("the profile has problems:\n- {}", problems.join("\n- "));
                    }
                    store.import_profile(&profile).await?;
                    eprintln!(
                        "profile imported: {} wards, {} units, {} fields, {} rules",
                        profile.wards.len(),
                        profile.units.len(),
                        profile.fields.len(),
                        profile.rules.len()
                    );
                }
            }
        }
    }
    Ok(())
}
