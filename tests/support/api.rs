//! The HTTPS API in process: the real router (`teleconf_api::router`, the portal
//! mounted on it as the binary does) called with `tower::ServiceExt::oneshot` over
//! the emulator-backed [`Stack`] (DynamoDB store,
//! S3 blobs), a fixed token secret and the wall clock; and a [`World`] of accounts,
//! users, a number, conferences and a prompt built through the API itself.
//!
//! Every e-mail and number is unique, so tests sharing the process's table run in
//! parallel without seeing each other's data.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::process::{Clock, system_clock};
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_adapters::store::{AccountStore, CdrStore, RecordingStore, Store, UserStore};
use teleconf_api::AppState;
use teleconf_api::tokens::Tokens;
use teleconf_domain::testkit::{unique_e164, unique_email};
use teleconf_domain::{
    Account, AccountId, CallLeg, CallerRole, ConferenceId, DisconnectCause, LegId, Recording,
    RecordingId, Role, User, YearMonth,
};
use tower::ServiceExt;

use crate::stack::Stack;

/// The token secret of every test API (32 bytes, HS256's minimum).
pub const TOKEN_SECRET: &[u8; 32] = b"teleconf-tests-fixed-secret-0032";

/// The password of every user a [`World`] creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// An answer, as bytes.
#[derive(Debug)]
pub struct Raw {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as JSON; `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Content-Type`, or "".
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The router over the emulator.
#[derive(Debug, Clone)]
pub struct TestApi {
    /// The provisioned stack (the store and bucket the router uses, unless built
    /// with [`TestApi::with_store`]).
    pub stack: Arc<Stack>,
    /// The router's state.
    pub state: AppState,
    router: axum::Router,
}

impl TestApi {
    /// The API over a stack of its own (its own table, this process's bucket), on the wall clock.
    pub async fn new() -> Self {
        let stack = Arc::new(Stack::new().await);
        let store = DynamoStore::new(stack.clients.dynamodb.clone(), &stack.settings.table);
        Self::with_store(stack, Arc::new(store), system_clock())
    }

    /// The API over `store` (e.g. one reached through a proxy) and `clock`, with the
    /// stack's bucket.
    pub fn with_store(stack: Arc<Stack>, store: Arc<dyn Store>, clock: Clock) -> Self {
        let state = AppState {
            store,
            blobs: Arc::new(stack.blobs.clone()),
            tokens: Arc::new(Tokens::new(TOKEN_SECRET).expect("a 32-byte secret")),
            clock,
            branding: Arc::new(Default::default()),
        };
        Self {
            router: teleconf_portal::mount(teleconf_api::router(state.clone())),
            state,
            stack,
        }
    }

    /// The same API on another clock (same store, bucket and secret).
    pub fn at_clock(&self, clock: Clock) -> Self {
        Self::with_store(self.stack.clone(), self.state.store.clone(), clock)
    }

    /// One request: `headers` as given, `body` as bytes.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Raw {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Body::from(body)).expect("a valid request");
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("the body")
            .to_vec();
        Raw {
            status,
            headers,
            body,
        }
    }

    /// One JSON request: the answer's status, JSON body (`Null` when not JSON) and headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, HeaderMap) {
        let res = match body {
            Some(body) => {
                self.raw(
                    method,
                    path,
                    token,
                    &[("content-type", "application/json")],
                    serde_json::to_vec(&body).expect("JSON"),
                )
                .await
            }
            None => self.raw(method, path, token, &[], Vec::new()).await,
        };
        (res.status, res.json(), res.headers)
    }

    /// GET with `Accept: text/csv` by `token`; the answer.
    pub async fn get_csv(&self, path: &str, token: &str) -> Raw {
        self.raw(
            Method::GET,
            path,
            Some(token),
            &[("accept", "text/csv")],
            vec![],
        )
        .await
    }

    /// GET, asserting 200; the JSON body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let (status, body, _) = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// A JSON request asserting `expected`; the JSON body.
    pub async fn expect(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, answer, _) = self.call(method.clone(), path, Some(token), body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// Signs in; the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body, _) = self
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        body["token"].as_str().expect("a token").to_string()
    }

    /// Uploads `wav` as `audio/wav`; the answer.
    pub async fn upload_prompt(&self, token: &str, wav: Vec<u8>) -> Raw {
        self.raw(
            Method::POST,
            "/v1/prompts",
            Some(token),
            &[("content-type", "audio/wav")],
            wav,
        )
        .await
    }

    /// The keys of the prompts stored for `account` in the bucket.
    pub async fn stored_prompts(&self, account: &str) -> Vec<String> {
        let out = self
            .stack
            .clients
            .s3
            .list_objects_v2()
            .bucket(&self.stack.settings.bucket)
            .prefix(format!("accounts/{account}/prompts/"))
            .send()
            .await
            .expect("listing the bucket");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect()
    }
}

