//! End-to-end browser support: a real headless Chromium, driven through `chromedriver` with
//! fantoccini (W3C WebDriver), against a [`TestApp`] served in-process.
//!
//! Each [`Browser`] owns one `chromedriver` on a free local port, started in a process group of its
//! own, and one WebDriver session whose Chromium runs on a fresh, empty profile. Dropping the
//! `Browser` (also while a failed test unwinds) kills that process group and every process started
//! with its profile folder, by PID, so no Chromium outlives its test. Cookies are per host, not
//! per port, so a test opens a new `Browser` for each backend instead of reusing one.
//!
//! Every page a test visits can be saved with [`Browser::shot`] to
//! `test-output/screenshots/<backend>/<test>-<step>.png` at the workspace root; a wait that times
//! out saves `<test>-FAILED-<n>.png` and panics with the URL and the page's text.
//!
//! Chromium and chromedriver are taken from `/usr/bin` (override with `MINHU_TEST_CHROMIUM` and
//! `MINHU_TEST_CHROMEDRIVER`); `scripts/test` installs Debian's `chromium` and `chromium-driver`
//! when they are missing. A missing browser is a test failure, never a silent skip.

#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support fails by panicking

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::app::TestApp;

/// How long a wait for an element or a text may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);

/// The flags of every Chromium the tests start (plus a fresh `--user-data-dir`).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
    "--lang=zh-CN",
];

