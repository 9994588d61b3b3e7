//! Concurrent HTTP GETs on one tokio runtime, with a concurrency limit,
//! per-request and total timeouts, and one [`Outcome`] per URL instead of a
//! panic or an error for the whole batch.
//!
//! One runtime serves the whole process ([`runtime`]): a small, fixed set of
//! worker threads (plus blocking threads that exit after a second idle), and
//! one [`reqwest::Client`] whose connection pool every call reuses
//! ([`client`]). Both belong to the process that built them: a child created by `fork` finds its parent's runtime,
//! whose threads do not exist there, and builds its own (the parent's is
//! leaked in the child, never dropped).
//!
//! TLS is rustls with the *ring* crypto provider: no OpenSSL, no cmake, only
//! the C compiler Rust already needs. Environment proxies (`HTTP_PROXY`, ...)
//! are ignored: every request goes straight to its host.
//!
//! Redirects are followed here rather than by reqwest, so that one client
//! serves every `max_redirects`: each hop is a GET (the only method used),
//! at most `max_redirects` hops per URL.

#![cfg(feature = "async_io")]

use std::error::Error as _;
use std::process;
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use reqwest::{Client, Response, Url, header};
use tokio::runtime::{Builder, Runtime};
use tokio::time::Instant;

use crate::{Error, Result};

/// Worker threads of the runtime: enough to drive thousands of sockets.
pub const WORKER_THREADS: usize = 2;
/// Upper bound of [`Settings::concurrency`].
pub const MAX_CONCURRENCY: usize = 1024;
/// The name of every thread of the runtime (15 bytes at most: Linux's limit).
pub const THREAD_NAME: &str = "async-io";
/// How long an idle blocking thread (DNS lookups, handing results to Python)
/// waits for more work before it exits.
const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(1);
/// At most this many blocking threads at once.
const MAX_BLOCKING_THREADS: usize = 16;

/// How one batch of fetches runs; [`Settings::check`] says what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// At most this many requests in flight at once (1 to [`MAX_CONCURRENCY`]).
    pub concurrency: usize,
    /// Limit for one URL, from the connect to the last byte of the body,
    /// redirects included.
    pub timeout: Duration,
    /// Limit for the whole batch: URLs not finished by then get a timeout
    /// outcome (those not started are not started). `None`: no limit.
    pub total_timeout: Option<Duration>,
    /// Longest body accepted; a longer one is a `BodyTooLarge` outcome.
    pub max_body_bytes: usize,
    /// Redirects followed per URL; one more is a `Redirect` outcome.
    pub max_redirects: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 16,
            timeout: Duration::from_secs(10),
            total_timeout: None,
            max_body_bytes: 16 * 1024 * 1024,
            max_redirects: 10,
        }
    }
}

impl Settings {
    /// `Error::Invalid` naming the first setting out of range.
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::Invalid(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}, got {}",
                self.concurrency
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::Invalid("timeout must be more than 0 seconds".into()));
        }
        if self.total_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::Invalid(
                "total_timeout must be more than 0 seconds".into(),
            ));
        }
        Ok(())
    }
}

/// `value` seconds as a duration: a finite number above 0, or
/// `Error::Invalid` naming `arg`.
pub fn seconds(arg: &str, value: f64) -> Result<Duration> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::Invalid(format!(
            "{arg} must be a finite number of seconds above 0, got {value}"
        )));
    }
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::Invalid(format!("{arg} is out of range: {value} seconds")))
}

/// Why a URL has no complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `timeout` or `total_timeout` ran out first.
    Timeout,
    /// No connection: refused, unreachable, DNS failure, TLS handshake.
    Connect,
    /// More than `max_redirects` redirects, or one to an unusable location.
    Redirect,
    /// The body is longer than `max_body_bytes`.
    BodyTooLarge,
    /// Not an `http://` or `https://` URL with a host.
    InvalidUrl,
    /// Anything else (the connection closed mid-body, a malformed response).
    Other,
}

