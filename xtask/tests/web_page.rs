//! shatter's page in a real browser: `cargo xtask web` builds the WebAssembly and serves
//! web/, and a headless Chromium (WebGPU through its SwiftShader CPU adapter) loads it,
//! presses Start as a visitor would, and watches the MLP fit every randomization of 256
//! bundled images. The test reads the outcome from the DOM (the results table, the
//! curves' points) and leaves a screenshot in target/web-page/page.png (the README's
//! picture: assets/readme/web-page.png is a copy).
//!
//! Skips without Chromium and ChromeDriver, and fails instead with
//! SHATTER_REQUIRE_BROWSER=1 (see shatter_tests::webdriver).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use shatter_tests::webdriver::{Browser, browser_available};

/// `cargo xtask web --port 0`, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Build the page and serve it; returns once the server prints its address.
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["web", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("xtask web starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("xtask web printed its address before exiting")
                .expect("a line of output");
            if let Some(rest) = line.strip_prefix("serving ") {
                break rest.split_whitespace().next().expect("a URL").to_owned();
            }
        };
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SETTINGS: [&str; 6] = [
    "none",
    "labels:0.5",
    "random-labels",
    "shuffled-pixels",
    "random-pixels",
    "gaussian",
];

/// What a wait that timed out reports: the page's state, status line and error line.
const DESCRIBE: &str = "return [document.getElementById('status').dataset.state, \
                        document.getElementById('status').textContent, \
                        document.getElementById('error').textContent]";

/// Open `url` and wait while the page opens WebGPU and its module, until it waits for Start.
fn open_page(browser: &Browser, url: &str) {
    browser.open(url).expect("the page loads");
    browser
        .wait_for(
            "return document.getElementById('status').dataset.state === 'idle'",
            Duration::from_secs(120),
            DESCRIBE,
        )
        .expect("the lab opens");
}

/// Press Start, wait until the page is done with `what`, and check it showed no error.
fn start_and_finish(browser: &Browser, within: Duration, what: &str) {
    browser
        .execute("document.getElementById('start').click(); return true")
        .unwrap();
    browser
        .wait_for(
            "return document.getElementById('status').dataset.state === 'done'",
            within,
            DESCRIBE,
        )
        .unwrap_or_else(|e| panic!("{what} did not finish: {e:#}"));
    let error = browser
        .execute("return document.getElementById('error').textContent")
        .unwrap();
    assert_eq!(
        error,
        Value::String(String::new()),
        "{what}: no error shown"
    );
}

#[test]
fn the_page_fits_random_labels_live_in_a_browser() {
    if !browser_available() {
        return;
    }
    let server = Server::start();
    let browser = Browser::start().expect("a headless Chromium session");
    let page = format!(
        "{}?model=mlp1x512&images=256&epochs=60&settings={}",
        server.url,
        SETTINGS.join(",")
    );
    open_page(&browser, &page);
    let adapter = browser
        .execute("return document.getElementById('adapter').textContent")
        .unwrap();
    let adapter = adapter.as_str().unwrap();
    assert!(
        adapter.contains("[browserwebgpu, Cpu]") && adapter.contains("storage buffers per stage"),
        "{adapter}"
    );
    start_and_finish(&browser, Duration::from_secs(600), "every run");

    let results = browser
        .execute("return window.shatterPage.results()")
        .unwrap();
    let results = results.as_array().expect("one result per setting");
    assert_eq!(results.len(), SETTINGS.len());
    for (result, setting) in results.iter().zip(SETTINGS) {
        assert_eq!(result["setting"], setting);
        let epochs = result["epochs"].as_array().unwrap();
        let last = epochs.last().expect("an epoch");
        // Every randomization is memorized: the paper's claim, live.
        assert_eq!(last["train_accuracy"], 1.0, "{setting}: {last}");
        assert_eq!(result["fittedEpoch"], last["epoch"], "{setting}");
        assert_eq!(last["epoch"].as_u64().unwrap() as usize, epochs.len());
        // The row shows it, and each chart has a point per epoch.
        let row = format!("#results tr[data-setting=\"{setting}\"]");
        let shown = browser
            .execute(&format!(
                "const row = document.querySelector('{row}'); \
                 return [row.dataset.trainAccuracy, row.querySelector('td.train-acc').textContent, \
                         row.dataset.fittedEpoch]"
            ))
            .unwrap();
        assert_eq!(shown[0], "1", "{setting}: {shown}");
        assert_eq!(shown[1], "100.0%", "{setting}: {shown}");
        assert_eq!(shown[2], last["epoch"].to_string(), "{setting}: {shown}");
        for chart in ["chart-loss", "chart-train-acc", "chart-test-acc"] {
            let points = browser
                .execute(&format!(
                    "return document.querySelector('#{chart} polyline[data-setting=\"{setting}\"]')\
                     .getAttribute('points').trim().split(/\\s+/).length"
                ))
                .unwrap();
            assert_eq!(points, epochs.len(), "{chart} for {setting}");
        }
    }
    let test_accuracy = |setting: &str| {
        let result = results.iter().find(|r| r["setting"] == setting).unwrap();
        let epochs = result["epochs"].as_array().unwrap();
        epochs.last().unwrap()["test_accuracy"].as_f64().unwrap()
    };
    // True labels generalize; random labels stay near chance (10% of 500 test images,
    // give or take a few points) although every training label is fitted.
    assert!(test_accuracy("none") > 0.6, "{}", test_accuracy("none"));
    assert!(
        test_accuracy("random-labels") < 0.25,
        "{}",
        test_accuracy("random-labels")
    );
    // The data preview drew a picture per setting.
    let previews = browser
        .execute("return document.querySelectorAll('#previews canvas[data-setting]').length")
        .unwrap();
    assert_eq!(previews, SETTINGS.len());

    let png = browser.screenshot().expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web-page");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("page.png"), png).unwrap();

    // The AlexNet trains here too: its filter gradients run the workgroup tiles on a CPU
    // fallback adapter, where the register-blocked kernels stopped SwiftShader (docs/web.md).
    open_page(
        &browser,
        &format!(
            "{}?model=alexnet&images=256&epochs=1&settings=none",
            server.url
        ),
    );
    start_and_finish(&browser, Duration::from_secs(300), "the AlexNet's epoch");
    let results = browser
        .execute("return window.shatterPage.results()")
        .unwrap();
    let epochs = results[0]["epochs"].as_array().expect("the run's epochs");
    assert_eq!(epochs.len(), 1, "{results}");
    let epoch = &epochs[0];
    // Trained, not only built: the training set's loss after the epoch is below its first
    // step's.
    let losses = epoch["step_losses"].as_array().unwrap();
    assert_eq!(losses.len(), 8, "256 images in steps of 32");
    let first = losses[0].as_f64().unwrap();
    let test = epoch["test_accuracy"].as_f64().unwrap();
    assert!(first.is_finite() && (0.0..=1.0).contains(&test), "{epoch}");
    assert!(
        epoch["train_eval_loss"].as_f64().unwrap() < first,
        "the loss fell over the epoch: {epoch}"
    );
}

/// crates/web/tests/browser_kernels.rs in headless Chromium: wasm-bindgen-test-runner (of
/// the locked wasm-bindgen version) serves the test build and drives the browser through
/// ChromeDriver, with the flags in crates/web/webdriver.json.
#[test]
fn the_page_kernels_match_their_references_in_a_browser() {
    if !browser_available() {
        return;
    }
    let root = xtask::wasm_tools::workspace_root();
    let tools = xtask::wasm_tools::wasm_bindgen_tools(&root).expect("wasm-bindgen's tools");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(&root)
        .args(["test", "-p", "shatter-web", "--test", "browser_kernels"])
        .args(["--target", xtask::wasm_tools::WASM_TARGET])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            tools.join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", shatter_tests::webdriver::CHROMEDRIVER)
        .output()
        .expect("cargo test runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser kernel tests failed:\n{stdout}\n{stderr}"
    );
    // Every test ran in the browser (none filtered out or skipped for a missing adapter).
    assert!(
        stdout.contains("test result: ok. 7 passed; 0 failed"),
        "{stdout}"
    );
}
