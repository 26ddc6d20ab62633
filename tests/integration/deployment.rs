//! `infra/template.json`, deployed: translated by the AWS SAM translator, created as
//! CloudFormation stacks in an emulator of its own that enforces IAM, then used as
//! customers use the product, every piece run from what the stack holds
//! ([`teleconf_tests::deployment`]):
//!
//! - the API, under the Lambda runtime API with its function's environment and
//!   role, gets API Gateway HTTP API events as the deployed stage sends them (the
//!   stage's name in the path unless it is `$default`);
//! - the mailer gets the table's stream records that pass its event source
//!   mapping's `FilterCriteria`; a record kind it would mail about that the filter
//!   drops is a failure of its own;
//! - billing gets the event its deployed on-demand rule matches; the scheduler the
//!   event its schedule sends;
//! - the media node runs with its task definition's environment and task role, and
//!   takes a call whose live view, command queue and hang-up go through the store;
//! - every log line of a function or the node is JSON without colour codes and
//!   names its request or call; the node's metrics lines (embedded metric format)
//!   carry what the stack's alarms read, under their namespace and dimensions;
//! - with the trunk's media addresses left to their default, a stranger's RTP to
//!   a call whose offered address never sends is not taken (nothing latches on it).
//!
//! Checks that do not depend on each other are all made and reported together: the
//! test fails once, listing every problem.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, Duration as Days, TimeZone, Utc};
use serde_json::{Value, json};

use teleconf_adapters::store::conformance::create_conference;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_adapters::store::{AccountStore, CdrStore, ControlStore, NodeStore, UserStore};
use teleconf_domain::billing::usage::synthetic_leg;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{
    Account, CallLeg, CallerRole, DisconnectCause, NodeHeartbeat, NodeId, NodeState, Role, User,
    YearMonth,
};
use teleconf_mailer::change::Change;
use teleconf_mailer::stream::StreamReader;
use teleconf_media_node::shell::metrics;
use teleconf_tests::deployment::{ALARM_EMAIL, Deployment, MAIL_FROM, PORTAL_URL};
use teleconf_tests::event_pattern;
use teleconf_tests::media::{OpenConference, node_vars};
use teleconf_tests::outbox::{SentMail, sent_mail_at};
use teleconf_tests::stack::Emulator;

use crate::calls::edge::{Ua, media_port, status};

/// Everything found wrong, reported at the end.
#[derive(Debug, Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn add(&mut self, what: String) {
        self.0.push(what);
    }
}

/// The parameters an operator gives `sam deploy` (README, "Deploy to AWS").
fn parameters() -> Vec<(&'static str, &'static str)> {
    vec![
        ("MailFrom", MAIL_FROM),
        (
            "MediaNodeImage",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/teleconf-media-node:1",
        ),
        (
            "SipEntryImage",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/teleconf-sip-entry:1",
        ),
        ("MediaVpcCidr", "10.0.0.0/16"),
        ("TrunkCidr", "127.0.0.1/32"),
        ("TrunkSources", "127.0.0.1"),
        ("PortalUrl", PORTAL_URL),
        ("AlarmEmail", ALARM_EMAIL),
    ]
}

/// An HTTP request as API Gateway's HTTP API hands it to its Lambda integration
/// (payload format 2.0) through `stage`, for the route `route_key`.
fn api_event(
    stage: &str,
    route_key: &str,
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    // A named stage's name is the first segment of the path the client used.
    let raw_path = if stage == "$default" {
        path.to_string()
    } else {
        format!("/{stage}{path}")
    };
    let mut headers = json!({
        "host": "api.teleconf.example",
        "user-agent": "deployment-test",
        "x-forwarded-proto": "https",
    });
    if let Some(token) = token {
        headers["authorization"] = Value::String(format!("Bearer {token}"));
    }
    if body.is_some() {
        headers["content-type"] = Value::String("application/json".into());
    }
    let now = Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "deployment",
            "domainName": "api.teleconf.example",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "deployment-test"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": stage,
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis()
        },
        "isBase64Encoded": false
    });
    if route_key.contains("{proxy+}") {
        event["pathParameters"] = json!({ "proxy": path.trim_start_matches('/') });
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    event
}

/// The API as its deployed stage serves it.
struct Api {
    stage: String,
    route_key: String,
}

impl Api {
    /// Status and JSON (or text) body of one request; `Err` when the function's
    /// process exited instead of answering.
    async fn try_call(
        &self,
        deployment: &mut Deployment,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let event = api_event(
            &self.stage,
            &self.route_key,
            method,
            path,
            token,
            body.as_ref(),
        );
        let (status, answer) = deployment.invoke("ApiFunction", &event).await?;
        if status != 200 {
            return Err(format!(
                "the API function failed on {method} {path}: {status} {answer}\n{}",
                deployment.tails(30)
            ));
        }
        let body = answer["body"].as_str().unwrap_or_default();
        let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.into()));
        Ok((
            answer["statusCode"].as_u64().unwrap_or_default() as u16,
            body,
        ))
    }

    /// Status and JSON (or text) body of one request.
    async fn call(
        &self,
        deployment: &mut Deployment,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.try_call(deployment, method, path, token, body)
            .await
            .unwrap_or_else(|why| panic!("{why}"))
    }
}

