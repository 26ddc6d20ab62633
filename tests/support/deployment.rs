//! `infra/template.json` deployed into an emulator of its own, and the service run
//! from what the deployed stack holds.
//!
//! [`Deployment::start`]:
//! - starts a moto server on a free port (`scripts/moto_server_serial.py`, the
//!   shared emulator's own wrapper) for this deployment alone: it enforces IAM,
//!   which the other tests' emulator does not;
//! - runs `scripts/deploy_emulator.py`: the AWS SAM translator turns the template
//!   into CloudFormation, moto creates the stacks, and the script prints what they
//!   hold (functions with their environment, role and triggers, the HTTP API's
//!   stage, the media node's task definition, log groups, alarms…) with
//!   credentials of every role (STS AssumeRole); from then on moto enforces IAM;
//! - starts the Lambda runtime API (`cargo lambda watch --only-lambda-apis`, from
//!   PyPI's cargo-lambda; it builds nothing) and each function's binary, the one
//!   `make build` put in `target/debug`, under it: the deployed function's
//!   environment and its role's credentials, and nothing of the test's own
//!   environment.
//!
//! Events reach a function through the runtime API ([`Deployment::invoke`]); the
//! media node runs as its task definition says ([`Deployment::start_media_node`]).
//! Every line a process writes is kept ([`Deployment::output`]).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// Parameters the deployment is given, as an operator would give them.
pub const MAIL_FROM: &str = "conferences@teleconf.example";
/// The portal's address (mail links).
pub const PORTAL_URL: &str = "https://portail.teleconf.example";
/// Where alarms are sent.
pub const ALARM_EMAIL: &str = "astreinte@teleconf.example";

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn tool(relative: &str) -> PathBuf {
    let path = repo_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: `make deps` installs the emulator (.venv) and the deployment tools (.venv-tools)",
        path.display()
    );
    path
}

/// A binary `make build` produced, beside this test binary's directory.
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .filter(|path| path.exists())
        .unwrap_or_else(|| panic!("target/…/{name}: build it first (`make test` does)"))
}

/// Lines written by the processes of a deployment, by process name.
pub type Output = Arc<Mutex<BTreeMap<String, Vec<String>>>>;

fn keep_lines(output: &Output, name: &str, stream: impl AsyncRead + Unpin + Send + 'static) {
    let output = output.clone();
    let name = name.to_string();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            output
                .lock()
                .expect("output")
                .entry(name.clone())
                .or_default()
                .push(line);
        }
    });
}

/// AWS credentials, as STS and IAM hand them out.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The access key.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// The session token (assumed roles).
    pub session_token: Option<String>,
}

impl Credentials {
    fn from_json(value: &Value) -> Self {
        Self {
            access_key_id: value["AccessKeyId"].as_str().unwrap_or_default().into(),
            secret_access_key: value["SecretAccessKey"].as_str().unwrap_or_default().into(),
            session_token: value["SessionToken"].as_str().map(String::from),
        }
    }

    /// The variables a process reads them from (what Lambda and ECS set).
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID", self.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_access_key.clone()),
        ];
        if let Some(token) = &self.session_token {
            vars.push(("AWS_SESSION_TOKEN", token.clone()));
        }
        vars
    }
}

/// A deployed function running under the runtime API.
#[derive(Debug)]
struct Running {
    child: Child,
}

/// The template, deployed.
#[derive(Debug)]
pub struct Deployment {
    /// The emulator's endpoint.
    pub endpoint: String,
    /// What `deploy_emulator.py` printed: `stacks`, `role_credentials`, `deployer`.
    pub manifest: Value,
    /// Every line each process wrote: its standard error under its name (`moto`,
    /// `runtime`, a function's logical id, `media-node`), its standard output under
    /// `NAME:stdout`.
    pub output: Output,
    moto: Child,
    runtime: Option<(Child, u16)>,
    functions: BTreeMap<String, Running>,
    http: reqwest::Client,
}