/// A WAV file of a 440 Hz tone: 16-bit PCM, `rate` Hz, `channels` channels, `millis` long.
pub fn tone_wav(rate: u32, channels: u16, millis: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut out, spec).expect("a WAV writer");
        let frames = u64::from(rate) * u64::from(millis) / 1000;
        for i in 0..frames {
            let t = i as f64 / f64::from(rate);
            let sample = ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16;
            for _ in 0..channels {
                writer.write_sample(sample).expect("a sample");
            }
        }
        writer.finalize().expect("a finished WAV");
    }
    out.into_inner()
}

/// A CSV file (the API's, or one billing wrote) as rows of column name → cell.
pub fn csv_rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .expect("a CSV header")
        .iter()
        .map(String::from)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record that parses");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// RFC 3339 in UTC (`Z`), whole seconds: safe in a query string.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `+` written `%2B`, for an E.164 number in a path or query.
pub fn encode_plus(s: &str) -> String {
    s.replace('+', "%2B")
}

/// An IP phone's source as a path segment, percent-encoded as a client sends it
/// (`sip:desk@pbx.example` → `sip%3Adesk%40pbx.example`).
pub fn source_segment(source: &str) -> String {
    source
        .replace('%', "%25")
        .replace(':', "%3A")
        .replace('@', "%40")
        .replace('+', "%2B")
}

/// A conference body starting `hours` from now (whole seconds), an hour long.
pub fn conference_body(description: &str, hours: i64) -> Value {
    let start = Utc::now() + Duration::hours(hours);
    json!({
        "description": description,
        "start": rfc3339(start),
        "end": rfc3339(start + Duration::hours(1)),
        "record": false,
    })
}

/// A user of the world: who they are and a signed-in token.
#[derive(Debug, Clone)]
pub struct Member {
    /// User id.
    pub id: String,
    /// Login.
    pub email: String,
    /// Password.
    pub password: String,
    /// A valid token.
    pub token: String,
}

/// Account A (owner, conference admin, two operators, an access number, a prompt,
/// conferences of operator 1, operator 2 and the owner), account B with its owner,
/// and a provider admin. Built through the API, except the provider admin, who is
/// seeded in the store.
#[derive(Debug, Clone)]
pub struct World {
    /// The API.
    pub api: TestApi,
    /// The provider's administrator.
    pub provider: Member,
    /// Account A as created (`AccountView`).
    pub account_a: Value,
    /// Account A's id.
    pub a: String,
    /// Account B's id.
    pub b: String,
    /// A's owner.
    pub owner: Member,
    /// A's conference administrator.
    pub admin: Member,
    /// A's first operator.
    pub op1: Member,
    /// A's second operator.
    pub op2: Member,
    /// B's owner.
    pub foreign: Member,
    /// A's access number (E.164).
    pub number: String,
    /// A conference of A created by operator 1.
    pub conf_op1: Value,
    /// A conference of A created by operator 2.
    pub conf_op2: Value,
    /// A conference of A created by the owner.
    pub conf_owner: Value,
    /// A prompt of A.
    pub prompt: String,
}

impl World {
    /// Builds a fresh world on a fresh [`TestApi`].
    pub async fn new() -> Self {
        Self::on(TestApi::new().await).await
    }

    /// Builds a fresh world on `api`.
    pub async fn on(api: TestApi) -> Self {
        let provider = seed_provider_admin(&api).await;
        let (account_a, owner) = create_account(&api, &provider, "Omnivigil A").await;
        let (account_b, foreign) = create_account(&api, &provider, "Concurrent B").await;
        let a = account_a["id"].as_str().expect("an id").to_string();
        let b = account_b["id"].as_str().expect("an id").to_string();
        let admin = create_member(&api, &owner, "Ada Admin", "conference_admin").await;
        let op1 = create_member(&api, &owner, "Oscar Operator", "conference_operator").await;
        let op2 = create_member(&api, &owner, "Otto Operator", "conference_operator").await;
        let number = create_number(&api, &provider, &a, &owner).await;
        let conf_op1 = create_conference(&api, &op1.token, "Réunion d'Oscar", 26).await;
        let conf_op2 = create_conference(&api, &op2.token, "Réunion d'Otto", 30).await;
        let conf_owner = create_conference(&api, &owner.token, "Réunion mensuelle", 40).await;
        let res = api
            .upload_prompt(&owner.token, tone_wav(8000, 1, 500))
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let prompt = res.json()["id"].as_str().expect("an id").to_string();
        Self {
            api,
            provider,
            account_a,
            a,
            b,
            owner,
            admin,
            op1,
            op2,
            foreign,
            number,
            conf_op1,
            conf_op2,
            conf_owner,
            prompt,
        }
    }