/// The HTTP API's stage name and the route to the function, as the stack holds them.
fn api_route(stack: &Value) -> (String, String) {
    let resources = stack["not_emulated"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let stage = resources
        .values()
        .find(|r| r["type"] == "AWS::ApiGatewayV2::Stage")
        .and_then(|r| r["properties"]["StageName"].as_str())
        .unwrap_or("$default")
        .to_string();
    let api = resources
        .values()
        .find(|r| r["type"] == "AWS::ApiGatewayV2::Api")
        .expect("the stack's HTTP API");
    let paths = api["properties"]["Body"]["paths"]
        .as_object()
        .expect("the API's routes");
    let (path, methods) = paths.iter().next().expect("one route");
    let method = methods
        .as_object()
        .and_then(|m| m.keys().next())
        .map(|m| match m.as_str() {
            "x-amazon-apigateway-any-method" => "ANY".to_string(),
            other => other.to_uppercase(),
        })
        .unwrap_or_default();
    let integration = &methods[methods.as_object().and_then(|m| m.keys().next()).unwrap()]["x-amazon-apigateway-integration"];
    assert_eq!(
        integration["payloadFormatVersion"], "2.0",
        "the API's integration sends payload format 2.0 events"
    );
    (stage, format!("{method} {path}"))
}

/// Physical names the template fixes (rather than CloudFormation generating them):
/// each must differ between two stacks of one account.
fn fixed_names(stack: &Value) -> BTreeSet<(String, String)> {
    let mut names = BTreeSet::new();
    if let Some(resources) = stack["resources"].as_object() {
        for (logical, r) in resources {
            if let Some(id) = r["id"]
                .as_str()
                .filter(|id| !id.is_empty() && !id.contains(logical.as_str()))
            {
                names.insert((logical.clone(), id.to_string()));
            }
        }
    }
    if let Some(resources) = stack["not_emulated"].as_object() {
        for (logical, r) in resources {
            if let Some(name) = r["properties"]["Name"].as_str() {
                names.insert((logical.clone(), name.to_string()));
            }
        }
    }
    names
}

fn shared_names(problems: &mut Problems, deployment: &Deployment) {
    let [a, b] = deployment.stacks() else {
        panic!("two stacks deployed");
    };
    let (names_a, names_b) = (fixed_names(a), fixed_names(b));
    for (logical, name) in &names_a {
        problems.check(!names_b.iter().any(|(_, other)| other == name), || {
            format!(
                "two stacks in one account collide: {logical} is named {name:?} in both {} and {}",
                a["stack"], b["stack"]
            )
        });
    }
}

fn log_retention(problems: &mut Problems, stack: &Value) {
    let groups = stack["log_groups"].as_object().cloned().unwrap_or_default();
    for (logical, function) in stack["functions"].as_object().into_iter().flatten() {
        let group = format!(
            "/aws/lambda/{}",
            function["name"].as_str().unwrap_or_default()
        );
        let group = function["logging"]["LogGroup"]
            .as_str()
            .map_or(group, String::from);
        match groups.get(&group) {
            Some(days) if days.is_u64() => {}
            Some(_) => problems.add(format!("{logical}'s log group {group} never expires")),
            None => problems.add(format!(
                "{logical}'s log group {group} is not in the stack: Lambda creates it without retention"
            )),
        }
    }
    for (group, days) in &groups {
        problems.check(days.is_u64(), || format!("log group {group} never expires"));
    }
}

/// The stack's alarms: those moto created, and those its CloudFormation skipped
/// (as the translated template declares them), each as `namespace`, `metric`,
/// `dimensions` (name → value) and `actions`.
fn stack_alarms(stack: &Value) -> Vec<Value> {
    let mut alarms = stack["alarms"].as_array().cloned().unwrap_or_default();
    for declared in stack["not_emulated"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, r)| r)
    {
        if declared["type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &declared["properties"];
        let dimensions: serde_json::Map<String, Value> = p["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d["Name"].as_str()?.to_string(), d["Value"].clone())))
            .collect();
        alarms.push(json!({
            "namespace": p["Namespace"],
            "metric": p["MetricName"],
            "dimensions": dimensions,
            "actions": p["AlarmActions"],
        }));
    }
    alarms
}

fn alarms(problems: &mut Problems, stack: &Value) {
    let topics = stack["topics"].as_object().cloned().unwrap_or_default();
    let notified: Vec<&String> = topics
        .iter()
        .filter(|(_, subs)| {
            subs.as_array()
                .into_iter()
                .flatten()
                .any(|s| s["protocol"] == "email" && s["endpoint"] == ALARM_EMAIL)
        })
        .map(|(arn, _)| arn)
        .collect();
    problems.check(!notified.is_empty(), || {
        format!("no SNS topic mails the AlarmEmail parameter ({ALARM_EMAIL}): {topics:?}")
    });
    let alarms = stack_alarms(stack);
    let on = |namespace: &str, metric: &str| {
        alarms.iter().any(|a| {
            a["namespace"] == namespace
                && a["metric"] == metric
                && a["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| notified.iter().any(|n| t == *n))
        })
    };
    for (namespace, metric, what) in [
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "the mailer's dead-letter queue",
        ),
        ("AWS/Lambda", "IteratorAge", "the stream's iterator age"),
        ("AWS/Lambda", "Errors", "function errors"),
        ("AWS/Lambda", "Throttles", "function throttles"),
        ("AWS/ApiGateway", "5xx", "the API's 5xx"),
        (
            metrics::NAMESPACE,
            "Calls",
            "fewer media tasks than the minimum",
        ),
    ] {
        problems.check(on(namespace, metric), || {
            format!("no alarm on {what} ({namespace} {metric}) notifies the topic")
        });
    }
    let functions = stack["functions"].as_object().cloned().unwrap_or_default();
    for (logical, function) in &functions {
        let name = function["name"].as_str().unwrap_or_default();
        for metric in ["Errors", "Throttles"] {
            problems.check(
                alarms
                    .iter()
                    .any(|a| a["metric"] == metric && a["dimensions"]["FunctionName"] == name),
                || format!("no {metric} alarm on {logical}"),
            );
        }
    }
}

/// The media node's metrics, as CloudWatch reads them from its container's log
/// (`lines`, its standard output): embedded metric format lines with every one of
/// the node's metrics (calls, rooms, participants, frames lost, RTP ports left,
/// spool backlog), and every alarm of the stack on the node's
/// namespace finds its metric there under its very dimensions (names and values).
/// The node had a caller in a conference for seconds: some line counts it.
fn media_metrics(problems: &mut Problems, stack: &Value, lines: &[String]) {
    let emf: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["_aws"]["CloudWatchMetrics"].is_array())
        .collect();
    if emf.is_empty() {
        problems.add(format!(
            "the media node writes no metrics (embedded metric format) to its log: {lines:?}"
        ));
        return;
    }
    // The metrics a line declares: (namespace, metric, dimension names).
    let declared = |line: &Value| -> Vec<(String, String, BTreeSet<String>)> {
        let mut found = Vec::new();
        for directive in line["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let namespace = directive["Namespace"].as_str().unwrap_or_default();
            for set in directive["Dimensions"].as_array().into_iter().flatten() {
                let names: BTreeSet<String> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.as_str().map(String::from))
                    .collect();
                for metric in directive["Metrics"].as_array().into_iter().flatten() {
                    let name = metric["Name"].as_str().unwrap_or_default();
                    found.push((namespace.to_string(), name.to_string(), names.clone()));
                }
            }
        }
        found
    };
    for metric in metrics::METRICS {
        problems.check(
            emf.iter().all(|line| {
                line[metric].is_number() && declared(line).iter().any(|(_, m, _)| m == metric)
            }),
            || format!("a metrics line of the media node lacks {metric}: {emf:?}"),
        );
    }
    problems.check(
        emf.iter().any(|line| {
            line["Calls"].as_u64() >= Some(1) && line["Participants"].as_u64() >= Some(1)
        }),
        || format!("no metrics line of the media node counts the call it had: {emf:?}"),
    );
    let alarms: Vec<Value> = stack_alarms(stack)
        .into_iter()
        .filter(|a| a["namespace"] == metrics::NAMESPACE)
        .collect();
    problems.check(!alarms.is_empty(), || {
        format!(
            "no alarm reads the media node's metrics ({})",
            metrics::NAMESPACE
        )
    });
    for alarm in &alarms {
        let metric = alarm["metric"].as_str().unwrap_or_default();
        let dimensions = alarm["dimensions"].as_object().cloned().unwrap_or_default();
        let names: BTreeSet<String> = dimensions.keys().cloned().collect();
        let emitted = emf.iter().any(|line| {
            declared(line).iter().any(|(namespace, m, set)| {
                namespace == metrics::NAMESPACE && m == metric && *set == names
            }) && line[metric].is_number()
                && dimensions.iter().all(|(name, value)| line[name] == *value)
        });
        problems.check(emitted, || {
            format!(
                "the alarm on {} {metric} {dimensions:?} reads a metric the media node does not publish so: {:?}",
                metrics::NAMESPACE,
                emf.first()
            )
        });
    }
}

