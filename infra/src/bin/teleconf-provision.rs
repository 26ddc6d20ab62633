//! `teleconf-provision [--demo]`: creates the table, bucket and mail identity named
//! by the environment (`TELECONF_TABLE`, `TELECONF_BUCKET`, `TELECONF_MAIL_FROM`,
//! and `AWS_ENDPOINT_URL` for an emulator) when missing; with `--demo`, seeds the
//! demo account and prints its logins as `email: …` / `password: …` lines, and the
//! month its calls are ready to bill in (`demo month to bill: YYYY-MM`).

use anyhow::Context;
use teleconf_adapters::aws::{AwsSettings, Clients};
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_domain::CallerRole;
use teleconf_infra::{demo, provision};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let demo = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--demo") => true,
        Some(other) => {
            anyhow::bail!("unknown argument {other:?}; usage: teleconf-provision [--demo]")
        }
    };
    let settings = AwsSettings::from_env()?;
    let clients = Clients::load(&settings).await;
    provision::provision(&clients, &settings)
        .await
        .with_context(|| {
            format!(
                "provisioning {} at {}",
                settings.table,
                settings.endpoint_url.as_deref().unwrap_or("AWS")
            )
        })?;
    println!(
        "provisioned: table {}, bucket {}, sender {}",
        settings.table, settings.bucket, settings.mail_from
    );
    if demo {
        let store = DynamoStore::new(clients.dynamodb.clone(), &settings.table);
        let logins = demo::seed(&store, chrono::Utc::now())
            .await
            .context("seeding the demo account")?;
        println!("demo owner (account \"Démo Omnivigil\"):");
        println!("email: {}", logins.owner.email);
        println!("password: {}", logins.owner.password);
        println!("provider admin:");
        println!("email: {}", logins.provider_admin.email);
        println!("password: {}", logins.provider_admin.password);
        println!("finance (the monthly exports):");
        println!("email: {}", logins.finance.email);
        println!("password: {}", logins.finance.password);
        println!("demo month to bill: {}", logins.last_month);
        let conference = &logins.conference;
        println!(
            "demo conference \"{}\" (open until {}):",
            conference.description,
            conference.schedule.end().format("%Y-%m-%d %H:%M UTC")
        );
        println!("access number: {}", logins.access_number.as_str());
        println!("conference number: {}", conference.number.as_str());
        for role in CallerRole::ALL {
            let code = conference.codes.code(role);
            println!("{} code: {}", role.as_str(), code.as_str());
        }
    }
    Ok(())
}