    /// Operator 1's conference id.
    pub fn conf_op1_id(&self) -> &str {
        self.conf_op1["id"].as_str().expect("an id")
    }

    /// Operator 2's conference id.
    pub fn conf_op2_id(&self) -> &str {
        self.conf_op2["id"].as_str().expect("an id")
    }

    /// Account A's id, typed.
    pub fn account_a_id(&self) -> AccountId {
        self.a.parse().expect("an account id")
    }

    /// An open leg of `conference` (a conference JSON of account A), not yet stored.
    fn leg(&self, conference: &Value, joined_at: DateTime<Utc>, role: CallerRole) -> CallLeg {
        CallLeg {
            id: LegId::new(),
            account_id: self.account_a_id(),
            conference_id: conference["id"]
                .as_str()
                .expect("an id")
                .parse()
                .expect("id"),
            conference_number: conference["conference_number"]
                .as_str()
                .expect("a number")
                .parse()
                .expect("a conference number"),
            dialled: Some(self.number.parse().expect("E.164")),
            caller_id: "+15145550100".into(),
            role,
            owner_node: None,
            joined_at,
            month: YearMonth::of(joined_at, chrono_tz::America::Toronto),
            left_at: None,
            cause: None,
            quality: None,
            node: None,
        }
    }

    /// Writes a closed leg of `conference` (a conference JSON of account A) joined at
    /// `joined_at`, `secs` long, straight into the store.
    pub async fn put_leg(
        &self,
        conference: &Value,
        joined_at: DateTime<Utc>,
        secs: i64,
        role: CallerRole,
    ) -> CallLeg {
        let mut leg = self.leg(conference, joined_at, role);
        leg.close(
            joined_at + Duration::seconds(secs),
            DisconnectCause::CallerHangup,
        );
        self.api.stack.store.put_leg(&leg).await.expect("a leg");
        leg
    }

    /// Writes a leg of `conference` joined at `joined_at` and still on the line.
    pub async fn put_open_leg(&self, conference: &Value, joined_at: DateTime<Utc>) -> CallLeg {
        let leg = self.leg(conference, joined_at, CallerRole::Participant);
        self.api.stack.store.put_leg(&leg).await.expect("a leg");
        leg
    }

    /// Stores a recording of `conference` (an id of account A) and its WAV; both.
    pub async fn put_recording(&self, conference: &str) -> (Recording, Vec<u8>) {
        let wav = tone_wav(8000, 1, 300);
        let conference_id: ConferenceId = conference.parse().expect("a conference id");
        let recording = Recording {
            id: RecordingId::new(),
            account_id: self.account_a_id(),
            conference_id,
            started_at: Utc::now() - Duration::hours(3),
            duration_ms: 300,
            size_bytes: wav.len() as u64,
            state: teleconf_domain::RecordingState::Complete,
            segments: Vec::new(),
            node: None,
        };
        self.api
            .stack
            .store
            .put_recording(&recording)
            .await
            .expect("a recording");
        self.api
            .stack
            .blobs
            .put(&recording.key(), wav.clone(), "audio/wav")
            .await
            .expect("the recording's WAV");
        (recording, wav)
    }

    /// A fresh user of A with `role`, created by the owner.
    pub async fn new_member(&self, name: &str, role: &str) -> Member {
        create_member(&self.api, &self.owner, name, role).await
    }

    /// A fresh conference of A scheduled by `token`, `hours` from now.
    pub async fn new_conference(&self, token: &str, description: &str, hours: i64) -> Value {
        create_conference(&self.api, token, description, hours).await
    }

    /// A fresh access number of A (E.164), assigned by the provider and configured
    /// by A's owner.
    pub async fn new_number(&self) -> String {
        create_number(&self.api, &self.provider, &self.a, &self.owner).await
    }