fn chromium_path() -> String {
    std::env::var("MINHU_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

fn chromedriver_path() -> String {
    std::env::var("MINHU_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned())
}

/// The workspace root (where `test-output/` lives).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// A free local TCP port (bound and released; chromedriver binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free local port")
}

/// A running `chromedriver`, leader of its own process group; killed with the group on drop.
struct Chromedriver {
    child: Child,
    port: u16,
    /// The Chromium profile folder: its path marks the Chromium processes of this driver.
    profile: tempfile::TempDir,
}

impl Chromedriver {
    fn start(log: &Path) -> Self {
        let binary = chromedriver_path();
        assert!(
            Path::new(&binary).exists() && Path::new(&chromium_path()).exists(),
            "browser tests need Chromium and chromedriver ({} and {binary}); install them with \
             `apt-get install -y chromium chromium-driver fonts-noto-cjk` or run scripts/test",
            chromium_path()
        );
        let profile = tempfile::Builder::new()
            .prefix("minhu-chromium-")
            .tempdir()
            .expect("create a Chromium profile folder");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_file = File::create(log).expect("create the chromedriver log");
            let mut child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("clone the log handle"))
                .stderr(log_file)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {binary}: {e}"));
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    return Self {
                        child,
                        port,
                        profile,
                    };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    // Most likely the port was taken between finding and binding it: retry.
                    last_error = format!("chromedriver exited with {status}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = "chromedriver did not listen within 20 s".to_owned();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!(
            "cannot start chromedriver: {last_error} (log: {})",
            log.display()
        );
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = self.child.id();
        // The chromedriver's group (the Chromium it started stays in it), then any process
        // still running on this driver's profile folder, each by its PID.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let marker = self.profile.path().to_string_lossy().into_owned();
        for pid in processes_mentioning(&marker) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The PIDs of the processes whose command line contains `marker`.
fn processes_mentioning(marker: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// A headless Chromium session on a [`TestApp`], with helpers that wait instead of sleeping.
pub struct Browser {
    pub client: Client,
    base: String,
    test: String,
    shots: PathBuf,
    failures: AtomicU32,
    // Dropped after the client: kills chromedriver and Chromium.
    driver: Chromedriver,
    /// One browser at a time in the test binary: the browser tests wait on pages with timeouts,
    /// and two Chromiums rendering at once on a 2-core machine only make both slower.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Held by the one open [`Browser`].
static BROWSER_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Browser {
    /// Starts chromedriver and a fresh Chromium for `test` against `t`.
    pub async fn open(t: &TestApp, test: &str) -> Self {
        let turn = BROWSER_TURN.lock().await;
        let root = workspace_root().join("test-output");
        let shots = root.join("screenshots").join(t.backend());
        let logs = root.join("browser-logs");
        fs::create_dir_all(&shots).expect("create the screenshot folder");
        fs::create_dir_all(&logs).expect("create the browser log folder");
        let driver = Chromedriver::start(&logs.join(format!("{test}-{}.log", t.backend())));

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&f| f.to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            driver.profile.path().display()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium_path(), "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("open a Chromium session through chromedriver: {e}"));
        Self {
            client,
            base: t.base.clone(),
            test: test.to_owned(),
            shots,
            failures: AtomicU32::new(0),
            driver,
            _turn: turn,
        }
    }

    /// Ends the WebDriver session (Chromium quits); chromedriver stops when `self` drops.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// The absolute URL of `path` on the app.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Navigates to `path` (e.g. `/login`) and waits for the document to load.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) of the current page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Saves a screenshot of the whole window as `<test>-<step>.png`.
    pub async fn shot(&self, step: &str) {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {step}: {e}"));
        let path = self.shots.join(format!("{}-{step}.png", self.test));
        fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Fails the test with what the browser shows now (URL, text, a screenshot).
    pub async fn fail(&self, what: &str) -> ! {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let step = format!("FAILED-{n}");
        let _ = self
            .client
            .screenshot()
            .await
            .map(|png| fs::write(self.shots.join(format!("{}-{step}.png", self.test)), png));
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("(no URL: {e})"), |u| u.to_string());
        let text = self.body_text().await;
        panic!(
            "{what}\n  test: {} ({})\n  page: {url}\n  screenshot: {}\n  text:\n{text}",
            self.test,
            self.shots.display(),
            self.shots
                .join(format!("{}-{step}.png", self.test))
                .display()
        );
    }

    /// The visible text of the page (empty when there is none yet).
    pub async fn body_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The page's HTML source.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// Waits for an element matching `css` to exist, and returns it.
    pub async fn wait(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => self.fail(&format!("no element `{css}`: {e}")).await,
        }
    }

    /// Polls until `check` holds (errors count as "not yet"), failing after [`WAIT`].
    pub async fn wait_until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool, CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(true) = check().await {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("timed out waiting for {what}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until an element matching `css` shows a text containing `needle`; returns its text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if let Ok(text) = element.text().await {
                        if text.contains(needle) {
                            return text;
                        }
                        last = text;
                    }
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "timed out waiting for `{css}` to contain {needle:?} (last seen: {last:?})"
                ))
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the current path starts with `prefix`.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let mut path = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(url) = self.client.current_url().await {
                path = url.path().to_owned();
                if path.starts_with(prefix) {
                    return path;
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "timed out waiting for a page under {prefix} (at {path})"
                ))
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of the first element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap_or_default()
    }

    /// Whether an element matching `css` is on the page now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|all| !all.is_empty())
    }

    /// Clears the field matching `css` and types `text` into it (as keystrokes).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Picks the option with `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in `{css}`: {e}"));
    }

    /// Picks the option whose label is `label` in the `<select>` matching `css`.
    pub async fn select_label(&self, css: &str, label: &str) {
        self.wait(css)
            .await
            .select_by_label(label)
            .await
            .unwrap_or_else(|e| panic!("select {label:?} in `{css}`: {e}"));
    }

    /// Sets the field `name` in the form matching `form` to `value` as a user would, whatever the
    /// control: picks the option of a `<select>`, clicks the radio button with that value, or
    /// ticks the checkbox with that value (or any checkbox of that name for `"true"`).
    pub async fn choose(&self, form: &str, name: &str, value: &str) {
        let css = format!("{form} [name=\"{name}\"]");
        self.wait(&css).await;
        let controls = self
            .client
            .find_all(Locator::Css(&css))
            .await
            .unwrap_or_default();
        for control in controls {
            let tag = control.tag_name().await.unwrap_or_default();
            if tag.eq_ignore_ascii_case("select") {
                control
                    .select_by_value(value)
                    .await
                    .unwrap_or_else(|e| panic!("select {value:?} in `{css}`: {e}"));
                return;
            }
            let kind = control
                .attr("type")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let own = control
                .attr("value")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let matches = own == value || (kind == "checkbox" && value == "true");
            if matches && (kind == "radio" || kind == "checkbox") {
                if !control.is_selected().await.unwrap_or(false) {
                    control
                        .click()
                        .await
                        .unwrap_or_else(|e| panic!("click {value:?} of `{css}`: {e}"));
                }
                return;
            }
        }
        self.fail(&format!("no choice {value:?} for `{css}`")).await;
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.wait(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// Types keys into the element that has the focus (`Key::Tab`, text, chords …).
    pub async fn keys(&self, keys: &str) {
        let active = self
            .client
            .active_element()
            .await
            .expect("an element has the focus");
        active
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("type {keys:?}: {e}"));
    }

    /// The `id` or `name` of the element that has the focus.
    pub async fn focused(&self) -> String {
        let value = self
            .client
            .execute(
                "const e = document.activeElement; return e ? (e.id || e.name || e.tagName) : '';",
                vec![],
            )
            .await
            .expect("read the focused element");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run script: {e}"))
    }

    /// Clicks `css`, which leaves the current document (a submit or a link), and waits until the
    /// next document has replaced it.
    pub async fn click_and_load(&self, css: &str) {
        self.click_and_replace(css, "html").await;
    }

    /// Clicks `css` and waits until the element matching `replaced` has been replaced, by a new
    /// document or by a partial update (htmx swapping it out), and the page has settled.
    pub async fn click_and_replace(&self, css: &str, replaced: &str) {
        let old = self.wait(replaced).await;
        self.click(css).await;
        self.wait_stale(old).await;
    }

    /// Presses Enter in the field matching `css` (submitting its form) and waits for the next page.
    pub async fn enter_and_load(&self, css: &str) {
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("the page has an <html>");
        self.wait(css)
            .await
            .send_keys(&Key::Enter.to_string())
            .await
            .unwrap_or_else(|e| panic!("press Enter in `{css}`: {e}"));
        self.wait_stale(old).await;
    }

    /// Types `keys` into the focused element (e.g. a shortcut that submits) and waits for the
    /// next page.
    pub async fn keys_and_load(&self, keys: &str) {
        let old = self.wait("html").await;
        self.keys(keys).await;
        self.wait_stale(old).await;
    }

    /// Waits until `old` (an element of the previous document) is gone and the new one is loaded.
    async fn wait_stale(&self, old: Element) {
        self.wait_until("the next page", || {
            let old = old.clone();
            async move {
                match old.tag_name().await {
                    Ok(_) => Ok(false),
                    Err(_) => Ok(true),
                }
            }
        })
        .await;
        self.wait_until("the page to load and settle", || async {
            // A loaded document, and no htmx request or swap in flight.
            let ready = self
                .client
                .execute(
                    "return document.readyState === 'complete' && \
                     !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling');",
                    vec![],
                )
                .await?;
            Ok(ready == Value::Bool(true))
        })
        .await;
    }

    /// Signs in through `/login` (fields `username` and `password`), forgetting any earlier
    /// session first, and waits for the page after sign-in.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.client
            .delete_all_cookies()
            .await
            .expect("forget earlier cookies");
        self.goto("/login").await;
        self.fill("input[name=username]", username).await;
        self.fill("input[name=password]", password).await;
        self.enter_and_load("input[name=password]").await;
    }
}