/// Every log line of `lines` is JSON without colour codes; each line inside an
/// invocation names its request.
fn json_logs(problems: &mut Problems, who: &str, lines: &[String], id_field: &str) {
    let mut with_id = 0;
    for line in lines {
        if line.contains('\u{1b}') {
            problems.add(format!("{who} logs colour codes: {line:?}"));
            return;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) if value.is_object() => {
                if value.to_string().contains(&format!("\"{id_field}\"")) {
                    with_id += 1;
                }
            }
            _ => {
                problems.add(format!("{who} logs a line that is not JSON: {line:?}"));
                return;
            }
        }
    }
    problems.check(with_id > 0, || {
        format!("no log line of {who} carries {id_field}: {lines:?}")
    });
}

/// The mail `to` received so far.
async fn mail_to(deployment: &Deployment, to: &str) -> Vec<SentMail> {
    sent_mail_at(&deployment.endpoint, Emulator::Moto)
        .await
        .expect("the emulator's outbox")
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
        .collect()
}

/// The table's stream, read as the event source mapping reads it (with the
/// operator's access: on AWS, Lambda's own), each batch filtered by the deployed
/// `FilterCriteria` and handed to the mailer through the runtime API, failures
/// retried as the mapping retries them. Records of a kind the mailer mails about
/// that the filter drops are reported.
struct MailerTrigger {
    reader: StreamReader,
    filters: Vec<Value>,
    dropped_kinds: BTreeSet<String>,
}

