//! The authorization matrix through the router: every endpoint × every kind of
//! caller, one expected status per cell (from the domain's permission matrix and the
//! handlers), every cell run, every mismatch reported at once.
//!
//! Where a path takes an id it is a thing of account A; a conference id is one of
//! operator 1's. Mutating cells are harmless (a PATCH writes what is already there)
//! or get a fresh target of their own (each DELETE cell removes its own user,
//! number or conference), so no cell changes what a later cell sees. Signing out
//! ends every token of the caller: that row comes last.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::InvoiceStore;
use teleconf_domain::BlobKey;
use teleconf_domain::testkit::{unique_email, unique_ip_phone_sources};
use teleconf_domain::{Invoice, YearMonth};
use teleconf_tests::api::{
    Member, PASSWORD, World, assigned_number_body, conference_body, encode_plus, source_segment,
    tone_wav,
};

use super::ROUTES;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A's owner.
    Owner,
    /// A's conference administrator.
    Admin,
    /// A's operator who created the conference in the path.
    Op1,
    /// A's other operator.
    Op2,
    /// B's owner.
    Foreign,
    /// The provider's administrator.
    Provider,
    /// No `Authorization` header.
    Anonymous,
}

const CALLERS: [Who; 7] = [
    Who::Owner,
    Who::Admin,
    Who::Op1,
    Who::Op2,
    Who::Foreign,
    Who::Provider,
    Who::Anonymous,
];

/// What `{…}` in the path becomes.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// No placeholder.
    None,
    /// Account A.
    AccountA,
    /// Operator 1 (a user of A).
    UserOp1,
    /// A user of A created for this cell alone.
    FreshUser,
    /// A's access number.
    NumberA,
    /// Account A, and an access number of A assigned for this cell alone.
    FreshNumberOfA,
    /// An IP phone of A added for this cell alone.
    FreshIpPhone,
    /// A's prompt.
    PromptA,
    /// Operator 1's conference.
    ConfOp1,
    /// A conference of operator 1 created for this cell alone.
    FreshConfOp1,
    /// A recording of operator 1's conference.
    RecordingOp1,
    /// The month of A's invoice.
    InvoiceMonth,
}

/// What the request carries.
#[derive(Debug, Clone, Copy)]
enum Payload {
    /// Nothing.
    Empty,
    /// The caller's own credentials (the owner's for the anonymous caller).
    OwnLogin,
    /// A new account with a fresh owner.
    NewAccount,
    /// Account A's name, unchanged.
    SameAccountName,
    /// A new user with a fresh e-mail: an operator, a finance user for the provider.
    NewUser,
    /// Operator 1's name, unchanged.
    SameUserName,
    /// A fresh access number to assign.
    NewNumber,
    /// A's number's notes, unchanged.
    SameNumberNotes,
    /// A fresh IP phone.
    NewIpPhone,
    /// A small WAV.
    Wav,
    /// A conference tomorrow.
    NewConference,
    /// Operator 1's conference's description, unchanged.
    SameDescription,
    /// One invitee.
    Invitation,
    /// A live control (the conference is not running: 422 for its moderators).
    Control,
}

#[derive(Debug)]
struct Row {
    method: Method,
    route: &'static str,
    query: &'static str,
    target: Target,
    payload: Payload,
    /// Owner, admin, op1, op2, foreign owner, provider admin, no token.
    expected: [u16; 7],
}

