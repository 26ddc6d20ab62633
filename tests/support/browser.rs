//! A real browser for the portal's tests: headless Chromium (Debian's `chromium`)
//! driven through WebDriver by `chromedriver` (Debian's `chromium-driver`) with
//! fantoccini, against the API router (and so the portal) served on loopback.
//!
//! [`Browser::start`] installs the two packages when missing (`make deps-browser`,
//! apt), starts a chromedriver of its own on a free port and a Chromium session
//! whose downloads go to a fresh directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::api::TestApi;

/// The workspace root (where `make deps-browser` runs and `portal/screenshots/` is).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Installs chromium and chromedriver when either is missing (through the
/// Makefile's `deps-browser`, which uses apt).
pub fn ensure_installed() -> anyhow::Result<()> {
    let present = |cmd: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {cmd}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if present("chromium") && present("chromedriver") {
        return Ok(());
    }
    let status = std::process::Command::new("make")
        .arg("deps-browser")
        .current_dir(workspace_root())
        .status()
        .context("running make deps-browser")?;
    anyhow::ensure!(status.success(), "make deps-browser failed: {status}");
    Ok(())
}

/// The API router (with the portal) on a loopback port, over `api`'s state; the base URL.
pub async fn serve(api: &TestApi) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let app = teleconf_portal::mount(teleconf_api::router(api.state.clone()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("the portal server");
    });
    format!("http://{addr}")
}

/// A headless Chromium session and the chromedriver behind it (killed on drop).
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Where downloads land.
    pub downloads: PathBuf,
    /// The portal's base URL (`http://127.0.0.1:PORT`).
    pub base: String,
    driver: Child,
}

impl Browser {
    /// Installs the browser if needed, starts chromedriver and a session on `base`.
    pub async fn start(base: &str) -> anyhow::Result<Self> {
        ensure_installed()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting chromedriver")?;
        let downloads = std::env::temp_dir().join(format!(
            "teleconf-downloads-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&downloads)?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", "--lang=fr-CA"],
                "prefs": {
                    "download.default_directory": downloads.to_string_lossy(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..50 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Ok(Self {
                        client,
                        downloads,
                        base: base.to_string(),
                        driver,
                    });
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        anyhow::bail!("chromedriver did not start a session: {last:?}")
    }

    /// Opens `path` of the portal (`/portal/…`).
    pub async fn open(&self, path: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{}{path}", self.base)).await?;
        Ok(())
    }

    /// Sets the value of the input with id `id` (date and time inputs included).
    pub async fn set(&self, id: &str, value: &str) -> anyhow::Result<()> {
        self.client
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![json!(id), json!(value)],
            )
            .await
            .with_context(|| format!("setting #{id}"))?;
        Ok(())
    }

    /// Types into the input with id `id`.
    pub async fn fill(&self, id: &str, value: &str) -> anyhow::Result<()> {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .with_context(|| format!("#{id}"))?;
        el.clear().await?;
        el.send_keys(value).await?;
        Ok(())
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| css.to_string())?
            .click()
            .await?;
        Ok(())
    }

    /// The text of the first element matching `css`, waiting up to 10 s for it to
    /// appear (a click that submits a form may return before the next page is in).
    /// An element found on the page being replaced is gone by the time it is read
    /// (stale): it is looked for again, on the page that replaced it.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let element = self
                .client
                .wait()
                .at_most(deadline.saturating_duration_since(std::time::Instant::now()))
                .for_element(Locator::Css(css))
                .await
                .with_context(|| css.to_string())?;
            match element.text().await {
                Err(error)
                    if error.is_stale_element_reference()
                        && std::time::Instant::now() < deadline => {}
                read => return read.with_context(|| css.to_string()),
            }
        }
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// Switches the portal to its other language by the header's link, and waits
    /// for the page in `lang` (`fr`, `en`).
    pub async fn switch_language(&self, lang: &str) -> anyhow::Result<()> {
        self.click("a.lang-switch").await?;
        self.client
            .wait()
            .for_element(Locator::Css(&format!("html[lang={lang}]")))
            .await?;
        Ok(())
    }

    /// Signs in through the sign-in form.
    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<()> {
        self.open("/portal/sign-in").await?;
        self.fill("f-email", email).await?;
        self.fill("f-password", password).await?;
        self.click("form button[type=submit]").await?;
        if let Err(e) = self.client.wait().for_element(Locator::Css("nav")).await {
            let page = self.client.source().await.unwrap_or_default();
            anyhow::bail!("signing in as {email} led to no signed-in page ({e}): {page}");
        }
        Ok(())
    }

    /// Signs out with the header's button, and waits for the sign-in form.
    pub async fn sign_out(&self) -> anyhow::Result<()> {
        self.click("header form button[type=submit]").await?;
        self.client
            .wait()
            .for_element(Locator::Id("f-email"))
            .await
            .context("signing out led to no sign-in form")?;
        Ok(())
    }

    /// Saves the page as `portal/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        let png = self.client.screenshot().await?;
        let dir = workspace_root().join("portal/screenshots");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// Waits up to 10 s for a downloaded file named `name`; its content.
    pub async fn downloaded(&self, name: &str) -> anyhow::Result<String> {
        let path = self.downloads.join(name);
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Ok(text);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("{} was never downloaded", path.display())
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        let _ = self.driver.kill().await;
        Ok(())
    }
}