impl ErrorKind {
    /// The name Python sees: `"timeout"`, `"connect"`, `"redirect"`,
    /// `"body_too_large"`, `"invalid_url"` or `"other"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Redirect => "redirect",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::Other => "other",
        }
    }
}

/// An [`ErrorKind`] and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub detail: String,
}

impl Failure {
    fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Failure {
            kind,
            detail: detail.into(),
        }
    }
}

/// What one URL gave. `body` is set exactly when `error` is not; `status`
/// and `final_url` are those of the last response received, if any (a body
/// that was too large or too slow still had a status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    pub body: Option<Vec<u8>>,
    pub error: Option<Failure>,
    pub final_url: Option<String>,
}

impl Outcome {
    fn failed(progress: Progress, failure: Failure) -> Self {
        Outcome {
            status: progress.status,
            body: None,
            error: Some(failure),
            final_url: progress.final_url,
        }
    }
}

/// What is known about a URL while it is fetched, kept when a timeout
/// cancels the fetch.
#[derive(Debug, Default)]
struct Progress {
    status: Option<u16>,
    final_url: Option<String>,
}

// --- the runtime and the client: one per process ----------------------------------

struct State {
    pid: u32,
    runtime: Runtime,
    client: OnceLock<std::result::Result<Client, String>>,
}

/// The current process's state; never freed (one per process that used it).
static STATE: AtomicPtr<State> = AtomicPtr::new(ptr::null_mut());

fn state() -> Result<&'static State> {
    let pid = process::id();
    let current = STATE.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `Box::into_raw` below and the box
    // is never freed, so it is valid for the rest of the process.
    if let Some(state) = unsafe { current.as_ref() }.filter(|state| state.pid == pid) {
        return Ok(state);
    }
    // A forked child of a process that ran tokio threads starts none (see
    // `crate::forked_after_tokio`): an error rather than a risk of an abort.
    crate::tokio_may_start()
        .map_err(|reason| Error::AsyncIo(format!("cannot start the tokio runtime: {reason}")))?;
    let runtime = Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_keep_alive(BLOCKING_KEEP_ALIVE)
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .map_err(|err| Error::AsyncIo(format!("cannot start the tokio runtime: {err}")))?;
    let fresh = Box::into_raw(Box::new(State {
        pid,
        runtime,
        client: OnceLock::new(),
    }));
    match STATE.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: `fresh` was just leaked into STATE and is never freed.
        Ok(_) => Ok(unsafe { &*fresh }),
        Err(winner) => {
            // Another thread of this process got there first: use its state.
            // Ours ran nothing; dropping its runtime from outside any runtime
            // (this thread is not one of its workers) is allowed.
            // SAFETY: `fresh` came from `Box::into_raw` and was not published.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: published pointers are never freed.
            Ok(unsafe { &*winner })
        }
    }
}

/// This process's runtime, started on first use: [`WORKER_THREADS`] workers
/// named [`THREAD_NAME`]; its blocking threads exit after a second idle.
pub fn runtime() -> Result<&'static Runtime> {
    Ok(&state()?.runtime)
}

/// This process's HTTP client (a cheap handle to one shared connection pool).
pub fn client() -> Result<Client> {
    let state = state()?;
    state
        .client
        .get_or_init(build_client)
        .clone()
        .map_err(Error::AsyncIo)
}

fn build_client() -> std::result::Result<Client, String> {
    // reqwest is built without a crypto provider of its own; an `Err` means
    // that one is installed already (by this crate or another), which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(concat!(
            env!("CARGO_PKG_NAME"),
            "/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {}", chain(&err)))
}

// --- fetching ----------------------------------------------------------------------