fn row(
    method: Method,
    route: &'static str,
    query: &'static str,
    target: Target,
    payload: Payload,
    expected: [u16; 7],
) -> Row {
    Row {
        method,
        route,
        query,
        target,
        payload,
        expected,
    }
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Payload as P;
    use Target as T;
    let (get, post, patch, delete) = (Method::GET, Method::POST, Method::PATCH, Method::DELETE);
    vec![
        //                                                                                     owner admin  op1  op2  frgn  prov  anon
        row(get.clone(),    "/healthz",                             "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 200, 200]),
        row(get.clone(),    "/v1/openapi.json",                     "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 200, 200]),
        row(post.clone(),   "/v1/auth/login",                       "", T::None,          P::OwnLogin,        [200, 200, 200, 200, 200, 200, 200]),
        row(get.clone(),    "/v1/me",                               "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 200, 401]),
        row(get.clone(),    "/v1/accounts",                         "", T::None,          P::Empty,           [403, 403, 403, 403, 403, 200, 401]),
        row(post.clone(),   "/v1/accounts",                         "", T::None,          P::NewAccount,      [403, 403, 403, 403, 403, 201, 401]),
        row(get.clone(),    "/v1/accounts/{id}",                    "", T::AccountA,      P::Empty,           [403, 403, 403, 403, 403, 200, 401]),
        row(patch.clone(),  "/v1/accounts/{id}",                    "", T::AccountA,      P::SameAccountName, [403, 403, 403, 403, 403, 200, 401]),
        row(get.clone(),    "/v1/accounts/{id}/numbers",            "", T::AccountA,      P::Empty,           [403, 403, 403, 403, 403, 200, 401]),
        row(post.clone(),   "/v1/accounts/{id}/numbers",            "", T::AccountA,      P::NewNumber,       [403, 403, 403, 403, 403, 201, 401]),
        row(delete.clone(), "/v1/accounts/{id}/numbers/{e164}",     "", T::FreshNumberOfA, P::Empty,          [403, 403, 403, 403, 403, 204, 401]),
        row(get.clone(),    "/v1/users",                            "", T::None,          P::Empty,           [200, 403, 403, 403, 200, 200, 401]),
        row(post.clone(),   "/v1/users",                            "", T::None,          P::NewUser,         [201, 403, 403, 403, 201, 201, 401]),
        row(get.clone(),    "/v1/users/{id}",                       "", T::UserOp1,       P::Empty,           [200, 403, 403, 403, 404, 404, 401]),
        row(patch.clone(),  "/v1/users/{id}",                       "", T::UserOp1,       P::SameUserName,    [200, 403, 403, 403, 404, 404, 401]),
        row(delete.clone(), "/v1/users/{id}",                       "", T::FreshUser,     P::Empty,           [204, 403, 403, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/numbers",                          "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 404, 401]),
        // Nobody registers or drops a number on their own: the provider assigns them.
        row(post.clone(),   "/v1/numbers",                          "", T::None,          P::NewNumber,       [405, 405, 405, 405, 405, 405, 405]),
        row(get.clone(),    "/v1/numbers/{e164}",                   "", T::NumberA,       P::Empty,           [200, 200, 200, 200, 404, 404, 401]),
        row(patch.clone(),  "/v1/numbers/{e164}",                   "", T::NumberA,       P::SameNumberNotes, [200, 403, 403, 403, 404, 404, 401]),
        row(delete.clone(), "/v1/numbers/{e164}",                   "", T::NumberA,       P::Empty,           [405, 405, 405, 405, 405, 405, 405]),
        row(get.clone(),    "/v1/ip-phones",                        "", T::None,          P::Empty,           [200, 403, 403, 403, 200, 404, 401]),
        row(post.clone(),   "/v1/ip-phones",                        "", T::None,          P::NewIpPhone,      [201, 403, 403, 403, 201, 404, 401]),
        row(delete.clone(), "/v1/ip-phones/{source}",               "", T::FreshIpPhone,  P::Empty,           [204, 403, 403, 403, 404, 404, 401]),
        row(post.clone(),   "/v1/prompts",                          "", T::None,          P::Wav,             [201, 201, 201, 201, 201, 404, 401]),
        row(get.clone(),    "/v1/prompts/{id}",                     "", T::PromptA,       P::Empty,           [200, 200, 200, 200, 404, 404, 401]),
        row(get.clone(),    "/v1/conferences",                      "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 404, 401]),
        row(post.clone(),   "/v1/conferences",                      "", T::None,          P::NewConference,   [201, 201, 201, 201, 201, 404, 401]),
        row(get.clone(),    "/v1/conferences/{id}",                 "", T::ConfOp1,       P::Empty,           [200, 200, 200, 200, 404, 404, 401]),
        row(patch.clone(),  "/v1/conferences/{id}",                 "", T::ConfOp1,       P::SameDescription, [200, 200, 200, 403, 404, 404, 401]),
        row(delete.clone(), "/v1/conferences/{id}",                 "", T::FreshConfOp1,  P::Empty,           [204, 204, 204, 403, 404, 404, 401]),
        row(post.clone(),   "/v1/conferences/{id}/intro/by-phone",  "", T::ConfOp1,       P::Empty,           [201, 201, 201, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/conferences/{id}/confirmation",    "", T::ConfOp1,       P::Empty,           [200, 200, 200, 403, 404, 404, 401]),
        row(post.clone(),   "/v1/conferences/{id}/invitations",     "", T::ConfOp1,       P::Invitation,      [202, 202, 202, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/conferences/{id}/participants",    "", T::ConfOp1,       P::Empty,           [200, 200, 200, 403, 404, 404, 401]),
        row(post.clone(),   "/v1/conferences/{id}/controls",        "", T::ConfOp1,       P::Control,         [422, 422, 422, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/cdrs",                             "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 404, 401]),
        row(get.clone(),    "/v1/cdrs",                             "?conference_id={conf}", T::None, P::Empty, [200, 200, 200, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/recordings",                       "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 404, 401]),
        row(get.clone(),    "/v1/recordings",                       "?conference_id={conf}", T::None, P::Empty, [200, 200, 200, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/recordings/{id}",                  "", T::RecordingOp1,  P::Empty,           [200, 200, 200, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/invoices",                         "", T::None,          P::Empty,           [200, 403, 403, 403, 200, 404, 401]),
        row(get.clone(),    "/v1/invoices/{month}",                 "", T::InvoiceMonth,  P::Empty,           [200, 403, 403, 403, 404, 404, 401]),
        row(get.clone(),    "/v1/exports/{month}",                  "", T::InvoiceMonth,  P::Empty,           [404, 404, 404, 404, 404, 404, 401]),
        row(get.clone(),    "/v1/activity",                         "", T::None,          P::Empty,           [200, 200, 200, 200, 200, 404, 401]),
        // Last: it ends every token of the caller.
        row(post,           "/v1/auth/logout",                      "", T::None,          P::Empty,           [204, 204, 204, 204, 204, 204, 401]),
    ]
}

const INVOICE_MONTH: &str = "2026-10";

struct Fixture {
    world: World,
    recording: String,
}

impl Fixture {
    fn member(&self, who: Who) -> Option<&Member> {
        let w = &self.world;
        match who {
            Who::Owner => Some(&w.owner),
            Who::Admin => Some(&w.admin),
            Who::Op1 => Some(&w.op1),
            Who::Op2 => Some(&w.op2),
            Who::Foreign => Some(&w.foreign),
            Who::Provider => Some(&w.provider),
            Who::Anonymous => None,
        }
    }

    /// The path placeholders' values, creating a fresh target where the cell needs one.
    async fn target(&self, target: Target) -> Vec<(&'static str, String)> {
        let w = &self.world;
        let id = |value: String| vec![("{id}", value)];
        match target {
            Target::None => Vec::new(),
            Target::AccountA => id(w.a.clone()),
            Target::UserOp1 => id(w.op1.id.clone()),
            Target::FreshUser => id(w.new_member("Éphémère", "conference_operator").await.id),
            Target::NumberA => vec![("{e164}", encode_plus(&w.number))],
            Target::FreshNumberOfA => vec![
                ("{id}", w.a.clone()),
                ("{e164}", encode_plus(&w.new_number().await)),
            ],
            Target::FreshIpPhone => {
                let (address, _) = unique_ip_phone_sources();
                w.api
                    .expect(
                        StatusCode::CREATED,
                        Method::POST,
                        "/v1/ip-phones",
                        &w.owner.token,
                        Some(json!({ "source": address.to_string() })),
                    )
                    .await;
                vec![("{source}", source_segment(&address.to_string()))]
            }
            Target::PromptA => id(w.prompt.clone()),
            Target::ConfOp1 => id(w.conf_op1_id().to_string()),
            Target::FreshConfOp1 => id(
                w.new_conference(&w.op1.token, "À supprimer", 27).await["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            Target::RecordingOp1 => id(self.recording.clone()),
            Target::InvoiceMonth => vec![("{month}", INVOICE_MONTH.to_string())],
        }
    }

    fn body(&self, payload: Payload, who: Who) -> Option<Vec<u8>> {
        let w = &self.world;
        let json = match payload {
            Payload::Empty | Payload::Wav => return None,
            Payload::OwnLogin => {
                let m = self.member(who).unwrap_or(&w.owner);
                json!({ "email": m.email, "password": m.password })
            }
            Payload::NewAccount => json!({
                "name": "Compte de la matrice",
                "owner": { "email": unique_email().to_string(), "name": "Owen Owner", "password": PASSWORD },
            }),
            Payload::SameAccountName => json!({ "name": w.account_a["name"] }),
            Payload::NewUser => json!({
                "email": unique_email().to_string(),
                "name": "Nouvel Utilisateur",
                "role": if who == Who::Provider { "finance" } else { "conference_operator" },
                "password": PASSWORD,
            }),
            Payload::SameUserName => json!({ "name": "Oscar Operator" }),
            Payload::NewNumber => assigned_number_body(),
            Payload::SameNumberNotes => json!({ "notes": "Téléconférence" }),
            Payload::NewIpPhone => {
                json!({ "source": unique_ip_phone_sources().1.to_string(), "label": "Matrice" })
            }
            Payload::NewConference => conference_body("Réunion de la matrice", 31),
            Payload::SameDescription => json!({ "description": w.conf_op1["description"] }),
            Payload::Control => json!({ "command": "lock" }),
            Payload::Invitation => json!({
                "invitees": [{ "email": unique_email().to_string(), "role": "listener" }],
            }),
        };
        Some(serde_json::to_vec(&json).unwrap())
    }
}

#[tokio::test]
async fn every_endpoint_answers_every_kind_of_caller_as_the_permission_matrix_says() {
    let world = World::new().await;
    let (recording, _) = world.put_recording(world.conf_op1_id()).await;
    let month: YearMonth = INVOICE_MONTH.parse().unwrap();
    world
        .api
        .stack
        .store
        .create_invoice(&Invoice {
            number: format!("F-{month}-{}", &world.a[..8]),
            account_id: world.account_a_id(),
            account_name: "Omnivigil A".into(),
            language: Default::default(),
            time_zone: chrono_tz::America::Toronto,
            month,
            currency: "USD".into(),
            lines: vec![],
            usage_amount: Default::default(),
            plan_fee: Default::default(),
            taxes: vec![],
            total: Default::default(),
            issued_at: Utc::now(),
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        })
        .await
        .unwrap();
    world
        .api
        .stack
        .blobs
        .put(
            &BlobKey::finance_export(month),
            b"account,month,total\n".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    let fixture = Fixture {
        world,
        recording: recording.id.to_string(),
    };
    let api = &fixture.world.api;
    let rows = rows();

    // Every route of the router has a row.
    let covered: BTreeSet<(String, &str)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.route))
        .collect();
    let uncovered: Vec<_> = ROUTES
        .iter()
        .filter(|(m, p)| !covered.contains(&(m.to_string(), *p)))
        .collect();
    assert!(uncovered.is_empty(), "routes without a row: {uncovered:?}");

    let mut cells = 0;
    let mut mismatches = Vec::new();
    for row in &rows {
        for (who, expected) in CALLERS.iter().zip(row.expected) {
            let mut route = row.route.to_string();
            for (placeholder, value) in fixture.target(row.target).await {
                route = route.replace(placeholder, &value);
            }
            let path = format!(
                "{route}{}",
                row.query.replace("{conf}", fixture.world.conf_op1_id())
            );
            let token = fixture.member(*who).map(|m| m.token.as_str());
            let res = match (row.payload, fixture.body(row.payload, *who)) {
                (Payload::Wav, _) => {
                    api.raw(
                        row.method.clone(),
                        &path,
                        token,
                        &[("content-type", "audio/wav")],
                        tone_wav(8_000, 1, 100),
                    )
                    .await
                }
                (_, Some(body)) => {
                    api.raw(
                        row.method.clone(),
                        &path,
                        token,
                        &[("content-type", "application/json")],
                        body,
                    )
                    .await
                }
                (_, None) => api.raw(row.method.clone(), &path, token, &[], vec![]).await,
            };
            cells += 1;
            if res.status != StatusCode::from_u16(expected).unwrap() {
                let body = res.json();
                let detail = if body == Value::Null {
                    res.text().chars().take(120).collect()
                } else {
                    body.to_string()
                };
                mismatches.push(format!(
                    "{} {} as {:?}: expected {}, got {} {}",
                    row.method,
                    path,
                    who,
                    expected,
                    res.status.as_u16(),
                    detail
                ));
            } else if res.status.is_client_error() {
                // Refusals are JSON errors too.
                let body = res.json();
                if !body["error"]["code"].is_string() {
                    mismatches.push(format!(
                        "{} {} as {:?}: {} without a JSON error: {}",
                        row.method,
                        path,
                        who,
                        expected,
                        res.text()
                    ));
                }
            }
        }
    }
    assert_eq!(cells, rows.len() * CALLERS.len());
    assert_eq!(cells, 46 * 7, "a row was added or lost: update the count");
    assert!(
        mismatches.is_empty(),
        "{} unexpected answer(s) of {cells} cells:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