impl MailerTrigger {
    async fn new(deployment: &Deployment, table: &str) -> Self {
        let mapping = &deployment.function("MailerFunction")["event_source_mappings"][0];
        assert!(
            mapping["source"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("table/{table}/stream/"))),
            "the mailer is triggered by the table's stream: {mapping}"
        );
        let filters = mapping["filters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| serde_json::from_str(p.as_str().unwrap_or_default()).expect("a JSON pattern"))
            .collect();
        let sdk = deployment.sdk_config(&deployment.deployer()).await;
        let reader = StreamReader::open(
            &aws_sdk_dynamodb::Client::new(&sdk),
            aws_sdk_dynamodbstreams::Client::new(&sdk),
            table,
        )
        .await
        .expect("the table's stream");
        Self {
            reader,
            filters,
            dropped_kinds: BTreeSet::new(),
        }
    }

    fn passes(&self, record: &Value) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|f| event_pattern::matches(f, record).expect("a pattern this test reads"))
    }

    /// Hands every record available now to the mailer.
    async fn pump(&mut self, deployment: &mut Deployment) {
        let mut dropped = BTreeSet::new();
        let mut batches = Vec::new();
        // Read first (the reader borrows itself mutably), then filter and invoke.
        self.reader
            .pump(|event| {
                batches.push(event);
                async { aws_lambda_events::streams::DynamoDbEventResponse::default() }
            })
            .await
            .expect("reading the stream");
        let filters_pass = |record: &Value| self.passes(record);
        for mut event in batches {
            event.records.retain(|record| {
                let json = serde_json::to_value(record).expect("a record as JSON");
                if filters_pass(&json) {
                    return true;
                }
                if !matches!(Change::of(record), Ok(Change::Nothing)) {
                    let kind = json
                        .pointer("/dynamodb/NewImage/item_kind/S")
                        .or_else(|| json.pointer("/dynamodb/OldImage/item_kind/S"))
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    dropped.insert(format!("{} {kind}", record.event_name));
                }
                false
            });
            if event.records.is_empty() {
                continue;
            }
            let payload = serde_json::to_value(&event).expect("an event as JSON");
            for _attempt in 0..6 {
                let (status, answer) = deployment
                    .invoke("MailerFunction", &payload)
                    .await
                    .unwrap_or_else(|why| panic!("the deployed mailer: {why}"));
                let failed = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
                if status == 200 && failed == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        self.dropped_kinds.extend(dropped);
    }
}

/// Waits until `to` has a mail whose subject contains `subject`, pumping the stream.
async fn wait_for_mail(
    deployment: &mut Deployment,
    trigger: &mut MailerTrigger,
    to: &str,
    subject: &str,
) -> Option<SentMail> {
    for _ in 0..20 {
        trigger.pump(deployment).await;
        if let Some(mail) = mail_to(deployment, to)
            .await
            .into_iter()
            .find(|m| m.subject.contains(subject))
        {
            return Some(mail);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// The live view until `done` holds of it, through the deployed API; `None` after 10 s.
async fn live_view_until(
    api: &Api,
    deployment: &mut Deployment,
    path: &str,
    token: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, Value> {
    let mut last = Value::Null;
    for _ in 0..50 {
        let (_, list) = api.call(deployment, "GET", path, Some(token), None).await;
        if done(&list) {
            return Ok(list);
        }
        last = list;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last)
}

/// A stranger at 127.0.0.2 sends a second of RTP to the node's `port` at `sip`'s
/// address, then listens a second more: what it received (`Some(bytes)`) if the
/// call took it for its caller and sent it the call's audio.
async fn stranger_latches(sip: std::net::SocketAddr, port: u16) -> Option<usize> {
    let stranger = tokio::net::UdpSocket::bind(("127.0.0.2", 0))
        .await
        .expect("a socket on 127.0.0.2");
    let to = std::net::SocketAddr::new(sip.ip(), port);
    let mut received = 0;
    let mut buffer = [0u8; 2048];
    for n in 0u16..100 {
        if n < 50 {
            let mut packet = vec![0x80, 0x00];
            packet.extend_from_slice(&n.to_be_bytes());
            packet.extend_from_slice(&(u32::from(n) * 160).to_be_bytes());
            packet.extend_from_slice(&0x5EE5_u32.to_be_bytes());
            packet.extend_from_slice(&[0xFF; 160]);
            let _ = stranger.send_to(&packet, to).await;
        }
        if let Ok(Ok((len, _))) =
            tokio::time::timeout(Duration::from_millis(20), stranger.recv_from(&mut buffer)).await
        {
            received += len;
        }
    }
    (received > 0).then_some(received)
}

/// The media nodes' security group lets SIP and RTP in from the nodes' own
/// group (the cascade), and SIP from no address block (the trunk reaches the
/// nodes through the SIP entry only).
fn node_to_node_rules(problems: &mut Problems, stack: &Value) {
    let group = &stack["security_groups"]["MediaSecurityGroup"];
    let own = group["id"].as_str().unwrap_or("?");
    let rules = group["ingress"].as_array().cloned().unwrap_or_default();
    for (protocol, from, to, what) in [
        ("udp", 5060, 5060, "SIP over UDP"),
        ("tcp", 5060, 5060, "SIP over TCP"),
        ("udp", 20000, 29999, "RTP"),
    ] {
        problems.check(
            rules.iter().any(|rule| {
                rule["protocol"] == protocol
                    && rule["from_port"] == from
                    && rule["to_port"] == to
                    && rule["groups"]
                        .as_array()
                        .is_some_and(|groups| groups.iter().any(|g| g == own))
            }),
            || format!("the media nodes' security group lets no {what} in from the other nodes: {rules:?}"),
        );
    }
    problems.check(
        !rules.iter().any(|rule| {
            rule["from_port"].as_u64() <= Some(5060)
                && rule["to_port"].as_u64() >= Some(5060)
                && rule["cidrs"].as_array().is_some_and(|c| !c.is_empty())
        }),
        || {
            format!(
                "the media nodes' SIP is open to an address block, past the SIP entry: {rules:?}"
            )
        },
    );
}

/// The cascade between media nodes, as the stack deploys it: the container
/// reads the nodes' subnet (the `MediaVpcCidr` parameter) and the cascade
/// secret (from Secrets Manager, through the task's execution role: the one
/// role that may read it, and it reads no other secret); the nodes reach each
/// other ([`node_to_node_rules`]). The secret's value when the execution role
/// could read it.
async fn cascade_infra(
    problems: &mut Problems,
    deployment: &Deployment,
    stack: &Value,
) -> Option<String> {
    node_to_node_rules(problems, stack);
    let task = &stack["task_definitions"]["MediaTaskDefinition"];
    let container = &task["containers"][0];
    let vpc = parameters()
        .into_iter()
        .find(|(name, _)| *name == "MediaVpcCidr")
        .map(|(_, value)| value);
    problems.check(
        container["environment"]["TELECONF_NODE_SOURCES"].as_str() == vpc,
        || {
            format!(
                "the media node's TELECONF_NODE_SOURCES is {}, not the nodes' subnet (MediaVpcCidr {vpc:?})",
                container["environment"]["TELECONF_NODE_SOURCES"]
            )
        },
    );
    let cascade = stack["secrets"]["CascadeSecret"]
        .as_str()
        .unwrap_or_default();
    let token = stack["secrets"]["TokenSecret"].as_str().unwrap_or_default();
    problems.check(
        !cascade.is_empty() && container["secrets"]["TELECONF_CASCADE_SECRET"] == cascade,
        || {
            format!(
                "the media container's TELECONF_CASCADE_SECRET is not the stack's CascadeSecret ({cascade:?}): {}",
                container["secrets"]
            )
        },
    );
    let Some(execution) = task["execution_role"].as_str() else {
        problems.add(
            "the media task definition has no execution role: ECS cannot read its secrets".into(),
        );
        return None;
    };
    let execution = deployment.role_credentials(execution);
    let task_role = deployment.role_credentials(task["task_role"].as_str().unwrap_or_default());
    let secret = match deployment.secret_value(&execution, cascade).await {
        Ok(value) => {
            problems.check(
                value.len() >= teleconf_media_node::app::cascade::MIN_SECRET_BYTES,
                || format!("the cascade secret is {} bytes: too short", value.len()),
            );
            Some(value)
        }
        Err(why) => {
            problems.add(format!(
                "the media task's execution role cannot read the cascade secret: {why}"
            ));
            None
        }
    };
    problems.check(
        deployment.secret_value(&execution, token).await.is_err(),
        || "the media task's execution role reads the API's token secret too".into(),
    );
    for (name, arn) in [("cascade", cascade), ("API's token", token)] {
        problems.check(
            deployment.secret_value(&task_role, arn).await.is_err(),
            || format!("the media node's task role (the running code's) reads the {name} secret: only the execution role reads the cascade's, at the task's start"),
        );
    }
    secret
}

/// The status line a node's cascade INVITE into `conference`, signed with
/// `secret`, gets from the node at `sip` (sent from 127.0.0.1, a node's
/// address here).
async fn cascade_answer(
    sip: std::net::SocketAddr,
    secret: &teleconf_media_node::app::cascade::CascadeSecret,
    conference: teleconf_domain::ConferenceId,
) -> String {
    let socket = tokio::net::UdpSocket::bind(("127.0.0.1", 0))
        .await
        .expect("a socket on 127.0.0.1");
    let local = socket.local_addr().expect("its address");
    let call_id = format!("{}@member", uuid::Uuid::new_v4().simple());
    let member: NodeId = "member-node".parse().expect("a node id");
    let signed: String = teleconf_media_node::app::cascade::headers(
        secret,
        conference,
        &member,
        &call_id,
        Utc::now(),
    )
    .iter()
    .map(|header| format!("{header}\r\n"))
    .collect();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 96\r\na=rtpmap:96 L16/8000\r\na=ptime:20\r\n",
        local.port() + 2
    );
    let invite = format!(
        "INVITE sip:cascade@{sip} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK{}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:member-node@{local}>;tag=m1\r\n\
         To: <sip:cascade@{sip}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:member-node@{local}>\r\n\
         {signed}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        uuid::Uuid::new_v4().simple(),
        sdp.len()
    );
    socket
        .send_to(invite.as_bytes(), sip)
        .await
        .expect("the INVITE sent");
    let mut buffer = vec![0u8; 65_535];
    loop {
        let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buffer)).await
        else {
            return "no answer".into();
        };
        let answer = String::from_utf8_lossy(&buffer[..n]).into_owned();
        if !answer.starts_with("SIP/2.0 1") {
            return answer.lines().next().unwrap_or_default().to_string();
        }
    }
}

#[tokio::test]
async fn the_template_deployed_runs_every_piece_with_the_settings_and_roles_of_its_stack() {
    let mut deployment = Deployment::start(&["tc1", "tc2"], &parameters()).await;
    let mut problems = Problems::default();
    let stack = deployment.stack().clone();

    // What the stacks hold, as CloudFormation made them.
    shared_names(&mut problems, &deployment);
    log_retention(&mut problems, &stack);
    alarms(&mut problems, &stack);
    let cascade_secret = cascade_infra(&mut problems, &deployment, &stack).await;

    // The operator's part (README, "Deploy to AWS"): the sender identity, which
    // the template declares and moto does not create.
    let deployer = deployment.sdk_config(&deployment.deployer()).await;
    let sender = stack["not_emulated"]["MailIdentity"]["properties"]["EmailIdentity"]
        .as_str()
        .unwrap_or(MAIL_FROM)
        .to_string();
    aws_sdk_ses::Client::new(&deployer)
        .verify_email_identity()
        .email_address(&sender)
        .send()
        .await
        .expect("verifying the sender");
    let table = stack["outputs"]["TableName"]
        .as_str()
        .expect("the table")
        .to_string();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&deployer), &table);

    // The API, from its function's settings, behind its stage.
    let (stage, route_key) = api_route(&stack);
    let api = Api { stage, route_key };
    match api
        .try_call(&mut deployment, "GET", "/healthz", None, None)
        .await
    {
        Err(why) => {
            problems.add(format!("the deployed API does not answer: {why}"));
            panic!("{}", problems.0.join("\n\n"));
        }
        Ok((200, _)) => {}
        Ok((status, body)) => {
            problems.add(format!(
                "GET /healthz through stage {:?} answers {status} {body}: the deployed API serves no route",
                api.stage
            ));
            panic!("{}", problems.0.join("\n\n"));
        }
    }

    // A customer: an account with its owner, scheduling and inviting.
    let open = OpenConference::create(&store).await;
    let owner = open.owner.email.as_str().to_string();
    let (status_code, login) = api
        .call(
            &mut deployment,
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": owner, "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status_code, 200, "login through the deployed API: {login}");
    let token = login["token"].as_str().expect("a token").to_string();
    let invitee = unique_email().to_string();
    let (invited, answer) = api
        .call(
            &mut deployment,
            "POST",
            &format!("/v1/conferences/{}/invitations", open.conference.id),
            Some(&token),
            Some(json!({"invitees": [{"email": invitee, "role": "listener"}]})),
        )
        .await;
    assert_eq!(invited, 202, "{answer}");

    // The mailer, triggered as its event source mapping triggers it.
    let mut trigger = MailerTrigger::new(&deployment, &table).await;
    if wait_for_mail(&mut deployment, &mut trigger, &owner, "")
        .await
        .is_none()
    {
        problems.add(format!(
            "the conference's creator {owner} got no confirmation"
        ));
    }
    if wait_for_mail(&mut deployment, &mut trigger, &invitee, "")
        .await
        .is_none()
    {
        problems.add(format!("the invitee {invitee} got no invitation"));
    }

    // A call on the media node, run as its task definition says.
    let spool = std::env::temp_dir().join(format!("teleconf-deployed-{}", uuid::Uuid::new_v4()));
    let mut host: Vec<(&str, String)> = node_vars(&spool)
        .into_iter()
        .filter(|(name, _)| *name != "TELECONF_TRUNK_SOURCES")
        .collect();
    // What the image's entrypoint reads from the instance's metadata.
    host.push(("TELECONF_PUBLIC_IP", "127.0.0.1".into()));
    // A metrics line every second rather than every minute: the test is short.
    host.push(("TELECONF_METRICS_INTERVAL_SECS", "1".into()));
    // The nodes' subnet (MediaVpcCidr on AWS) is the loopback here: another
    // node's cascade comes from 127.0.0.1.
    if stack["task_definitions"]["MediaTaskDefinition"]["containers"][0]["environment"]
        ["TELECONF_NODE_SOURCES"]
        .is_string()
    {
        host.push(("TELECONF_NODE_SOURCES", "127.0.0.1".into()));
    }
    let (sip, mut node) = deployment.start_media_node(&host).await;
    // The node started with the cascade its task definition gives it: another
    // node's INVITE signed with the secret ECS read is taken (no room of that
    // conference here: 404), one signed with another secret refused (403).
    {
        use teleconf_media_node::app::cascade::CascadeSecret;
        let secret = cascade_secret
            .clone()
            .unwrap_or_else(|| "the stack gave the node no cascade secret".into());
        let right = CascadeSecret::new(secret.as_bytes()).expect("a long enough secret");
        let wrong = CascadeSecret::new(&[7; 32]).expect("a long enough secret");
        let signed = cascade_answer(sip, &right, open.conference.id).await;
        problems.check(signed == "SIP/2.0 404 Not Found", || {
            format!(
                "a cascade INVITE signed with the stack's cascade secret got {signed:?}, not 404 (taken, no room here): the deployed node has no cascade\n{}",
                deployment.lines("media-node").join("\n")
            )
        });
        let forged = cascade_answer(sip, &wrong, open.conference.id).await;
        problems.check(forged == "SIP/2.0 403 Forbidden", || {
            format!("a cascade INVITE signed with another secret got {forged:?}, not 403")
        });
        let mut logged = deployment.lines("media-node");
        logged.extend(deployment.lines("media-node:stdout"));
        let logged = logged.join("\n");
        problems.check(!logged.contains(secret.as_str()), || {
            "the media node's log prints the cascade secret".into()
        });
    }
    let target = format!("sip:{}@{sip}", open.access.number.as_str());
    let participants = format!("/v1/conferences/{}/participants", open.conference.id);
    let mut caller = Ua::new("127.0.0.1", sip).await;
    let answer = caller.join(&target, &open, CallerRole::Participant).await;
    // The caller's offered media address never sends: a stranger off the trunk's
    // media addresses (as the stack sets them) sending first must not be taken
    // for it, or it would hear the conference.
    if let Some(heard) = stranger_latches(sip, media_port(&answer)).await {
        problems.add(format!(
            "a stranger's RTP to a call whose offered address never sends was taken: it got {heard} bytes of the call's audio (TELECONF_TRUNK_MEDIA_SOURCES={:?})",
            stack["task_definitions"]["MediaTaskDefinition"]["containers"][0]["environment"]
                ["TELECONF_TRUNK_MEDIA_SOURCES"]
        ));
    }
    match live_view_until(&api, &mut deployment, &participants, &token, |l| {
        l[0]["leg_id"].is_string()
    })
    .await
    {
        Err(list) => problems.add(format!("the live view never showed the caller: {list}")),
        Ok(list) => {
            let leg = list[0]["leg_id"].as_str().unwrap_or_default().to_string();
            let (queued, answer) = api
                .call(
                    &mut deployment,
                    "POST",
                    &format!("/v1/conferences/{}/controls", open.conference.id),
                    Some(&token),
                    Some(json!({"command": "mute", "leg_id": leg})),
                )
                .await;
            problems.check(queued == 202, || {
                format!("queuing a mute: {queued} {answer}")
            });
            if live_view_until(&api, &mut deployment, &participants, &token, |l| {
                l[0]["muted"] == true
            })
            .await
            .is_err()
            {
                problems.add("the node never applied the portal's mute".into());
            }
            let mut left = Vec::new();
            for _ in 0..50 {
                left = store
                    .pending_controls(open.conference.id)
                    .await
                    .expect("the queue");
                if left.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            problems.check(left.is_empty(), || {
                format!("the node applied the mute but could not take it off the queue: {left:?}")
            });
        }
    }
    let bye = caller.request("BYE", &target, "", "");
    caller.send(&bye).await;
    let answer = caller.final_response().await;
    problems.check(status(&answer) == "SIP/2.0 200 OK", || {
        format!("BYE answered {answer}")
    });
    if let Err(list) = live_view_until(&api, &mut deployment, &participants, &token, |l| {
        l.as_array().is_some_and(Vec::is_empty)
    })
    .await
    {
        problems.add(format!(
            "the caller hung up and the live view still shows them: {list}"
        ));
    }
    let mut legs = Vec::new();
    for _ in 0..50 {
        legs = store
            .legs_of_conference(open.conference.id)
            .await
            .expect("the legs");
        if legs.iter().all(|l| l.left_at.is_some()) && !legs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    problems.check(legs.len() == 1 && legs[0].left_at.is_some(), || {
        format!("the call's CDR is not closed: {legs:?}")
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = node.start_kill();
    let _ = node.wait().await;

    // Billing, on the event its deployed on-demand rule matches, mailing the invoice.
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let last_month = this_month - Days::days(20);
    let mut account = Account::new("Facturé Inc.", this_month - Days::days(70)).unwrap();
    account.time_zone = chrono_tz::UTC;
    store.create_account(&account).await.expect("an account");
    let billed_owner = User::new(
        account.id,
        unique_email(),
        "Paula Payer",
        Role::Owner,
        "a long enough password",
        account.created_at,
    )
    .unwrap();
    store.create_user(&billed_owner).await.expect("its owner");
    let conference = create_conference(&store, &billed_owner).await;
    store
        .put_leg(&synthetic_leg(
            &account,
            conference.id,
            conference.number.clone(),
            last_month,
            754_000,
        ))
        .await
        .expect("a leg");
    let rule = deployment.function("BillingFunction")["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["pattern"].is_string())
        .cloned()
        .expect("the on-demand rule");
    let month = YearMonth::of(last_month, chrono_tz::UTC).to_string();
    let event = json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Billing Requested",
        "source": "teleconf.billing",
        "account": "123456789012",
        "time": now.to_rfc3339(),
        "region": "us-east-1",
        "resources": [],
        "detail": {"month": month, "account_id": account.id.to_string()}
    });
    let pattern: Value = serde_json::from_str(rule["pattern"].as_str().unwrap()).unwrap();
    assert!(
        event_pattern::matches(&pattern, &event).unwrap(),
        "the on-demand rule {pattern} matches a billing request"
    );
    let (billed, answer) = deployment
        .invoke("BillingFunction", &event)
        .await
        .unwrap_or_else(|why| panic!("the deployed billing: {why}"));
    problems.check(billed == 200 && answer["invoices_issued"] == 1, || {
        format!("billing {month}: {billed} {answer}")
    });
    match wait_for_mail(
        &mut deployment,
        &mut trigger,
        billed_owner.email.as_str(),
        "Votre facture",
    )
    .await
    {
        None => problems.add(format!(
            "the invoice of {month} was issued and its owner got no mail"
        )),
        Some(mail) => problems.check(
            mail.attachments
                .iter()
                .any(|(name, ctype, _)| ctype == "application/pdf" || name.ends_with(".pdf")),
            || format!("the invoice mail has no PDF: {:?}", mail.attachments),
        ),
    }
    for kind in &trigger.dropped_kinds {
        problems.add(format!(
            "the mailer's stream filter drops {kind} records, which the mailer mails about"
        ));
    }

    // A node lost an hour ago with a caller on the line: the tick's reaper closes
    // the leg under the scheduler's role.
    let lost: NodeId = format!("lost-{}", uuid::Uuid::new_v4()).parse().unwrap();
    let lost_at = now - Days::hours(1);
    let lost_leg = CallLeg {
        left_at: None,
        cause: None,
        quality: None,
        node: Some(lost.clone()),
        ..synthetic_leg(
            &account,
            conference.id,
            conference.number.clone(),
            lost_at - Days::minutes(5),
            0,
        )
    };
    store.put_leg(&lost_leg).await.expect("the lost node's leg");
    store
        .put_heartbeat(&NodeHeartbeat {
            node_id: lost.clone(),
            sip: "10.0.0.9:5060".parse().unwrap(),
            state: NodeState::Active,
            calls: 1,
            participants: 1,
            heartbeat_at: lost_at,
        })
        .await
        .expect("the lost node's heartbeat");

    // The scheduler, on the event its schedule sends.
    let schedule = stack["not_emulated"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, r)| r)
        .find(|r| r["type"] == "AWS::Scheduler::Schedule")
        .cloned()
        .expect("the scheduler's schedule");
    let tick = match schedule["properties"]["Target"]["Input"].as_str() {
        Some(input) => serde_json::from_str(
            &input
                .replace(
                    "<aws.scheduler.scheduled-time>",
                    &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .replace(
                    "<aws.scheduler.execution-id>",
                    &uuid::Uuid::new_v4().to_string(),
                )
                .replace(
                    "<aws.scheduler.schedule-arn>",
                    "arn:aws:scheduler:us-east-1:123456789012:schedule/default/tick",
                ),
        )
        .expect("the schedule's input is JSON"),
        None => json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": "123456789012",
            "time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": "us-east-1",
            "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/tick"],
            "detail": "{}"
        }),
    };
    let (ticked, answer) = deployment
        .invoke("SchedulerFunction", &tick)
        .await
        .unwrap_or_else(|why| panic!("the deployed scheduler: {why}"));
    problems.check(ticked == 200, || {
        format!("the scheduler's tick failed: {answer}")
    });
    let reaped = store
        .legs_of_conference(conference.id)
        .await
        .expect("the legs")
        .into_iter()
        .find(|l| l.id == lost_leg.id);
    problems.check(
        reaped.as_ref().is_some_and(|l| {
            l.cause == Some(DisconnectCause::NodeLost) && l.left_at == Some(lost_at)
        }),
        || format!("the tick did not reap the lost node's leg: {reaped:?}"),
    );

    // Logs: JSON, no colour, the request or call named.
    for logical in [
        "ApiFunction",
        "MailerFunction",
        "BillingFunction",
        "SchedulerFunction",
    ] {
        json_logs(
            &mut problems,
            logical,
            &deployment.lines(logical),
            "requestId",
        );
    }
    let node_lines = deployment.lines("media-node");
    json_logs(&mut problems, "the media node", &node_lines, "call_id");
    for line in &node_lines {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let message = value["message"].as_str().unwrap_or_default();
        let of_a_call = [
            "call:",
            "ivr:",
            "rtp:",
            "node: new call",
            "node: call ended",
        ]
        .iter()
        .any(|prefix| message.starts_with(prefix));
        problems.check(
            !of_a_call || value.to_string().contains("\"call_id\""),
            || format!("a line of a call does not name it (call_id): {line}"),
        );
    }
    media_metrics(
        &mut problems,
        &stack,
        &deployment.lines("media-node:stdout"),
    );

    // An update keeps the media service's count where autoscaling put it: the
    // service declares no DesiredCount (CloudFormation sets a declared one again
    // on every update that touches the service), and an update here keeps it.
    let declared = &stack["services"]["MediaService"]["declared_desired_count"];
    problems.check(declared.is_null(), || {
        format!("the media service declares DesiredCount {declared}: every stack update resets the scaled service to it")
    });
    let mut again = parameters();
    again.retain(|(name, _)| *name != "TrunkSources");
    again.push(("TrunkSources", "127.0.0.1,127.0.0.2"));
    match deployment.scale_then_update(3, &again).await {
        Err(why) => problems.add(format!("a stack update failed: {why}")),
        Ok(updated) => {
            let count = &updated["services"]["MediaService"]["desired_count"];
            problems.check(count == 3, || {
                format!("a stack update reset the scaled media service from 3 tasks to {count}")
            });
        }
    }

    assert!(problems.0.is_empty(), "{}", problems.0.join("\n\n"));
}