/// How long the emulator, the runtime API or a function may take to come up.
const STARTUP: Duration = Duration::from_secs(60);

async fn wait_for_port(port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + STARTUP;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not listen on {port} within {STARTUP:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Deployment {
    /// Deploys one stack per stage (the first is the one run), with `params`
    /// beside the VPC and subnets the script creates.
    pub async fn start(stages: &[&str], params: &[(&str, &str)]) -> Self {
        let root = repo_root();
        let output = Output::default();
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut moto = Command::new(tool(".venv/bin/python"))
            .arg(root.join("scripts/moto_server_serial.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("moto starts");
        keep_lines(&output, "moto", moto.stderr.take().expect("moto's stderr"));
        wait_for_port(port, "moto").await;

        let mut deploy = Command::new(tool(".venv-tools/bin/python"));
        deploy
            .arg(root.join("scripts/deploy_emulator.py"))
            .args(["--endpoint", &endpoint]);
        for stage in stages {
            deploy.args(["--stage", stage]);
        }
        for (name, value) in params {
            deploy.args(["--param", &format!("{name}={value}")]);
        }
        let out = deploy
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .await
            .expect("deploy_emulator.py runs");
        assert!(
            out.status.success(),
            "deploying the template failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest: Value =
            serde_json::from_slice(&out.stdout).expect("deploy_emulator.py prints JSON");
        Self {
            endpoint,
            manifest,
            output,
            moto,
            runtime: None,
            functions: BTreeMap::new(),
            http: reqwest::Client::new(),
        }
    }

    /// The first stack's description.
    pub fn stack(&self) -> &Value {
        &self.manifest["stacks"][0]
    }

    /// Every stack's description.
    pub fn stacks(&self) -> &[Value] {
        self.manifest["stacks"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The deployed function `logical` (e.g. `ApiFunction`) of the first stack.
    pub fn function(&self, logical: &str) -> &Value {
        let function = &self.stack()["functions"][logical];
        assert!(function.is_object(), "the stack has no function {logical}");
        function
    }

    /// Credentials of the role `arn`, from STS AssumeRole.
    pub fn role_credentials(&self, arn: &str) -> Credentials {
        let value = &self.manifest["role_credentials"][arn];
        assert!(value.is_object(), "no credentials for role {arn}");
        Credentials::from_json(value)
    }

    /// The operator's own keys (an administrator), for what the test does as AWS
    /// (the event source mapping reading the stream, seeding, reading results).
    pub fn deployer(&self) -> Credentials {
        Credentials::from_json(&self.manifest["deployer"])
    }

    /// An SDK configuration for the emulator with `credentials`.
    pub async fn sdk_config(&self, credentials: &Credentials) -> aws_config::SdkConfig {
        teleconf_adapters::aws::sdk_loader()
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.clone(),
                credentials.session_token.clone(),
                None,
                "deployment",
            ))
            .load()
            .await
    }

    /// Spawns `command` with its output kept under `name` (standard error) and
    /// `name:stdout`, killed when dropped.
    fn spawn_kept(&self, mut command: Command, name: &str) -> Child {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        keep_lines(
            &self.output,
            &format!("{name}:stdout"),
            child.stdout.take().expect("stdout"),
        );
        keep_lines(&self.output, name, child.stderr.take().expect("stderr"));
        child
    }

    /// `binary` with nothing of the test's environment: the emulator, the role's
    /// `credentials` and the deployed `environment` (a JSON object of strings).
    fn deployed_command(
        &self,
        binary: &str,
        credentials: &Credentials,
        environment: &Value,
    ) -> Command {
        let mut command = Command::new(built_binary(binary));
        command
            .env_clear()
            .envs(self.base_env())
            .envs(credentials.vars());
        if let Some(vars) = environment.as_object() {
            command.envs(
                vars.iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default())),
            );
        }
        command
    }

    /// The variables every process of the stack gets: the emulator and a region.
    fn base_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    async fn runtime_port(&mut self) -> u16 {
        if let Some((_, port)) = &self.runtime {
            return *port;
        }
        let port = free_port();
        let mut command = Command::new(tool(".venv-tools/bin/cargo-lambda"));
        command
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(repo_root());
        let runtime = self.spawn_kept(command, "runtime");
        wait_for_port(port, "the Lambda runtime API").await;
        self.runtime = Some((runtime, port));
        port
    }

    /// Starts the deployed function `logical`'s sandbox: its binary under the
    /// runtime API with its environment, its role's credentials, the variables
    /// Lambda sets, and its log format.
    fn start_function(&self, logical: &str, port: u16) -> Child {
        let function = self.function(logical).clone();
        let binary = function["binary"].as_str().expect("a binary").to_string();
        let credentials = self.role_credentials(function["role"].as_str().expect("a role"));
        let mut command = self.deployed_command(&binary, &credentials, &function["environment"]);
        let name = function["name"].as_str().unwrap_or_default();
        command
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function["memory"].to_string(),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            // cargo lambda's runtime API serves each function under its own path.
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{binary}"),
            );
        // Lambda's advanced logging controls reach the runtime as these two.
        if let Some(format) = function["logging"]["LogFormat"].as_str() {
            command.env("AWS_LAMBDA_LOG_FORMAT", format);
        }
        if let Some(level) = function["logging"]["ApplicationLogLevel"].as_str() {
            command.env("AWS_LAMBDA_LOG_LEVEL", level);
        }
        self.spawn_kept(command, logical)
    }

    /// One invocation of the function `logical` with `event` through the runtime
    /// API: the status (200, or 500 when the handler returned an error) and the
    /// function's answer. The function's sandbox starts on its first invocation
    /// (cargo lambda's runtime API answers a poll for a function never invoked
    /// with no event, which the runtime cannot take) and serves the next ones.
    /// `Err` says why there is no answer: the process exited (an init that
    /// fails, a crash), with what it wrote.
    pub async fn invoke(&mut self, logical: &str, event: &Value) -> Result<(u16, Value), String> {
        let port = self.runtime_port().await;
        let binary = self.function(logical)["binary"]
            .as_str()
            .expect("a binary")
            .to_string();
        let request = self
            .http
            .post(format!(
                "http://127.0.0.1:{port}/2015-03-31/functions/{binary}/invocations"
            ))
            .json(event)
            .timeout(Duration::from_secs(90))
            .send();
        tokio::pin!(request);
        if !self.functions.contains_key(logical) {
            // Queue the event first, then start the sandbox that takes it.
            let queued = tokio::time::timeout(Duration::from_millis(300), &mut request).await;
            if let Ok(response) = queued {
                return Err(format!(
                    "the runtime API answered before any sandbox ran: {response:?}"
                ));
            }
            let child = self.start_function(logical, port);
            self.functions
                .insert(logical.to_string(), Running { child });
        }
        let response = loop {
            tokio::select! {
                response = &mut request => break response,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    let running = self.functions.get_mut(logical).expect("a sandbox");
                    if let Ok(Some(status)) = running.child.try_wait() {
                        self.functions.remove(logical);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Err(format!(
                            "{logical} exited with {status}:\n{}",
                            self.lines(logical).join("\n")
                        ));
                    }
                }
            }
        };
        let response = response.map_err(|e| format!("invoking {logical}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("the invocation's answer");
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        Ok((status, value))
    }

    /// The lines process `name` wrote so far.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.output
            .lock()
            .expect("output")
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// The last `n` lines of every process, for a failure's message.
    pub fn tails(&self, n: usize) -> String {
        let output = self.output.lock().expect("output");
        output
            .iter()
            .map(|(name, lines)| {
                let tail = &lines[lines.len().saturating_sub(n)..];
                format!("--- {name}\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The value of the secret `arn` (Secrets Manager's GetSecretValue) read
    /// with `credentials`, under the emulator's IAM enforcement; `Err` says why
    /// not (an access denied names the action).
    pub async fn secret_value(
        &self,
        credentials: &Credentials,
        arn: &str,
    ) -> Result<String, String> {
        let client = aws_sdk_secretsmanager::Client::new(&self.sdk_config(credentials).await);
        let answer = client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "{:?}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?;
        answer
            .secret_string
            .ok_or_else(|| format!("the secret {arn} holds no string"))
    }

    /// The container's `Secrets` of the task definition `task` (its
    /// description), as ECS puts them in the container's environment when the
    /// task starts: each `valueFrom` read with the task's execution role; a
    /// secret it cannot read stops the task from starting (`Err`).
    pub async fn container_secrets(&self, task: &Value) -> Result<Vec<(String, String)>, String> {
        let secrets = task["containers"][0]["secrets"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if secrets.is_empty() {
            return Ok(Vec::new());
        }
        let role = task["execution_role"].as_str().ok_or_else(|| {
            "the container has Secrets but the task definition no execution role to read them with"
                .to_string()
        })?;
        let credentials = self.role_credentials(role);
        let mut vars = Vec::new();
        for (name, from) in secrets {
            let arn = from.as_str().unwrap_or_default();
            let value = self
                .secret_value(&credentials, arn)
                .await
                .map_err(|why| format!("{name}: the execution role cannot read {arn}: {why}"))?;
            vars.push((name, value));
        }
        Ok(vars)
    }

    /// The media node as its task definition runs it: the container's
    /// environment and secrets (read as ECS reads them, with the execution
    /// role), the task role's credentials, the host's own addresses (`sip`, its
    /// RTP ports and spool directory, the nodes' subnet) in place of the
    /// instance's.
    pub async fn start_media_node(&self, host: &[(&str, String)]) -> (SocketAddr, Child) {
        let task = &self.stack()["task_definitions"]["MediaTaskDefinition"];
        let role = task["task_role"]
            .as_str()
            .expect("the task definition names a task role")
            .to_string();
        let credentials = self.role_credentials(&role);
        let secrets = self
            .container_secrets(task)
            .await
            .unwrap_or_else(|why| panic!("ECS could not start the media node's task: {why}"));
        let mut command = self.deployed_command(
            "teleconf-media-node",
            &credentials,
            &task["containers"][0]["environment"],
        );
        command.envs(secrets);
        command.envs(host.iter().map(|(k, v)| (*k, v.as_str())));
        let mut child = self.spawn_kept(command, "media-node");
        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            if let Some(addr) = self.lines("media-node:stdout").iter().find_map(|line| {
                line.split("media node: sip:")
                    .nth(1)
                    .and_then(|rest| rest.split([' ', '"']).next())
                    .and_then(|addr| addr.parse().ok())
            }) {
                return (addr, child);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the media node exited with {status}:\n{}",
                    self.lines("media-node").join("\n")
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the media node did not listen in time:\n{}",
                self.lines("media-node").join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scales the media service to `tasks` (as Application Auto Scaling does), then
    /// updates the first stack with `params` changed (`deploy_emulator.py
    /// --update-stage`); the stack's new description.
    pub async fn scale_then_update(
        &self,
        tasks: u32,
        params: &[(&str, &str)],
    ) -> Result<Value, String> {
        let stage = self.stack()["stack"]
            .as_str()
            .and_then(|s| s.strip_prefix("teleconf-"))
            .expect("a stack named teleconf-STAGE")
            .to_string();
        let mut update = Command::new(tool(".venv-tools/bin/python"));
        update
            .arg(repo_root().join("scripts/deploy_emulator.py"))
            .args(["--endpoint", &self.endpoint, "--update-stage", &stage])
            .args(["--scale-media-service", &tasks.to_string()]);
        for (name, value) in params {
            update.args(["--param", &format!("{name}={value}")]);
        }
        let out = update.output().await.expect("deploy_emulator.py runs");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for running in self.functions.values_mut() {
            let _ = running.child.start_kill();
        }
        if let Some((runtime, _)) = self.runtime.as_mut() {
            let _ = runtime.start_kill();
        }
        let _ = self.moto.start_kill();
    }
}