    /// The ids of A's conferences, as the owner lists them.
    pub async fn conference_ids(&self) -> Vec<String> {
        ids(&self.api.get_ok("/v1/conferences", &self.owner.token).await)
    }

    /// A's activity feed, as the owner reads it.
    pub async fn activity(&self) -> Value {
        self.api
            .get_ok("/v1/activity?limit=200", &self.owner.token)
            .await
    }
}

/// The `id` of every element of a JSON array.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_str().expect("an id").to_string())
        .collect()
}

/// A provider account and its administrator, straight into the store; signed in.
pub async fn seed_provider_admin(api: &TestApi) -> Member {
    let now = Utc::now();
    let account = Account::new("Fournisseur", now).expect("an account");
    api.stack
        .store
        .create_account(&account)
        .await
        .expect("the provider account");
    let email = unique_email();
    let user = User::new(
        account.id,
        email.clone(),
        "Paula Provider",
        Role::ProviderAdmin,
        PASSWORD,
        now,
    )
    .expect("a user");
    api.stack
        .store
        .create_user(&user)
        .await
        .expect("the provider admin");
    Member {
        id: user.id.to_string(),
        email: email.to_string(),
        password: PASSWORD.into(),
        token: api.login(email.as_str(), PASSWORD).await,
    }
}

/// `POST /v1/accounts` by `provider`: the account and its signed-in owner.
pub async fn create_account(api: &TestApi, provider: &Member, name: &str) -> (Value, Member) {
    let email = unique_email().to_string();
    let created = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/accounts",
            &provider.token,
            Some(json!({
                "name": name,
                "owner": { "email": email, "name": "Olivia Owner", "password": PASSWORD },
            })),
        )
        .await;
    let owner = Member {
        id: created["owner"]["id"].as_str().expect("an id").to_string(),
        token: api.login(&email, PASSWORD).await,
        email,
        password: PASSWORD.into(),
    };
    (created["account"].clone(), owner)
}

/// `POST /v1/users` by `owner` (an account's owner, or the provider admin giving a
/// provider role): the new, signed-in user.
pub async fn create_member(api: &TestApi, owner: &Member, name: &str, role: &str) -> Member {
    let email = unique_email().to_string();
    let created = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/users",
            &owner.token,
            Some(json!({ "email": email, "name": name, "role": role, "password": PASSWORD })),
        )
        .await;
    Member {
        id: created["id"].as_str().expect("an id").to_string(),
        token: api.login(&email, PASSWORD).await,
        email,
        password: PASSWORD.into(),
    }
}

/// A body for `POST /v1/accounts/{id}/numbers`: a fresh toll-free number.
pub fn assigned_number_body() -> Value {
    json!({ "number": unique_e164().to_string(), "kind": "toll_free" })
}

/// What an owner sets on a number they were given: the 911 address first.
pub fn number_settings() -> Value {
    json!({
        "e911_address": "290-4765 1re Avenue, QUEBEC, QC G1H 2T3",
        "notes": "Téléconférence",
        "display_name": "Omnivigil",
    })
}

/// `POST /v1/accounts/{account}/numbers` by `provider`, then `PATCH /v1/numbers/…`
/// by the account's `owner` ([`number_settings`]): the E.164 number.
pub async fn create_number(
    api: &TestApi,
    provider: &Member,
    account: &str,
    owner: &Member,
) -> String {
    let assigned = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            &format!("/v1/accounts/{account}/numbers"),
            &provider.token,
            Some(assigned_number_body()),
        )
        .await;
    let number = assigned["number"].as_str().expect("a number").to_string();
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &format!("/v1/numbers/{}", encode_plus(&number)),
        &owner.token,
        Some(number_settings()),
    )
    .await;
    number
}

/// `POST /v1/conferences` by `token`, `hours` from now: the conference.
pub async fn create_conference(api: &TestApi, token: &str, description: &str, hours: i64) -> Value {
    api.expect(
        StatusCode::CREATED,
        Method::POST,
        "/v1/conferences",
        token,
        Some(conference_body(description, hours)),
    )
    .await
}

/// `Retry-After` as seconds, if present.
pub fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A `multipart/form-data` body carrying `fields` (name, value) then `wav` as the
/// file part `filename`: the content type (with its boundary) and the bytes.
pub fn multipart_wav(fields: &[(&str, &str)], filename: &str, wav: Vec<u8>) -> (String, Vec<u8>) {
    let boundary = "teleconf-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .into_bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: audio/wav\r\n\r\n")
            .into_bytes(),
    );
    body.extend(wav);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