/// GET every URL, at most `settings.concurrency` at once, and return one
/// outcome per URL in input order. Never fails as a whole: a bad URL, a
/// refused connection or a timeout is that URL's outcome. Runs on any tokio
/// runtime; [`runtime`] is the one made for it. `settings` must have passed
/// [`Settings::check`] (a concurrency of 0 would wait forever).
///
/// Dropping the future drops every request in flight, which closes their
/// connections.
pub async fn fetch_all<U>(client: Client, urls: U, settings: Settings) -> Vec<Outcome>
where
    U: AsRef<[String]>,
{
    let deadline = settings
        .total_timeout
        .and_then(|total| Instant::now().checked_add(total));
    let (urls, settings, client) = (urls.as_ref(), &settings, &client);
    // By index: a closure taking `&String` would make the future's type
    // depend on that borrow's lifetime, and then it is not provably `Send`.
    stream::iter(0..urls.len())
        .map(|i| fetch_one(client, &urls[i], settings, deadline))
        .buffered(settings.concurrency.max(1))
        .collect()
        .await
}

/// [`fetch_all`] on this process's runtime and client, blocking the calling
/// thread. `Error::Invalid` for settings out of range, or when called from
/// inside a tokio runtime (await [`fetch_all`] there instead).
pub fn fetch_all_blocking(urls: Vec<String>, settings: &Settings) -> Result<Vec<Outcome>> {
    settings.check()?;
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Invalid(
            "fetch_all_blocking cannot run inside a tokio runtime; await fetch_all instead".into(),
        ));
    }
    let client = client()?;
    Ok(runtime()?.block_on(fetch_all(client, urls, *settings)))
}

async fn fetch_one(
    client: &Client,
    url: &str,
    settings: &Settings,
    deadline: Option<Instant>,
) -> Outcome {
    let mut progress = Progress::default();
    let url = match parse(url) {
        Ok(url) => url,
        Err(detail) => {
            return Outcome::failed(progress, Failure::new(ErrorKind::InvalidUrl, detail));
        }
    };
    let now = Instant::now();
    let total_expired = || {
        Failure::new(
            ErrorKind::Timeout,
            format!(
                "total_timeout ({:?}) ran out before the response was complete",
                settings.total_timeout.unwrap_or_default()
            ),
        )
    };
    if deadline.is_some_and(|deadline| now >= deadline) {
        return Outcome::failed(progress, total_expired());
    }
    // The earlier of the two limits, and whether it is the batch's.
    let own = now.checked_add(settings.timeout);
    let (until, is_total) = match (own, deadline) {
        (Some(own), Some(total)) if total < own => (Some(total), true),
        (None, Some(total)) => (Some(total), true),
        (own, _) => (own, false),
    };
    let result = match until {
        Some(until) => {
            tokio::time::timeout_at(until, get(client, url, settings, &mut progress)).await
        }
        None => Ok(get(client, url, settings, &mut progress).await),
    };
    match result {
        Ok(Ok(body)) => Outcome {
            status: progress.status,
            body: Some(body),
            error: None,
            final_url: progress.final_url,
        },
        Ok(Err(failure)) => Outcome::failed(progress, failure),
        Err(_elapsed) if is_total => Outcome::failed(progress, total_expired()),
        Err(_elapsed) => {
            let failure = Failure::new(
                ErrorKind::Timeout,
                format!(
                    "timeout ({:?}) ran out before the response was complete",
                    settings.timeout
                ),
            );
            Outcome::failed(progress, failure)
        }
    }
}

/// `url` if it is an absolute `http` or `https` URL with a host.
fn parse(url: &str) -> std::result::Result<Url, String> {
    let parsed = Url::parse(url).map_err(|err| format!("{url:?} is not a URL: {err}"))?;
    usable(parsed).map_err(|why| format!("{url:?} {why}"))
}

fn usable(url: Url) -> std::result::Result<Url, &'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("is not an http:// or https:// URL");
    }
    if url.host().is_none() {
        return Err("has no host");
    }
    Ok(url)
}

