//! The scheduler and the mailer over a [`Stack`], as the integration tests drive them:
//! the handlers are called in process (no emulator runs Lambda code); the mailer's
//! records come from the stack table's real stream through the same reader the local
//! loop uses.

use std::sync::{Arc, Mutex};

use aws_lambda_events::dynamodb::Event;
use chrono::{DateTime, Utc};
use teleconf_adapters::mail::{Mailer, SesMailer};
use teleconf_adapters::process::system_clock;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_domain::mail::Sender;
use teleconf_domain::messages::Branding;
use teleconf_mailer::stream::StreamReader;

use crate::stack::{Stack, emulator_streams};

/// The portal address the tests' mail links to.
pub const PORTAL_URL: &str = "https://portail.teleconf.example";

/// The mailer's dependencies over `stack`, sending through `mailer`.
pub fn mailer_deps(stack: &Stack, mailer: Arc<dyn Mailer>) -> teleconf_mailer::Deps {
    let branding = Branding::default();
    teleconf_mailer::Deps {
        store: Arc::new(DynamoStore::new(
            stack.clients.dynamodb.clone(),
            &stack.settings.table,
        )),
        mailer,
        blobs: Arc::new(stack.blobs.clone()),
        sender: Sender {
            name: branding.provider_name.clone(),
            address: stack.settings.mail_from.clone(),
        },
        branding,
        portal_url: PORTAL_URL.into(),
        max_attempts: 3,
        lease: chrono::Duration::minutes(2),
        clock: system_clock(),
    }
}

/// The mailer through the emulator's SES, as deployed.
pub fn ses_mailer(stack: &Stack) -> Arc<dyn Mailer> {
    Arc::new(SesMailer::with_name(
        stack.clients.ses.clone(),
        stack.settings.mail_from.clone(),
        Branding::default().provider_name,
    ))
}

/// The mailer reading `stack`'s table stream, and every event it handed the handler.
#[derive(Debug)]
pub struct MailLoop {
    reader: StreamReader,
    /// The deps the handler runs with.
    pub deps: teleconf_mailer::Deps,
    /// Every event handled so far, in order.
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl MailLoop {
    /// A loop over `stack`'s stream from its oldest record.
    pub async fn new(stack: &Stack, deps: teleconf_mailer::Deps) -> Self {
        let streams = emulator_streams().await;
        let reader = StreamReader::open(&stack.clients.dynamodb, streams, &stack.settings.table)
            .await
            .expect("the table's stream");
        Self {
            reader,
            deps,
            events: Arc::default(),
        }
    }

    /// A loop over `stack`'s stream sending through the emulator's SES, as deployed.
    pub async fn over_ses(stack: &Stack) -> Self {
        Self::new(stack, mailer_deps(stack, ses_mailer(stack))).await
    }

    /// Hands every record available now to the mailer's handler (as the local loop
    /// does once per poll); how many were handled successfully.
    pub async fn pump(&mut self) -> usize {
        let deps = self.deps.clone();
        let events = self.events.clone();
        self.reader
            .pump(|event| {
                let deps = deps.clone();
                let events = events.clone();
                async move {
                    events.lock().expect("events").push(event.clone());
                    teleconf_mailer::handle(&event, &deps).await
                }
            })
            .await
            .expect("reading the stream")
    }
}

/// The scheduler's dependencies over `stack`, its reaper off: the tests tick at
/// chosen instants, hours from now, over a table the live media nodes of other
/// tests heartbeat into, and such a tick would take them all for lost. A test of
/// the reaper sets `lost_after` and ticks at the present.
pub fn scheduler_deps(stack: &Stack) -> teleconf_scheduler::Deps {
    teleconf_scheduler::Deps {
        lost_after: chrono::TimeDelta::MAX,
        ..teleconf_scheduler::Deps::new(Arc::new(stack.store.clone()))
    }
}

/// One scheduler tick at `time`, as EventBridge would send it.
pub async fn tick(
    deps: &teleconf_scheduler::Deps,
    time: DateTime<Utc>,
) -> teleconf_scheduler::TickReport {
    teleconf_scheduler::handle(&teleconf_scheduler::scheduled_event(time), deps)
        .await
        .expect("a tick")
}
