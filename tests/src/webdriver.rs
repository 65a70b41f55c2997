//! A headless Chromium with WebGPU, driven over the W3C WebDriver protocol through
//! ChromeDriver: the browser tests load shatter's page in it, press its buttons and read
//! its DOM. Chromium's only WebGPU adapter on a machine without a GPU is its bundled
//! SwiftShader, a CPU adapter that it offers only with `--enable-unsafe-webgpu`.
//!
//! Without Debian's `chromium` and `chromium-driver` the browser tests skip with a
//! message, and fail instead when `SHATTER_REQUIRE_BROWSER=1` (as in CI).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags every browser test starts Chromium with: headless, WebGPU on CPU adapters,
/// and no sandbox (CI runs as root, where Chromium's sandbox refuses to start).
pub const CHROMIUM_ARGS: [&str; 4] = [
    "--headless=new",
    "--no-sandbox",
    "--enable-unsafe-webgpu",
    "--window-size=1400,1800",
];

/// Whether Chromium and ChromeDriver are installed; where they are not, say so, and panic
/// where `SHATTER_REQUIRE_BROWSER=1`.
pub fn browser_available() -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("SHATTER_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "SHATTER_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing \
                 (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "SKIPPED: no {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium \
             chromium-driver; set SHATTER_REQUIRE_BROWSER=1 to make this a failure)"
        );
    }
    present
}

/// One browser session; dropping it closes the browser and its driver.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    /// Start ChromeDriver on a free port and open a headless Chromium session.
    pub fn start() -> Result<Self> {
        let port = free_port()?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while browser.call("GET", "/status", None).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": CHROMIUM, "args": CHROMIUM_ARGS}
        }}});
        let session = browser.call("POST", "/session", Some(capabilities))?;
        browser.session = session["sessionId"]
            .as_str()
            .context("no sessionId in chromedriver's answer")?
            .to_owned();
        Ok(browser)
    }

    /// One WebDriver command; its `value`, or the driver's error as an error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call()?,
            ("DELETE", _) => self.agent.delete(&url).call()?,
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string())?,
        };
        let text = response.body_mut().read_to_string()?;
        let answer: Value = serde_json::from_str(&text)
            .with_context(|| format!("chromedriver's answer to {method} {path}: {text}"))?;
        let value = answer["value"].clone();
        if let Some(error) = value.get("error") {
            bail!("{method} {path}: {error}: {}", value["message"]);
        }
        Ok(value)
    }

    fn session_path(&self, tail: &str) -> String {
        format!("/session/{}{tail}", self.session)
    }

    pub fn open(&self, url: &str) -> Result<()> {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        )?;
        Ok(())
    }

    /// Run `script` (a function body: `return ...`) in the page and return its value.
    pub fn execute(&self, script: &str) -> Result<Value> {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Poll `script` every half second until it returns true; fail after `limit` with
    /// what `describe` (another script) says about the page then.
    pub fn wait_for(&self, script: &str, limit: Duration, describe: &str) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if self.execute(script)? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "waited {} s for `{script}`; the page says {}",
                    limit.as_secs(),
                    self.execute(describe)?
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The visible window as PNG bytes.
    pub fn screenshot(&self) -> Result<Vec<u8>> {
        let encoded = self.call("GET", &self.session_path("/screenshot"), None)?;
        let encoded = encoded.as_str().context("a screenshot is a string")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded)?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &self.session_path(""), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A port no one listens on now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