/// The body of `url`'s final response, following redirects.
async fn get(
    client: &Client,
    mut url: Url,
    settings: &Settings,
    progress: &mut Progress,
) -> std::result::Result<Vec<u8>, Failure> {
    let mut redirects = 0usize;
    loop {
        let response = client.get(url.clone()).send().await.map_err(classify)?;
        progress.status = Some(response.status().as_u16());
        progress.final_url = Some(response.url().to_string());
        let Some(next) = redirect_target(&response)? else {
            return read_body(response, settings.max_body_bytes).await;
        };
        if redirects >= settings.max_redirects {
            return Err(Failure::new(
                ErrorKind::Redirect,
                format!(
                    "more than max_redirects={} redirects (the last one to {next})",
                    settings.max_redirects
                ),
            ));
        }
        redirects += 1;
        // Dropping the unread body closes that connection instead of reading
        // a body nobody wants.
        drop(response);
        url = next;
    }
}

/// Where a redirect points; `None` for any other response (a 3xx without
/// `Location`, such as 304, is a final response).
fn redirect_target(response: &Response) -> std::result::Result<Option<Url>, Failure> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response.headers().get(header::LOCATION) else {
        return Ok(None);
    };
    let bad = |why: String| Failure::new(ErrorKind::Redirect, why);
    let location = location
        .to_str()
        .map_err(|_| bad("a redirect's Location header is not text".into()))?;
    let next = response.url().join(location).map_err(|err| {
        bad(format!(
            "a redirect to {location:?}, which is not a URL: {err}"
        ))
    })?;
    usable(next)
        .map(Some)
        .map_err(|why| bad(format!("a redirect to {location:?}, which {why}")))
}

async fn read_body(
    mut response: Response,
    max_body_bytes: usize,
) -> std::result::Result<Vec<u8>, Failure> {
    let too_large = |len: String| {
        Failure::new(
            ErrorKind::BodyTooLarge,
            format!("the body ({len} bytes) is longer than max_body_bytes={max_body_bytes}"),
        )
    };
    let announced = response.content_length();
    if let Some(len) = announced.filter(|&len| len > max_body_bytes as u64) {
        return Err(too_large(len.to_string()));
    }
    let mut body = Vec::new();
    // Only a hint, and at most 1 MiB of it: the server may send less (or
    // the connection may end), and the rest grows as bytes arrive.
    if let Some(len) = announced {
        let _ = body.try_reserve(len.min(1 << 20) as usize);
    }
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        let len = body.len().saturating_add(chunk.len());
        if len > max_body_bytes {
            return Err(too_large(format!("at least {len}")));
        }
        body.try_reserve(chunk.len()).map_err(|_| {
            Failure::new(
                ErrorKind::Other,
                format!("not enough memory for a body of {len} bytes"),
            )
        })?;
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn classify(err: reqwest::Error) -> Failure {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_connect() {
        ErrorKind::Connect
    } else if err.is_redirect() {
        ErrorKind::Redirect
    } else {
        ErrorKind::Other
    };
    Failure::new(kind, chain(&err))
}

/// An error and its sources, outermost first: reqwest's own message
/// ("error sending request") says little without them.
fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    use super::*;

    /// A one-thread HTTP/1.0 server on 127.0.0.1: `/status/N`, `/bytes/N`,
    /// `/redirect/N` (to N-1; 0 answers 200), `/sleep/MS`. Runs until the
    /// test process exits.
    fn server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || answer(stream));
            }
        });
        format!("http://{addr}")
    }

    fn answer(mut stream: TcpStream) {
        let mut line = String::new();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        if reader.read_line(&mut line).is_err() {
            return;
        }
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(n) if n > 2 => continue,
                _ => break,
            }
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let n: u64 = parts.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        let (status, location, body) = match parts[0] {
            "status" => (n, None, format!("status {n}").into_bytes()),
            "bytes" => (200, None, vec![b'x'; n as usize]),
            "redirect" if n > 0 => (302, Some(format!("/redirect/{}", n - 1)), Vec::new()),
            "sleep" => {
                thread::sleep(Duration::from_millis(n));
                (200, None, b"slept".to_vec())
            }
            _ => (200, None, path.clone().into_bytes()),
        };
        let mut head = format!(
            "HTTP/1.0 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if let Some(location) = location {
            head.push_str(&format!("Location: {location}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
    }

    fn refused() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}/")
    }

    fn kind(outcome: &Outcome) -> Option<ErrorKind> {
        outcome.error.as_ref().map(|f| f.kind)
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::default().check().is_ok());
        let bad = [
            Settings {
                concurrency: 0,
                ..Settings::default()
            },
            Settings {
                concurrency: MAX_CONCURRENCY + 1,
                ..Settings::default()
            },
            Settings {
                timeout: Duration::ZERO,
                ..Settings::default()
            },
            Settings {
                total_timeout: Some(Duration::ZERO),
                ..Settings::default()
            },
        ];
        for settings in bad {
            assert!(
                matches!(settings.check(), Err(Error::Invalid(_))),
                "{settings:?}"
            );
        }
        for value in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 1e-12] {
            assert!(seconds("timeout", value).is_err(), "{value}");
        }
        assert_eq!(
            seconds("timeout", 0.25).unwrap(),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn every_url_gets_its_outcome_in_order() {
        let base = server();
        let urls = vec![
            format!("{base}/sleep/200"),
            format!("{base}/status/500"),
            format!("{base}/redirect/2"),
            format!("{base}/bytes/11"),
            "not a url".to_owned(),
            "ftp://example.com/".to_owned(),
            refused(),
            format!("{base}/sleep/2000"),
        ];
        let settings = Settings {
            timeout: Duration::from_millis(1000),
            max_body_bytes: 10,
            ..Settings::default()
        };
        let out = fetch_all_blocking(urls, &settings).unwrap();
        assert_eq!(out.len(), 8);
        assert_eq!(out[0].body.as_deref(), Some(&b"slept"[..]));
        assert_eq!(out[1].status, Some(500));
        assert_eq!(out[1].body.as_deref(), Some(&b"status 500"[..]));
        assert_eq!(out[2].status, Some(200));
        assert!(
            out[2]
                .final_url
                .as_deref()
                .unwrap()
                .ends_with("/redirect/0")
        );
        assert_eq!(kind(&out[3]), Some(ErrorKind::BodyTooLarge));
        assert_eq!(out[3].status, Some(200));
        assert_eq!(kind(&out[4]), Some(ErrorKind::InvalidUrl));
        assert_eq!(kind(&out[5]), Some(ErrorKind::InvalidUrl));
        assert_eq!(kind(&out[6]), Some(ErrorKind::Connect));
        assert_eq!(kind(&out[7]), Some(ErrorKind::Timeout));
        assert!(out.iter().all(|o| o.body.is_some() != o.error.is_some()));
    }

    #[test]
    fn redirects_are_limited_and_the_total_timeout_ends_the_batch() {
        let base = server();
        let limited = Settings {
            max_redirects: 1,
            ..Settings::default()
        };
        let out = fetch_all_blocking(vec![format!("{base}/redirect/2")], &limited).unwrap();
        assert_eq!(kind(&out[0]), Some(ErrorKind::Redirect));

        let total = Settings {
            concurrency: 1,
            total_timeout: Some(Duration::from_millis(300)),
            ..Settings::default()
        };
        let start = std::time::Instant::now();
        let urls = vec![format!("{base}/sleep/2000"), format!("{base}/status/200")];
        let out = fetch_all_blocking(urls, &total).unwrap();
        assert!(start.elapsed() < Duration::from_millis(1500));
        assert_eq!(kind(&out[0]), Some(ErrorKind::Timeout));
        assert_eq!(kind(&out[1]), Some(ErrorKind::Timeout));
    }

    #[test]
    fn the_runtime_is_built_once() {
        let first = runtime().unwrap() as *const Runtime;
        assert_eq!(runtime().unwrap() as *const Runtime, first);
        let inside = runtime()
            .unwrap()
            .block_on(async { fetch_all_blocking(vec![], &Settings::default()) });
        assert!(matches!(inside, Err(Error::Invalid(_))));
    }
}
