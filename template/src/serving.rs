//! HTTP model serving with actix-web: `POST /predict`, `GET /health`,
//! `GET /metrics` and `GET /openapi.json`.
//!
//! Nothing here knows about Python. A [`Server`] serves any [`Predictor`]:
//! a [`Model`] answers inline on the worker that parsed the request, and a
//! [`Batcher`] runs a blocking function (the Python bindings pass one that
//! calls a Python callable) on one dedicated thread, stacking requests that
//! arrive together into one call. The standalone binary
//! (`src/bin/serving.rs`) and the Python bindings both start servers through
//! [`Server::start`].
//!
//! Every answer of the app is JSON except `/metrics`; every error has the body
//! `{"error": "<code>", "detail": "<message>"}` (see [`openapi`] for the
//! document that lists them). No input panics a worker or drops a connection:
//! bodies are read up to `max_body_bytes` and parsed straight into float32
//! rows (so that limit bounds the memory of a request), and every check
//! returns an answer.
#![cfg(feature = "serving")]

use std::fmt::{self, Write as _};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, JsonPayloadError, PayloadError};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use ndarray::{ArrayView1, ArrayView2};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{Error, Model, Result};

// ---------------------------------------------------------------------------
// Settings

/// The most worker threads a server may have (actix-web's own limit).
pub const MAX_WORKERS: usize = 512;
/// The longest `request_timeout` and `shutdown_timeout` accepted: one day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// The longest `BatchSettings::max_wait` accepted.
pub const MAX_BATCH_WAIT: Duration = Duration::from_secs(60);
/// How long a graceful [`Server::stop`] keeps accepting connections after
/// `/health` turns 503. Closing a listener resets the connections the kernel
/// has queued but the server has not accepted yet: a client that connected
/// just before the stop would see "connection reset" instead of an answer.
pub const STOP_GRACE: Duration = Duration::from_millis(100);

/// How a [`Server`] listens and what it accepts. Check with [`Settings::check`]
/// ([`Server::start`] does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// An IP address to listen on: "127.0.0.1" (this machine only, the
    /// default), "0.0.0.0" (every IPv4 interface), "::1", "::". Host names
    /// such as "localhost" are refused: they can resolve to several addresses.
    pub host: String,
    /// The TCP port; 0 lets the OS pick a free one (read it from [`Server::addr`]).
    pub port: u16,
    /// Worker threads, each with its own event loop: 1 to [`MAX_WORKERS`].
    pub workers: usize,
    /// The largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// The most rows one `POST /predict` may carry (more: 422).
    pub max_batch_rows: usize,
    /// How long one request may take, body upload included (longer: 504).
    pub request_timeout: Duration,
    /// How long a graceful stop waits for requests in flight; counted in
    /// whole seconds (rounded up), as actix-web does.
    pub shutdown_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8000,
            workers: 2,
            max_body_bytes: 1 << 20,
            max_batch_rows: 1024,
            request_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl Settings {
    /// `Ok` if every setting is in range, else [`Error::Invalid`] naming the
    /// first one that is not.
    pub fn check(&self) -> Result<()> {
        self.ip()?;
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            return Err(invalid(format!(
                "workers must be between 1 and {MAX_WORKERS}, got {}",
                self.workers
            )));
        }
        if self.max_body_bytes == 0 {
            return Err(invalid("max_body_bytes must be at least 1, got 0"));
        }
        if self.max_batch_rows == 0 {
            return Err(invalid("max_batch_rows must be at least 1, got 0"));
        }
        if self.request_timeout.is_zero() || self.request_timeout > MAX_TIMEOUT {
            return Err(invalid(format!(
                "request_timeout must be more than 0 and at most {} seconds, got {:?}",
                MAX_TIMEOUT.as_secs(),
                self.request_timeout
            )));
        }
        if self.shutdown_timeout > MAX_TIMEOUT {
            return Err(invalid(format!(
                "shutdown_timeout must be at most {} seconds, got {:?}",
                MAX_TIMEOUT.as_secs(),
                self.shutdown_timeout
            )));
        }
        Ok(())
    }

    /// `host` as an IP address ("[::1]" is accepted for "::1").
    fn ip(&self) -> Result<IpAddr> {
        let host = self.host.trim();
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        bare.parse().map_err(|_| {
            invalid(format!(
                "host must be an IP address such as \"127.0.0.1\" or \"0.0.0.0\", got {:?}",
                self.host
            ))
        })
    }

    /// `shutdown_timeout` in whole seconds, rounded up.
    fn shutdown_secs(&self) -> u64 {
        let t = self.shutdown_timeout;
        t.as_secs() + u64::from(t.subsec_nanos() > 0)
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

// ---------------------------------------------------------------------------
// Predictors

/// What [`Predictor::predict`] returns: a boxed future, so that any
/// predictor can be served behind one `Arc<dyn Predictor>`.
pub type PredictFuture = Pin<Box<dyn Future<Output = Result<Vec<f32>, PredictError>> + Send>>;

/// Why a prediction has no result; each maps to one HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredictError {
    /// Too many requests are waiting: 503 `overloaded` with `Retry-After`.
    #[error("the request queue is full; retry later")]
    Overloaded,
    /// The predictor has stopped (the server is shutting down): 503 `unavailable`.
    #[error("the model is not available (the server is shutting down)")]
    Unavailable,
    /// The prediction itself failed (the message says why): 500 `internal`.
    #[error("prediction failed: {0}")]
    Failed(String),
    /// The inputs are valid rows the model still cannot answer for (the
    /// message says why, e.g. the prediction overflows float32): 422
    /// `unprocessable`.
    #[error("{0}")]
    Unprocessable(String),
}

/// Something that predicts rows of `n_features` float32 values.
pub trait Predictor: Send + Sync + 'static {
    /// The number of values in one row.
    fn n_features(&self) -> usize;

    /// Predict `n_rows` rows. `rows` holds `n_rows * n_features` values,
    /// row-major, all finite (the server has checked them); the result must
    /// hold `n_rows` predictions, in order. Called on a server worker: it must
    /// not block for long (hand slow work to another thread, as [`Batcher`] does).
    fn predict(&self, rows: Vec<f32>, n_rows: usize) -> PredictFuture;

    /// Whether the predictor can answer now (`GET /health` says "ready").
    fn ready(&self) -> bool {
        true
    }
}

fn done(result: Result<Vec<f32>, PredictError>) -> PredictFuture {
    Box::pin(std::future::ready(result))
}

/// `Err` unless `rows` holds exactly `n_rows` rows of `n_features` values.
fn check_rows(rows: &[f32], n_rows: usize, n_features: usize) -> Result<(), PredictError> {
    if n_rows.checked_mul(n_features) == Some(rows.len()) {
        Ok(())
    } else {
        Err(PredictError::Failed(format!(
            "{} values are not {n_rows} rows of {n_features} features",
            rows.len()
        )))
    }
}

/// A [`Model`] predicts inline, on the worker that parsed the request: a
/// row costs about as much as a dot product, far less than a thread hop.
impl Predictor for Model {
    fn n_features(&self) -> usize {
        Model::n_features(self)
    }

    fn predict(&self, rows: Vec<f32>, n_rows: usize) -> PredictFuture {
        done(predict_inline(self, &rows, n_rows))
    }
}

fn predict_inline(model: &Model, rows: &[f32], n_rows: usize) -> Result<Vec<f32>, PredictError> {
    let n_features = model.n_features();
    check_rows(rows, n_rows, n_features)?;
    let failed = |err: Error| PredictError::Failed(err.to_string());
    let predictions = if n_rows == 1 {
        vec![model.predict(ArrayView1::from(rows)).map_err(failed)?]
    } else {
        let rows = ArrayView2::from_shape((n_rows, n_features), rows)
            .map_err(|err| PredictError::Failed(err.to_string()))?;
        model.predict_batch(rows).map_err(failed)?.to_vec()
    };
    // Finite weights and finite inputs can still overflow: the client's
    // values are too large for this model, not a fault of the server.
    if let Some(i) = predictions.iter().position(|y| !y.is_finite()) {
        return Err(PredictError::Unprocessable(format!(
            "the prediction for row {i} is not finite ({}): the inputs are too large for the model",
            predictions[i]
        )));
    }
    Ok(predictions)
}

// ---------------------------------------------------------------------------
// Batcher

/// How a [`Batcher`] groups requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSettings {
    /// The most rows in one call; 1 (the default) turns batching off (one
    /// call per request). A request with more rows is still one call of its own.
    pub max_batch_size: usize,
    /// How long the first request of a batch waits for more; 0 (the default)
    /// takes what is already queued and never waits. At most [`MAX_BATCH_WAIT`].
    pub max_wait: Duration,
    /// How many requests may wait; beyond that, `predict` answers
    /// [`PredictError::Overloaded`] at once.
    pub queue_size: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_batch_size: 1,
            max_wait: Duration::ZERO,
            queue_size: 1024,
        }
    }
}

impl BatchSettings {
    /// `Ok` if every setting is in range, else [`Error::Invalid`] naming it.
    pub fn check(&self) -> Result<()> {
        if self.max_batch_size == 0 {
            return Err(invalid("max_batch_size must be at least 1, got 0"));
        }
        if self.queue_size == 0 {
            return Err(invalid("queue_size must be at least 1, got 0"));
        }
        if self.max_wait > MAX_BATCH_WAIT {
            return Err(invalid(format!(
                "max_wait must be at most {} seconds, got {:?}",
                MAX_BATCH_WAIT.as_secs(),
                self.max_wait
            )));
        }
        Ok(())
    }
}

/// One request waiting for the batcher's thread.
struct Job {
    rows: Vec<f32>,
    n_rows: usize,
    reply: oneshot::Sender<Result<Vec<f32>, PredictError>>,
}

/// A [`Predictor`] that runs a blocking function on one dedicated thread.
///
/// Requests go through a bounded queue: `predict` never blocks (a full queue
/// answers [`PredictError::Overloaded`]) and the server's workers only await
/// the reply, so a slow function never stalls their event loops. The thread
/// stacks queued requests into one call of up to `max_batch_size` rows and
/// skips requests whose client has gone (timed out or disconnected). It ends
/// when the `Batcher` is dropped, after the call in progress.
pub struct Batcher {
    n_features: usize,
    jobs: SyncSender<Job>,
    alive: Arc<AtomicBool>,
}

impl fmt::Debug for Batcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field("n_features", &self.n_features)
            .field("alive", &self.alive.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Marks the batcher's thread as gone when it ends, even by a panic.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Refuse in a process forked from one that ran tokio threads (see
/// [`crate::forked_after_tokio`]).
fn threads_may_start(what: &str) -> Result<()> {
    crate::tokio_may_start().map_err(|reason| Error::Serve {
        context: format!("cannot start {what}"),
        source: std::io::Error::new(std::io::ErrorKind::Unsupported, reason),
    })
}

impl Batcher {
    /// Start the thread. `f(rows, n_rows)` gets `n_rows * n_features` values,
    /// row-major, and must return `n_rows` predictions; an `Err` (or a panic,
    /// or a result of the wrong length) fails every request of that call with
    /// [`PredictError::Failed`].
    pub fn spawn(
        n_features: usize,
        settings: BatchSettings,
        f: impl FnMut(&[f32], usize) -> Result<Vec<f32>, String> + Send + 'static,
    ) -> Result<Self> {
        settings.check()?;
        if n_features == 0 {
            return Err(invalid("n_features must be at least 1, got 0"));
        }
        threads_may_start("the batcher thread")?;
        let (jobs, queue) = mpsc::sync_channel(settings.queue_size);
        let alive = Arc::new(AtomicBool::new(true));
        let guard = AliveGuard(Arc::clone(&alive));
        thread::Builder::new()
            .name("serving-batcher".to_owned())
            .spawn(move || {
                let _guard = guard;
                run_batches(&queue, n_features, &settings, f);
            })
            .map_err(|source| Error::Serve {
                context: "cannot start the batcher thread".to_owned(),
                source,
            })?;
        Ok(Self {
            n_features,
            jobs,
            alive,
        })
    }
}

impl Predictor for Batcher {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict(&self, rows: Vec<f32>, n_rows: usize) -> PredictFuture {
        if let Err(err) = check_rows(&rows, n_rows, self.n_features) {
            return done(Err(err));
        }
        if n_rows == 0 {
            return done(Ok(Vec::new()));
        }
        let (reply, answer) = oneshot::channel();
        match self.jobs.try_send(Job {
            rows,
            n_rows,
            reply,
        }) {
            // The thread dropping a job unanswered means it has gone.
            Ok(()) => {
                Box::pin(async move { answer.await.unwrap_or(Err(PredictError::Unavailable)) })
            }
            Err(TrySendError::Full(_)) => done(Err(PredictError::Overloaded)),
            Err(TrySendError::Disconnected(_)) => done(Err(PredictError::Unavailable)),
        }
    }

    fn ready(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }
}

/// The batcher's thread: take a job, add what else is queued (waiting up to
/// `max_wait`) while the rows fit in `max_batch_size`, run one call, answer.
fn run_batches<F>(queue: &Receiver<Job>, n_features: usize, settings: &BatchSettings, mut f: F)
where
    F: FnMut(&[f32], usize) -> Result<Vec<f32>, String>,
{
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => return, // every sender dropped: the Batcher is gone
            },
        };
        if first.reply.is_closed() {
            continue;
        }
        let deadline = Instant::now().checked_add(settings.max_wait);
        let mut rows = first.n_rows;
        let mut batch = vec![first];
        while rows < settings.max_batch_size {
            let job = match queue.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    let left = deadline.map_or(Duration::ZERO, |d| {
                        d.saturating_duration_since(Instant::now())
                    });
                    if left.is_zero() {
                        break;
                    }
                    match queue.recv_timeout(left) {
                        Ok(job) => job,
                        Err(_) => break,
                    }
                }
            };
            if job.reply.is_closed() {
                continue;
            }
            if rows + job.n_rows > settings.max_batch_size {
                carried = Some(job); // it starts the next batch
                break;
            }
            rows += job.n_rows;
            batch.push(job);
        }
        run_batch(&mut f, n_features, batch);
    }
}

/// One call of `f` for every job of `batch` whose client is still there.
fn run_batch<F>(f: &mut F, n_features: usize, mut batch: Vec<Job>)
where
    F: FnMut(&[f32], usize) -> Result<Vec<f32>, String>,
{
    batch.retain(|job| !job.reply.is_closed());
    let n_rows: usize = batch.iter().map(|job| job.n_rows).sum();
    let outcome = match batch.as_slice() {
        [] => return,
        [job] => call(f, &job.rows, n_rows),
        jobs => {
            let mut rows = Vec::new();
            if rows
                .try_reserve_exact(n_rows.saturating_mul(n_features))
                .is_err()
            {
                Err(format!("not enough memory for a batch of {n_rows} rows"))
            } else {
                for job in jobs {
                    rows.extend_from_slice(&job.rows);
                }
                call(f, &rows, n_rows)
            }
        }
    };
    let predictions = match outcome {
        Ok(predictions) if predictions.len() == n_rows => predictions,
        Ok(predictions) => {
            return fail_all(
                batch,
                &format!(
                    "the predict function returned {} values for {n_rows} rows",
                    predictions.len()
                ),
            );
        }
        Err(message) => return fail_all(batch, &message),
    };
    if batch.len() == 1 {
        if let Some(job) = batch.pop() {
            let _ = job.reply.send(Ok(predictions)); // the client may have left meanwhile
        }
        return;
    }
    let mut rest = predictions.as_slice();
    for job in batch {
        let Some((mine, tail)) = rest.split_at_checked(job.n_rows) else {
            return; // unreachable: the lengths were checked above
        };
        rest = tail;
        let _ = job.reply.send(Ok(mine.to_vec()));
    }
}

fn call<F>(f: &mut F, rows: &[f32], n_rows: usize) -> Result<Vec<f32>, String>
where
    F: FnMut(&[f32], usize) -> Result<Vec<f32>, String>,
{
    panic::catch_unwind(AssertUnwindSafe(|| f(rows, n_rows)))
        .unwrap_or_else(|_| Err("the predict function panicked".to_owned()))
}

fn fail_all(batch: Vec<Job>, message: &str) {
    for job in batch {
        let _ = job
            .reply
            .send(Err(PredictError::Failed(message.to_owned())));
    }
}

// ---------------------------------------------------------------------------
// Server

/// Set once the server's thread has ended; `Server::wait` waits on it.
#[derive(Default)]
struct Stopped {
    done: Mutex<bool>,
    changed: Condvar,
}

impl Stopped {
    fn set(&self) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    fn wait(&self, timeout: Option<Duration>) -> bool {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        match timeout {
            None => {
                let done = self
                    .changed
                    .wait_while(done, |done| !*done)
                    .unwrap_or_else(PoisonError::into_inner);
                *done
            }
            Some(timeout) => {
                let (done, _) = self
                    .changed
                    .wait_timeout_while(done, timeout, |done| !*done)
                    .unwrap_or_else(PoisonError::into_inner);
                *done
            }
        }
    }
}

/// Marks the server as stopped when its thread ends, even by a panic.
struct StoppedGuard(Arc<Stopped>);

impl Drop for StoppedGuard {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// A running HTTP server: actix-web on a thread of its own, plus its workers.
///
/// It installs no signal handlers (the caller owns the signals: the binary
/// drains on SIGINT/SIGTERM, Python raises KeyboardInterrupt). Dropping a
/// running `Server` stops it without draining and without waiting; call
/// [`Server::stop`] to drain and to know when the port is free.
pub struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
    draining: Arc<AtomicBool>,
    stopped: Arc<Stopped>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("stopped", &self.stopped.wait(Some(Duration::ZERO)))
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Check `settings`, bind the address (so a port in use is an error here,
    /// and port 0 is resolved) and start serving `predictor`. Returns at once.
    pub fn start(settings: &Settings, predictor: Arc<dyn Predictor>) -> Result<Server> {
        settings.check()?;
        let bind = SocketAddr::new(settings.ip()?, settings.port);
        let n_features = predictor.n_features();
        if n_features == 0 {
            return Err(invalid("the predictor must take at least 1 feature, got 0"));
        }
        threads_may_start("the server")?;
        let draining = Arc::new(AtomicBool::new(false));
        let state = web::Data::new(AppState::new(settings, predictor, Arc::clone(&draining)));
        let server = HttpServer::new(move || app(state.clone()))
            .workers(settings.workers)
            .disable_signals()
            .tcp_nodelay(true)
            .shutdown_timeout(settings.shutdown_secs())
            .bind(bind)
            .map_err(|source| Error::Serve {
                context: format!("cannot listen on {bind}"),
                source,
            })?;
        let addr = server.addrs().first().copied().unwrap_or(bind);
        // Built here, so that failing to build it is an error of `start`.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Serve {
                context: "cannot create the server's runtime".to_owned(),
                source,
            })?;
        let running = server.run(); // does nothing until polled
        let handle = running.handle();
        let stopped = Arc::new(Stopped::default());
        let guard = StoppedGuard(Arc::clone(&stopped));
        thread::Builder::new()
            .name("serving".to_owned())
            .spawn(move || {
                let _guard = guard;
                let system = actix_web::rt::System::with_tokio_rt(move || runtime);
                // An error here (a worker thread that cannot start) ends the
                // server; `wait` then reports it stopped.
                let _ = system.block_on(running);
            })
            .map_err(|source| Error::Serve {
                context: "cannot start the server thread".to_owned(),
                source,
            })?;
        Ok(Server {
            addr,
            handle,
            draining,
            stopped,
        })
    }

    /// The address the server listens on (with the port the OS chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop, and block until the workers have stopped and the port is free.
    ///
    /// `graceful`: answer `GET /health` with 503, keep accepting for
    /// [`STOP_GRACE`], then stop accepting and let requests in flight finish
    /// (up to `shutdown_timeout`). Otherwise drop them at once. Idempotent:
    /// later calls wait for the first one's stop (a forced stop during the
    /// grace period cuts it short).
    pub fn stop(&self, graceful: bool) {
        let first = !self.draining.swap(true, Ordering::SeqCst);
        if first && graceful {
            self.stopped.wait(Some(STOP_GRACE)); // returns early if it stops anyway
        }
        // The command is sent when `stop` is called; the returned future only
        // reports completion, which `self.stopped` reports too.
        drop(self.handle.stop(graceful));
        self.stopped.wait(None);
    }

    /// Wait until the server has stopped, at most `timeout` (`None`: no
    /// limit). Returns whether it has stopped.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        self.stopped.wait(timeout)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped.wait(Some(Duration::ZERO)) {
            self.draining.store(true, Ordering::SeqCst);
            drop(self.handle.stop(false));
        }
    }
}

// ---------------------------------------------------------------------------
// The app

/// What every worker's app shares.
struct AppState {
    predictor: Arc<dyn Predictor>,
    n_features: usize,
    max_batch_rows: usize,
    max_body_bytes: usize,
    request_timeout: Duration,
    draining: Arc<AtomicBool>,
    metrics: Metrics,
    openapi: String,
}

impl AppState {
    fn new(settings: &Settings, predictor: Arc<dyn Predictor>, draining: Arc<AtomicBool>) -> Self {
        let n_features = predictor.n_features();
        Self {
            predictor,
            n_features,
            max_batch_rows: settings.max_batch_rows,
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout,
            draining,
            metrics: Metrics::default(),
            openapi: openapi(settings, n_features).to_string(),
        }
    }
}

const PREDICT: &str = "/predict";
const HEALTH: &str = "/health";
const METRICS: &str = "/metrics";
const OPENAPI: &str = "/openapi.json";

/// The app every worker runs. The metrics middleware is outermost, so it
/// counts the timeout middleware's 504 answers too.
fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let json = web::JsonConfig::default()
        .limit(state.max_body_bytes)
        .error_handler(json_error);
    App::new()
        .app_data(state)
        .app_data(json)
        .wrap(from_fn(timeout_middleware))
        .wrap(from_fn(metrics_middleware))
        .service(
            web::resource(PREDICT)
                .route(web::post().to(predict))
                .default_service(web::to(post_only)),
        )
        .service(
            web::resource(HEALTH)
                .route(web::get().to(health))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource(METRICS)
                .route(web::get().to(metrics))
                .default_service(web::to(get_only)),
        )
        .service(
            web::resource(OPENAPI)
                .route(web::get().to(openapi_json))
                .default_service(web::to(get_only)),
        )
        .default_service(web::to(not_found))
}

/// The body of every error answer.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: &'a str,
}

fn error_response(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody {
        error: code,
        detail,
    })
}

/// Errors of the JSON body extractor: 415, 413 or 400, as JSON.
fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let response = match &err {
        JsonPayloadError::ContentType => error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, sent with Content-Type: application/json",
        ),
        JsonPayloadError::OverflowKnownLength { length, limit } => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            &format!("the body has {length} bytes; the limit is {limit} bytes"),
        ),
        JsonPayloadError::Overflow { limit } => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            &format!("the body is larger than the limit of {limit} bytes"),
        ),
        JsonPayloadError::Payload(PayloadError::Overflow) => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than the limit",
        ),
        JsonPayloadError::Deserialize(inner) => error_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("invalid JSON body: {inner}"),
        ),
        JsonPayloadError::Payload(inner) => error_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("cannot read the body: {inner}"),
        ),
        other => error_response(StatusCode::BAD_REQUEST, "bad_request", &other.to_string()),
    };
    InternalError::from_response(err, response).into()
}

/// 405 for a method a resource does not serve, with `Allow`.
fn method_not_allowed(req: &HttpRequest, allow: &'static str) -> HttpResponse {
    let detail = format!(
        "{} is not allowed on {}; use {allow}",
        req.method(),
        req.path()
    );
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &detail,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}

async fn post_only(req: HttpRequest) -> HttpResponse {
    method_not_allowed(&req, "POST")
}

async fn get_only(req: HttpRequest) -> HttpResponse {
    method_not_allowed(&req, "GET")
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let path: String = req.path().chars().take(200).collect();
    error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!(
            "no route {} {path}; the routes are POST {PREDICT}, GET {HEALTH}, GET {METRICS}, GET {OPENAPI}",
            req.method()
        ),
    )
}

// ---------------------------------------------------------------------------
// POST /predict

/// The body of `POST /predict`: `{"inputs": [...]}`, nothing else.
struct PredictRequest {
    inputs: Inputs,
}

/// `inputs` as parsed: every number (one row, or the rows one after the
/// other) and, for a list of rows, each row's length. Shapes are checked
/// after parsing (422), types while parsing (400).
#[derive(Debug, Default)]
struct Inputs {
    values: Vec<f32>,
    /// `None`: one row (or no value at all); `Some`: a list of rows.
    rows: Option<Vec<usize>>,
}

impl<'de> Deserialize<'de> for PredictRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Inputs,
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = PredictRequest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an object {"inputs": [...]}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PredictRequest, A::Error> {
        let mut inputs = None;
        while let Some(Field::Inputs) = map.next_key()? {
            if inputs.is_some() {
                return Err(de::Error::duplicate_field("inputs"));
            }
            inputs = Some(map.next_value::<Inputs>()?);
        }
        inputs
            .map(|inputs| PredictRequest { inputs })
            .ok_or_else(|| de::Error::missing_field("inputs"))
    }
}

impl<'de> Deserialize<'de> for Inputs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(InputsVisitor)
    }
}

struct InputsVisitor;

impl<'de> Visitor<'de> for InputsVisitor {
    type Value = Inputs;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of numbers (one row) or an array of arrays of numbers (rows)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Inputs, A::Error> {
        let mut inputs = Inputs::default();
        while seq.next_element_seed(Item(&mut inputs))?.is_some() {}
        Ok(inputs)
    }
}

/// One element of `inputs`: a number (then every element is one) or a row
/// of numbers (then every element is one). Floats become float32 with `as`,
/// like serde's own `f32`: out of range gives an infinity, caught as 422.
struct Item<'a>(&'a mut Inputs);

impl Item<'_> {
    fn number<E: de::Error>(self, value: f32, seen: Unexpected<'_>) -> Result<(), E> {
        if self.0.rows.is_some() {
            return Err(E::invalid_type(seen, &"a row (an array of numbers)"));
        }
        self.0.values.push(value);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a row (an array of numbers)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.number(v as f32, Unexpected::Unsigned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.number(v as f32, Unexpected::Signed(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.number(v as f32, Unexpected::Float(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Inputs { values, rows } = self.0;
        let lengths = match rows {
            Some(lengths) => lengths,
            None if values.is_empty() => rows.insert(Vec::new()),
            None => return Err(de::Error::invalid_type(Unexpected::Seq, &"a number")),
        };
        let start = values.len();
        while let Some(value) = seq.next_element::<f32>()? {
            values.push(value);
        }
        lengths.push(values.len() - start);
        Ok(())
    }
}

/// Checked inputs: `n_rows` rows of `n_features` finite values.
struct Rows {
    values: Vec<f32>,
    n_rows: usize,
    batch: bool,
}

impl AppState {
    /// The shape and value checks of `POST /predict` (422 with this message).
    fn check_inputs(&self, inputs: Inputs) -> Result<Rows, String> {
        let n = self.n_features;
        let Inputs { values, rows } = inputs;
        let (n_rows, batch) = match rows {
            None if values.is_empty() => return Err(empty()),
            None if values.len() != n => {
                return Err(format!(
                    "inputs has {} values; the model takes {n} features",
                    values.len()
                ));
            }
            None => (1, false),
            Some(lengths) => {
                if lengths.is_empty() {
                    return Err(empty());
                }
                if lengths.len() > self.max_batch_rows {
                    return Err(format!(
                        "inputs has {} rows; at most {} rows per request (max_batch_rows)",
                        lengths.len(),
                        self.max_batch_rows
                    ));
                }
                if let Some((i, len)) = lengths.iter().enumerate().find(|(_, len)| **len != n) {
                    return Err(format!(
                        "inputs[{i}] has {len} values; the model takes {n} features"
                    ));
                }
                (lengths.len(), true)
            }
        };
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let at = if batch {
                format!("inputs[{}][{}]", i / n, i % n)
            } else {
                format!("inputs[{i}]")
            };
            return Err(format!(
                "{at} is out of the float32 range (magnitude above 3.4028235e38)"
            ));
        }
        Ok(Rows {
            values,
            n_rows,
            batch,
        })
    }
}

fn empty() -> String {
    "inputs must not be empty: send one row of numbers or a list of rows".to_owned()
}

#[derive(Serialize)]
struct Prediction {
    prediction: f32,
}

#[derive(Serialize)]
struct Predictions<'a> {
    predictions: &'a [f32],
}

async fn predict(state: web::Data<AppState>, body: web::Json<PredictRequest>) -> HttpResponse {
    let rows = match state.check_inputs(body.into_inner().inputs) {
        Ok(rows) => rows,
        Err(detail) => {
            return error_response(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", &detail);
        }
    };
    let Rows {
        values,
        n_rows,
        batch,
    } = rows;
    let predictions = match state.predictor.predict(values, n_rows).await {
        Ok(predictions) => predictions,
        Err(err) => return predict_error(&err),
    };
    if predictions.len() != n_rows {
        return internal(&format!(
            "the model returned {} predictions for {n_rows} rows",
            predictions.len()
        ));
    }
    if let Some(i) = predictions.iter().position(|y| !y.is_finite()) {
        return internal(&format!(
            "the model returned a non-finite prediction for row {i} ({})",
            predictions[i]
        ));
    }
    match predictions.as_slice() {
        [prediction] if !batch => HttpResponse::Ok().json(Prediction {
            prediction: *prediction,
        }),
        _ => HttpResponse::Ok().json(Predictions {
            predictions: &predictions,
        }),
    }
}

fn internal(detail: &str) -> HttpResponse {
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
}

fn predict_error(err: &PredictError) -> HttpResponse {
    match err {
        PredictError::Overloaded => {
            let mut response = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                &err.to_string(),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
        PredictError::Unavailable => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &err.to_string(),
        ),
        PredictError::Failed(_) => internal(&err.to_string()),
        PredictError::Unprocessable(detail) => {
            error_response(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", detail)
        }
    }
}

// ---------------------------------------------------------------------------
// GET /health, /metrics, /openapi.json

#[derive(Serialize)]
struct Health {
    status: &'static str,
    ready: bool,
    n_features: usize,
}

/// 200 when ready; 503 (`"ready": false`) while draining or when the
/// predictor cannot answer. That it answers at all is the liveness signal.
async fn health(state: web::Data<AppState>) -> HttpResponse {
    let (status, ready) = if state.draining.load(Ordering::SeqCst) {
        ("draining", false)
    } else if !state.predictor.ready() {
        ("unavailable", false)
    } else {
        ("ok", true)
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(code).json(Health {
        status,
        ready,
        n_features: state.n_features,
    })
}

/// The Content-Type of the Prometheus text format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(METRICS_CONTENT_TYPE)
        .body(state.metrics.render())
}

async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

// ---------------------------------------------------------------------------
// Middleware

/// Answers 504 when a request (body upload, parsing and prediction) takes
/// longer than `request_timeout`. Dropping the request's future also tells a
/// [`Batcher`] to skip it. The answer travels as an error: the request itself
/// was moved into the handler and is gone.
async fn timeout_middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(limit) = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.request_timeout)
    else {
        return next.call(req).await;
    };
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(result) => result,
        Err(_elapsed) => {
            let detail = format!(
                "no answer within the request timeout of {} s",
                limit.as_secs_f64()
            );
            let response = error_response(StatusCode::GATEWAY_TIMEOUT, "timeout", &detail);
            Err(InternalError::from_response(detail, response).into())
        }
    }
}

/// Counts every answer by route, method and status, and times it by route.
async fn metrics_middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = route_index(req.path());
    let method = method_index(req.method());
    let result = next.call(req).await;
    if let Some(state) = state {
        let status = match &result {
            Ok(response) => response.status(),
            Err(err) => err.as_response_error().status_code(),
        };
        state
            .metrics
            .record(route, method, status, started.elapsed());
    }
    result
}

// ---------------------------------------------------------------------------
// Metrics (Prometheus text format 0.0.4, written by hand)

/// Route labels; the last one is every path the app does not serve, so the
/// set of label values stays bounded whatever clients send.
const ROUTES: [&str; 5] = [PREDICT, HEALTH, METRICS, OPENAPI, "unmatched"];
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "other",
];
/// The statuses the app answers with; anything else is counted as "other".
const STATUSES: [u16; 10] = [200, 400, 404, 405, 413, 415, 422, 500, 503, 504];
/// Histogram bucket upper bounds: nanoseconds and their `le` label.
const BUCKETS: [(u64, &str); 16] = [
    (100_000, "0.0001"),
    (250_000, "0.00025"),
    (500_000, "0.0005"),
    (1_000_000, "0.001"),
    (2_500_000, "0.0025"),
    (5_000_000, "0.005"),
    (10_000_000, "0.01"),
    (25_000_000, "0.025"),
    (50_000_000, "0.05"),
    (100_000_000, "0.1"),
    (250_000_000, "0.25"),
    (500_000_000, "0.5"),
    (1_000_000_000, "1"),
    (2_500_000_000, "2.5"),
    (5_000_000_000, "5"),
    (10_000_000_000, "10"),
];
const N_STATUSES: usize = STATUSES.len() + 1;
const N_BUCKETS: usize = BUCKETS.len() + 1;

fn route_index(path: &str) -> usize {
    ROUTES[..ROUTES.len() - 1]
        .iter()
        .position(|route| *route == path)
        .unwrap_or(ROUTES.len() - 1)
}

fn method_index(method: &Method) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|name| *name == method.as_str())
        .unwrap_or(METHODS.len() - 1)
}

/// Fixed tables of counters: no lock and no allocation per request.
struct Metrics {
    requests: [[[AtomicU64; N_STATUSES]; METHODS.len()]; ROUTES.len()],
    /// Per route: observations per bucket (not cumulative), the last one
    /// above every bound.
    buckets: [[AtomicU64; N_BUCKETS]; ROUTES.len()],
    sum_nanos: [AtomicU64; ROUTES.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: [const { [const { [const { AtomicU64::new(0) }; N_STATUSES] }; METHODS.len()] };
                ROUTES.len()],
            buckets: [const { [const { AtomicU64::new(0) }; N_BUCKETS] }; ROUTES.len()],
            sum_nanos: [const { AtomicU64::new(0) }; ROUTES.len()],
        }
    }
}

impl Metrics {
    fn record(&self, route: usize, method: usize, status: StatusCode, elapsed: Duration) {
        let status = STATUSES
            .iter()
            .position(|s| *s == status.as_u16())
            .unwrap_or(STATUSES.len());
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKETS
            .iter()
            .position(|(bound, _)| nanos <= *bound)
            .unwrap_or(BUCKETS.len());
        if let (Some(counts), Some(buckets), Some(sum)) = (
            self.requests.get(route).and_then(|r| r.get(method)),
            self.buckets.get(route),
            self.sum_nanos.get(route),
        ) {
            counts[status].fetch_add(1, Ordering::Relaxed);
            buckets[bucket].fetch_add(1, Ordering::Relaxed);
            sum.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// The text exposition: `http_requests_total` (non-zero series only) and
    /// the `http_request_duration_seconds` histogram of every route.
    fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP http_requests_total Requests answered, by route, method and status code.\n\
             # TYPE http_requests_total counter\n",
        );
        for (route, methods) in ROUTES.iter().zip(&self.requests) {
            for (method, statuses) in METHODS.iter().zip(methods) {
                for (i, count) in statuses.iter().enumerate() {
                    let count = count.load(Ordering::Relaxed);
                    if count == 0 {
                        continue;
                    }
                    let status = STATUSES
                        .get(i)
                        .map_or_else(|| "other".to_owned(), u16::to_string);
                    let _ = writeln!(
                        out,
                        "http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time from the request head to the answer, by route.\n\
             # TYPE http_request_duration_seconds histogram\n",
        );
        for ((route, buckets), sum) in ROUTES.iter().zip(&self.buckets).zip(&self.sum_nanos) {
            let mut cumulative = 0u64;
            for ((_, le), count) in BUCKETS.iter().zip(buckets) {
                cumulative += count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            if let Some(above) = buckets.last() {
                cumulative += above.load(Ordering::Relaxed);
            }
            let seconds = sum.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}\n\
                 http_request_duration_seconds_sum{{route=\"{route}\"}} {seconds}\n\
                 http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}"
            );
        }
        out
    }
}

// ---------------------------------------------------------------------------
// OpenAPI

/// Every `error` code an error answer can carry.
const ERROR_CODES: [&str; 10] = [
    "bad_request",
    "unprocessable",
    "payload_too_large",
    "unsupported_media_type",
    "not_found",
    "method_not_allowed",
    "overloaded",
    "unavailable",
    "timeout",
    "internal",
];

/// The OpenAPI 3.1 document of a server with these settings serving a model
/// of `n_features` features: every route, every answer it can give (errors
/// included), and the shapes of the bodies. `GET /openapi.json` serves it.
///
/// 404 (any other path) and 405 (any other method, with `Allow`) apply to
/// requests the document has no operation for, so they are listed under
/// `components.responses` as `NotFound` and `MethodNotAllowed`.
pub fn openapi(settings: &Settings, n_features: usize) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} model server", env!("CARGO_PKG_NAME")),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Predictions of a model over HTTP. Errors are JSON objects \
                {\"error\": code, \"detail\": message}. Any other path answers 404 \
                (components.responses.NotFound) and any other method 405 with an Allow \
                header (components.responses.MethodNotAllowed).",
        },
        "paths": {
            PREDICT: {"post": predict_operation()},
            HEALTH: {"get": {
                "operationId": "health",
                "summary": "Liveness and readiness",
                "description": "Answers while the server runs (liveness); 200 when it \
                    accepts predictions, 503 while it drains or when the model is unavailable.",
                "responses": {
                    "200": {"description": "Ready.", "content": json_content("Health")},
                    "503": {"description": "Not ready: draining or unavailable.",
                            "content": json_content("Health")},
                },
            }},
            METRICS: {"get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "description": "http_requests_total{route,method,status} and the \
                    http_request_duration_seconds histogram by route; paths the server \
                    does not serve are counted as route=\"unmatched\".",
                "responses": {"200": {
                    "description": "Prometheus text format 0.0.4.",
                    "content": {METRICS_CONTENT_TYPE: {"schema": {"type": "string"}}},
                }},
            }},
            OPENAPI: {"get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }},
            }},
        },
        "components": {
            "schemas": schemas(settings, n_features),
            "responses": error_responses(),
        },
    })
}

fn json_content(schema: &str) -> Value {
    json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}})
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn predict_operation() -> Value {
    json!({
        "operationId": "predict",
        "summary": "Predict one row or a list of rows",
        "requestBody": {"required": true, "content": json_content("PredictRequest")},
        "responses": {
            "200": {
                "description": "{\"prediction\": y} for one row, {\"predictions\": [...]} \
                    for a list of rows (in order).",
                "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Prediction"},
                    {"$ref": "#/components/schemas/Predictions"},
                ]}}},
            },
            "400": response_ref("BadRequest"),
            "413": response_ref("PayloadTooLarge"),
            "415": response_ref("UnsupportedMediaType"),
            "422": response_ref("Unprocessable"),
            "500": response_ref("Internal"),
            "503": response_ref("Unavailable"),
            "504": response_ref("Timeout"),
        },
    })
}

fn schemas(settings: &Settings, n_features: usize) -> Value {
    let number = json!({
        "type": "number",
        "minimum": -f64::from(f32::MAX),
        "maximum": f64::from(f32::MAX),
        "description": "A float32: finite, magnitude at most 3.4028235e38.",
    });
    let row = json!({
        "type": "array",
        "items": number,
        "minItems": n_features,
        "maxItems": n_features,
        "description": format!("One row: {n_features} numbers."),
    });
    json!({
        "PredictRequest": {
            "type": "object",
            "required": ["inputs"],
            "additionalProperties": false,
            "properties": {"inputs": {"oneOf": [
                row,
                {
                    "type": "array",
                    "items": row,
                    "minItems": 1,
                    "maxItems": settings.max_batch_rows,
                    "description": format!(
                        "A list of 1 to {} rows (max_batch_rows).", settings.max_batch_rows
                    ),
                },
            ]}},
        },
        "Prediction": {
            "type": "object",
            "required": ["prediction"],
            "additionalProperties": false,
            "properties": {"prediction": {"type": "number"}},
        },
        "Predictions": {
            "type": "object",
            "required": ["predictions"],
            "additionalProperties": false,
            "properties": {"predictions": {"type": "array", "items": {"type": "number"}}},
        },
        "Health": {
            "type": "object",
            "required": ["status", "ready", "n_features"],
            "additionalProperties": false,
            "properties": {
                "status": {"type": "string", "enum": ["ok", "draining", "unavailable"]},
                "ready": {"type": "boolean"},
                "n_features": {"type": "integer", "minimum": 1},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "additionalProperties": false,
            "properties": {
                "error": {"type": "string", "enum": ERROR_CODES},
                "detail": {"type": "string"},
            },
        },
    })
}

fn error_response_doc(description: &str) -> Value {
    json!({"description": description, "content": json_content("Error")})
}

fn error_responses() -> Value {
    let mut not_allowed = error_response_doc(
        "method_not_allowed: the path exists but not with this method (HEAD included).",
    );
    not_allowed["headers"] = json!({"Allow": {
        "description": "The method the path accepts.",
        "schema": {"type": "string"},
    }});
    let mut unavailable = error_response_doc(
        "overloaded (the request queue is full; retry after Retry-After seconds) or \
         unavailable (the server is shutting down).",
    );
    unavailable["headers"] = json!({"Retry-After": {
        "description": "Sent with overloaded: seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }});
    json!({
        "BadRequest": error_response_doc(
            "bad_request: the body is not JSON, or not {\"inputs\": [...]} with numbers."),
        "PayloadTooLarge": error_response_doc(
            "payload_too_large: the body is over max_body_bytes."),
        "UnsupportedMediaType": error_response_doc(
            "unsupported_media_type: Content-Type is not application/json."),
        "Unprocessable": error_response_doc(
            "unprocessable: valid JSON of the wrong shape: a row of the wrong length, no \
             rows, more rows than max_batch_rows, rows of different lengths, a number \
             beyond the float32 range, or values so large that the prediction overflows."),
        "Internal": error_response_doc("internal: the prediction failed."),
        "Unavailable": unavailable,
        "Timeout": error_response_doc("timeout: no answer within request_timeout."),
        "NotFound": error_response_doc("not_found: no such path."),
        "MethodNotAllowed": not_allowed,
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::AtomicUsize;

    use actix_web::dev::Service;
    use actix_web::http::header::HeaderMap;
    use actix_web::test::{self, TestRequest};
    use actix_web::web::Bytes;

    use super::*;

    /// How [`Stub`] answers `predict`.
    #[derive(Clone)]
    enum Reply {
        Error(PredictError),
        Values(Vec<f32>),
        Pending,
    }

    /// A predictor that answers as told (for the statuses a model never gives).
    struct Stub {
        reply: Reply,
        ready: bool,
    }

    impl Predictor for Stub {
        fn n_features(&self) -> usize {
            2
        }

        fn predict(&self, _rows: Vec<f32>, _n_rows: usize) -> PredictFuture {
            match self.reply.clone() {
                Reply::Error(err) => done(Err(err)),
                Reply::Values(values) => done(Ok(values)),
                Reply::Pending => Box::pin(std::future::pending()),
            }
        }

        fn ready(&self) -> bool {
            self.ready
        }
    }

    fn model() -> Model {
        Model::new(vec![0.5, -1.0, 2.0], 0.25).unwrap()
    }

    fn small_settings() -> Settings {
        Settings {
            port: 0,
            workers: 1,
            max_body_bytes: 4096,
            max_batch_rows: 4,
            request_timeout: Duration::from_millis(300),
            ..Settings::default()
        }
    }

    fn state(settings: &Settings, predictor: Arc<dyn Predictor>) -> web::Data<AppState> {
        web::Data::new(AppState::new(
            settings,
            predictor,
            Arc::new(AtomicBool::new(false)),
        ))
    }

    /// An answer as the client sees it; an error from the app (the 504 of
    /// the timeout middleware) becomes its response, as the server does.
    struct Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    }

    impl Answer {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap()
        }

        fn content_type(&self) -> &str {
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        }
    }

    async fn answer<B: MessageBody>(
        result: Result<ServiceResponse<B>, actix_web::Error>,
    ) -> Answer {
        match result {
            Ok(response) => Answer {
                status: response.status(),
                headers: response.headers().clone(),
                body: test::read_body(response).await,
            },
            Err(err) => {
                let response = err.error_response();
                Answer {
                    status: response.status(),
                    headers: response.headers().clone(),
                    body: actix_web::body::to_bytes(response.into_body())
                        .await
                        .unwrap(),
                }
            }
        }
    }

    /// Send a `TestRequest` to an app made by `test::init_service`.
    macro_rules! send {
        ($app:expr, $req:expr) => {
            answer($app.call($req.to_request()).await).await
        };
    }

    fn post_json(body: &str) -> TestRequest {
        TestRequest::post()
            .uri(PREDICT)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body.to_owned())
    }

    /// The default settings with one change (a row of a table of bad settings).
    fn with_settings(change: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::default();
        change(&mut settings);
        settings
    }

    fn with_batch(change: impl FnOnce(&mut BatchSettings)) -> BatchSettings {
        let mut settings = BatchSettings::default();
        change(&mut settings);
        settings
    }

    /// Run `f` inside an actix system, as a server worker would.
    fn run<F: Future<Output = ()>>(f: F) {
        actix_web::rt::System::new().block_on(f);
    }

    #[test]
    fn settings_are_checked_and_name_the_setting() {
        Settings::default().check().unwrap();
        for host in ["0.0.0.0", "::1", "[::1]", "::"] {
            with_settings(|s| s.host = host.to_owned()).check().unwrap();
        }
        let cases = [
            ("host", with_settings(|s| s.host = "localhost".into())),
            ("host", with_settings(|s| s.host = "".into())),
            ("workers", with_settings(|s| s.workers = 0)),
            ("workers", with_settings(|s| s.workers = 513)),
            ("max_body_bytes", with_settings(|s| s.max_body_bytes = 0)),
            ("max_batch_rows", with_settings(|s| s.max_batch_rows = 0)),
            (
                "request_timeout",
                with_settings(|s| s.request_timeout = Duration::ZERO),
            ),
            (
                "request_timeout",
                with_settings(|s| s.request_timeout = MAX_TIMEOUT * 2),
            ),
            (
                "shutdown_timeout",
                with_settings(|s| s.shutdown_timeout = MAX_TIMEOUT * 2),
            ),
        ];
        for (name, settings) in cases {
            let err = settings.check().unwrap_err();
            assert!(
                matches!(&err, Error::Invalid(m) if m.starts_with(name)),
                "{name}: {err}"
            );
            // Server::start refuses them before binding anything.
            let start = Server::start(&settings, Arc::new(model()));
            assert!(matches!(start, Err(Error::Invalid(_))), "{name}");
        }
        let half = with_settings(|s| s.shutdown_timeout = Duration::from_millis(1500));
        assert_eq!(half.shutdown_secs(), 2);
    }

    #[test]
    fn batch_settings_are_checked_and_name_the_setting() {
        BatchSettings::default().check().unwrap();
        let cases = [
            ("max_batch_size", with_batch(|s| s.max_batch_size = 0)),
            ("queue_size", with_batch(|s| s.queue_size = 0)),
            ("max_wait", with_batch(|s| s.max_wait = MAX_BATCH_WAIT * 2)),
        ];
        for (name, settings) in cases {
            let err = Batcher::spawn(2, settings, |_, n| Ok(vec![0.0; n])).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid(m) if m.starts_with(name)),
                "{name}: {err}"
            );
        }
        let err = Batcher::spawn(0, BatchSettings::default(), |_, n| Ok(vec![0.0; n]));
        assert!(matches!(err, Err(Error::Invalid(m)) if m.starts_with("n_features")));
    }

    #[test]
    fn predict_answers_one_row_and_batches_like_the_model() {
        let model = model();
        let settings = small_settings();
        run(async {
            let app = test::init_service(app(state(&settings, Arc::new(model.clone())))).await;
            let answer = send!(app, post_json(r#"{"inputs": [1, 2.5, -3e0]}"#));
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.content_type(), "application/json");
            let expected = model.predict(ArrayView1::from(&[1.0, 2.5, -3.0])).unwrap();
            assert_eq!(answer.json(), json!({"prediction": expected}));

            let rows = [[1.0f32, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 1e-3]];
            let body = json!({"inputs": rows}).to_string();
            let answer = send!(app, post_json(&body));
            assert_eq!(answer.status, StatusCode::OK);
            let expected: Vec<f32> = rows
                .iter()
                .map(|row| model.predict(ArrayView1::from(row)).unwrap())
                .collect();
            let got: Vec<f32> = answer.json()["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|y| y.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(got, expected);

            // A list of one row is still a list.
            let answer = send!(app, post_json(r#"{"inputs": [[1, 2, 3]]}"#));
            assert_eq!(
                answer.json()["predictions"].as_array().map(Vec::len),
                Some(1)
            );
            // Content-Type parameters are fine.
            let req = TestRequest::post()
                .uri(PREDICT)
                .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
                .set_payload(r#"{"inputs": [1, 2, 3]}"#);
            assert_eq!(send!(app, req).status, StatusCode::OK);
        });
    }

    /// Every error answer: status, JSON body with the code and a detail.
    #[test]
    fn every_error_status_has_a_json_body() {
        let settings = small_settings();
        let too_big = format!(r#"{{"inputs": [{}]}}"#, "1,".repeat(3000) + "1");
        let too_many = json!({"inputs": vec![[1.0, 2.0, 3.0]; 5]}).to_string();
        let cases: [(&str, TestRequest, u16, &str); 25] = [
            ("not JSON", post_json("{"), 400, "bad_request"),
            ("not JSON either", post_json("inputs=1"), 400, "bad_request"),
            (
                "a string",
                post_json(r#"{"inputs": [1, "2", 3]}"#),
                400,
                "bad_request",
            ),
            (
                "a null",
                post_json(r#"{"inputs": [1, null, 3]}"#),
                400,
                "bad_request",
            ),
            (
                "no inputs",
                post_json(r#"{"input": [1, 2, 3]}"#),
                400,
                "bad_request",
            ),
            ("missing inputs", post_json("{}"), 400, "bad_request"),
            (
                "extra field",
                post_json(r#"{"inputs": [1, 2, 3], "x": 1}"#),
                400,
                "bad_request",
            ),
            (
                "twice",
                post_json(r#"{"inputs": [1, 2, 3], "inputs": [1, 2, 3]}"#),
                400,
                "bad_request",
            ),
            (
                "a top-level array",
                post_json("[[1, 2, 3]]"),
                400,
                "bad_request",
            ),
            (
                "a number",
                post_json(r#"{"inputs": 1}"#),
                400,
                "bad_request",
            ),
            (
                "mixed",
                post_json(r#"{"inputs": [[1, 2, 3], 4]}"#),
                400,
                "bad_request",
            ),
            (
                "mixed the other way",
                post_json(r#"{"inputs": [4, [1, 2, 3]]}"#),
                400,
                "bad_request",
            ),
            (
                "too deep",
                post_json(r#"{"inputs": [[[1, 2, 3]]]}"#),
                400,
                "bad_request",
            ),
            (
                "beyond f64",
                post_json(r#"{"inputs": [1e400, 2, 3]}"#),
                400,
                "bad_request",
            ),
            (
                "short row",
                post_json(r#"{"inputs": [1, 2]}"#),
                422,
                "unprocessable",
            ),
            (
                "empty",
                post_json(r#"{"inputs": []}"#),
                422,
                "unprocessable",
            ),
            (
                "empty row",
                post_json(r#"{"inputs": [[]]}"#),
                422,
                "unprocessable",
            ),
            (
                "ragged",
                post_json(r#"{"inputs": [[1, 2, 3], [1, 2]]}"#),
                422,
                "unprocessable",
            ),
            ("too many rows", post_json(&too_many), 422, "unprocessable"),
            (
                "beyond f32",
                post_json(r#"{"inputs": [1e39, 2, 3]}"#),
                422,
                "unprocessable",
            ),
            (
                "beyond f32 in a row",
                post_json(r#"{"inputs": [[1, 2, 3], [1, -1e39, 3]]}"#),
                422,
                "unprocessable",
            ),
            (
                "overflowing the model",
                post_json(r#"{"inputs": [3e38, -3e38, 3e38]}"#),
                422,
                "unprocessable",
            ),
            ("too large", post_json(&too_big), 413, "payload_too_large"),
            (
                "no content type",
                TestRequest::post()
                    .uri(PREDICT)
                    .set_payload(r#"{"inputs": [1, 2, 3]}"#),
                415,
                "unsupported_media_type",
            ),
            (
                "text",
                TestRequest::post()
                    .uri(PREDICT)
                    .insert_header((header::CONTENT_TYPE, "text/plain"))
                    .set_payload(r#"{"inputs": [1, 2, 3]}"#),
                415,
                "unsupported_media_type",
            ),
        ];
        run(async {
            let app = test::init_service(app(state(&settings, Arc::new(model())))).await;
            for (name, req, status, code) in cases {
                let answer = send!(app, req);
                assert_eq!(answer.status.as_u16(), status, "{name}: {:?}", answer.body);
                assert_eq!(answer.content_type(), "application/json", "{name}");
                let body = answer.json();
                assert_eq!(body["error"], code, "{name}: {body}");
                assert!(
                    body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    "{name}: {body}"
                );
            }
            // The 422 details say what is wrong and where.
            let answer = send!(app, post_json(r#"{"inputs": [[1, 2, 3], [1, 2]]}"#));
            assert!(
                answer.json()["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("inputs[1] has 2 values")
            );
            let answer = send!(app, post_json(r#"{"inputs": [[1, 2, 3], [1, -1e39, 3]]}"#));
            assert!(
                answer.json()["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("inputs[1][1]")
            );
        });
    }

    #[test]
    fn unknown_paths_and_methods_answer_404_and_405() {
        let settings = small_settings();
        let cases: [(Method, &str, u16, Option<&str>); 8] = [
            (Method::GET, "/nope", 404, None),
            (Method::POST, "/predict/", 404, None),
            (Method::GET, PREDICT, 405, Some("POST")),
            (Method::PUT, PREDICT, 405, Some("POST")),
            (Method::POST, HEALTH, 405, Some("GET")),
            (Method::HEAD, HEALTH, 405, Some("GET")),
            (Method::DELETE, METRICS, 405, Some("GET")),
            (Method::POST, OPENAPI, 405, Some("GET")),
        ];
        run(async {
            let app = test::init_service(app(state(&settings, Arc::new(model())))).await;
            for (method, path, status, allow) in cases {
                let req = TestRequest::default().method(method.clone()).uri(path);
                let answer = send!(app, req);
                assert_eq!(answer.status.as_u16(), status, "{method} {path}");
                let code = if status == 404 {
                    "not_found"
                } else {
                    "method_not_allowed"
                };
                assert_eq!(answer.json()["error"], code, "{method} {path}");
                assert_eq!(
                    answer
                        .headers
                        .get(header::ALLOW)
                        .and_then(|v| v.to_str().ok()),
                    allow,
                    "{method} {path}"
                );
            }
        });
    }

    /// 500, 503 and 504 come from the predictor (or its absence of answer).
    #[test]
    fn predictor_failures_answer_500_503_and_504() {
        let settings = small_settings();
        let cases = [
            (Reply::Error(PredictError::Overloaded), 503, "overloaded"),
            (Reply::Error(PredictError::Unavailable), 503, "unavailable"),
            (
                Reply::Error(PredictError::Failed("boom".into())),
                500,
                "internal",
            ),
            (Reply::Values(vec![1.0, 2.0]), 500, "internal"), // wrong length
            (Reply::Values(vec![f32::INFINITY]), 500, "internal"),
            (Reply::Pending, 504, "timeout"),
        ];
        run(async {
            for (reply, status, code) in cases {
                let stub = Stub { reply, ready: true };
                let app = test::init_service(app(state(&settings, Arc::new(stub)))).await;
                let started = Instant::now();
                let answer = send!(app, post_json(r#"{"inputs": [1, 2]}"#));
                assert_eq!(answer.status.as_u16(), status, "{code}");
                assert_eq!(answer.json()["error"], code);
                let retry = answer.headers.get(header::RETRY_AFTER);
                assert_eq!(retry.is_some(), code == "overloaded");
                if code == "timeout" {
                    assert!(started.elapsed() >= settings.request_timeout);
                    assert!(started.elapsed() < Duration::from_secs(5));
                }
            }
        });
    }

    #[test]
    fn health_reports_readiness() {
        let settings = small_settings();
        run(async {
            let state = state(&settings, Arc::new(model()));
            let app = test::init_service(app(state.clone())).await;
            let get = || TestRequest::get().uri(HEALTH);
            let answer = send!(app, get());
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(
                answer.json(),
                json!({"status": "ok", "ready": true, "n_features": 3})
            );
            state.draining.store(true, Ordering::SeqCst);
            let answer = send!(app, get());
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                answer.json(),
                json!({"status": "draining", "ready": false, "n_features": 3})
            );

            let stub = Stub {
                reply: Reply::Pending,
                ready: false,
            };
            let app = test::init_service(super::app(self::state(&settings, Arc::new(stub)))).await;
            let answer = send!(app, get());
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(answer.json()["status"], "unavailable");
        });
    }

    /// The exposition format, line by line: every sample of a declared
    /// family, histogram buckets cumulative and `+Inf == _count`.
    #[test]
    fn metrics_count_requests_by_route_method_and_status() {
        let settings = small_settings();
        run(async {
            let app = test::init_service(app(state(&settings, Arc::new(model())))).await;
            send!(app, post_json(r#"{"inputs": [1, 2, 3]}"#));
            send!(app, post_json(r#"{"inputs": [1, 2, 3]}"#));
            send!(app, post_json(r#"{"inputs": [1, 2]}"#));
            send!(app, TestRequest::get().uri("/secret/../x"));
            send!(app, TestRequest::get().uri(PREDICT));
            let answer = send!(app, TestRequest::get().uri(METRICS));
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.content_type(), METRICS_CONTENT_TYPE);
            let text = std::str::from_utf8(&answer.body).unwrap();
            assert!(text.ends_with('\n'));
            for line in [
                r#"http_requests_total{route="/predict",method="POST",status="200"} 2"#,
                r#"http_requests_total{route="/predict",method="POST",status="422"} 1"#,
                r#"http_requests_total{route="/predict",method="GET",status="405"} 1"#,
                r#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
                r#"http_request_duration_seconds_count{route="/predict"} 4"#,
                r#"http_request_duration_seconds_bucket{route="/predict",le="+Inf"} 4"#,
                r#"http_request_duration_seconds_count{route="/metrics"} 0"#,
            ] {
                assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
            }
            let mut families = Vec::new();
            let mut last_bucket: Option<(String, u64)> = None;
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("# TYPE ") {
                    let name = rest.split(' ').next().unwrap().to_owned();
                    assert!(!families.contains(&name), "{name} declared twice");
                    families.push(name);
                    continue;
                }
                if line.starts_with("# HELP ") {
                    continue;
                }
                let (series, value) = line.rsplit_once(' ').unwrap();
                let value: f64 = value.parse().unwrap();
                let name = series.split('{').next().unwrap();
                let family = families.last().unwrap();
                assert!(
                    name.starts_with(family.as_str()),
                    "{line} outside its family"
                );
                assert!(series.ends_with('}'), "{line}");
                if name.ends_with("_bucket") {
                    let route = series.split(",le=").next().unwrap().to_owned();
                    if let Some((last_route, last)) = &last_bucket
                        && *last_route == route
                    {
                        assert!(value as u64 >= *last, "{line}: buckets not cumulative");
                    }
                    last_bucket = Some((route, value as u64));
                }
            }
            assert_eq!(
                families,
                ["http_requests_total", "http_request_duration_seconds"]
            );
        });
    }

    /// The document lists every route with every status the app answers.
    #[test]
    fn openapi_describes_every_route_and_answer() {
        let settings = small_settings();
        let doc = openapi(&settings, 3);
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let operations = [
            (
                PREDICT,
                "post",
                vec!["200", "400", "413", "415", "422", "500", "503", "504"],
            ),
            (HEALTH, "get", vec!["200", "503"]),
            (METRICS, "get", vec!["200"]),
            (OPENAPI, "get", vec!["200"]),
        ];
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), operations.len());
        for (path, method, statuses) in operations {
            let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
            let listed: Vec<&str> = responses.keys().map(String::as_str).collect();
            assert_eq!(listed, statuses, "{method} {path}");
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap();
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                assert!(response["description"].is_string(), "{path} {status}");
            }
        }
        for name in ["NotFound", "MethodNotAllowed"] {
            assert!(doc["components"]["responses"][name]["description"].is_string());
        }
        let inputs = &doc["components"]["schemas"]["PredictRequest"]["properties"]["inputs"];
        assert_eq!(inputs["oneOf"][0]["minItems"], 3);
        assert_eq!(inputs["oneOf"][1]["maxItems"], settings.max_batch_rows);
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(ERROR_CODES.len()));
        // The app serves the same document.
        run(async {
            let app = test::init_service(app(state(&settings, Arc::new(model())))).await;
            let answer = send!(app, TestRequest::get().uri(OPENAPI));
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.content_type(), "application/json");
            assert_eq!(answer.body, doc.to_string());
        });
    }

    // ---- a real server on 127.0.0.1 -------------------------------------

    const IO_TIMEOUT: Duration = Duration::from_secs(10);

    /// One HTTP/1.1 exchange on a new connection; returns the status code
    /// and the body (the connection is closed by `Connection: close`).
    fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let _ = stream.shutdown(Shutdown::Both);
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map_or_else(String::new, |(_, b)| b.to_owned());
        (status, body)
    }

    #[test]
    fn server_binds_port_0_answers_and_frees_the_port() {
        let server = Server::start(&small_settings(), Arc::new(model())).unwrap();
        let addr = server.addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        assert!(!server.wait(Some(Duration::from_millis(10))));
        let (status, body) = http(addr, "POST", PREDICT, r#"{"inputs": [2, 0, 0]}"#);
        assert_eq!((status, body.as_str()), (200, r#"{"prediction":1.25}"#));
        let (status, _) = http(addr, "GET", "/x", "");
        assert_eq!(status, 404);

        // A second server on the same port is an error, not a panic.
        let taken = Settings {
            port: addr.port(),
            ..small_settings()
        };
        let err = Server::start(&taken, Arc::new(model())).unwrap_err();
        assert!(matches!(&err, Error::Serve { .. }), "{err}");

        server.stop(true);
        assert!(server.wait(Some(Duration::ZERO)));
        server.stop(true); // idempotent
        server.stop(false);
        let refused = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        // The port is free: a listener with SO_REUSEADDR (the server's
        // closed connections may be in TIME_WAIT) binds it again.
        let again = Server::start(&taken, Arc::new(model())).unwrap();
        again.stop(false);
    }

    /// A client that connected just before a graceful stop (its connection
    /// still queued in the kernel, or its request half sent) gets its answer:
    /// the stop keeps accepting for `STOP_GRACE` first.
    #[test]
    fn graceful_stop_serves_a_request_sent_just_before_it() {
        let server = Arc::new(Server::start(&small_settings(), Arc::new(model())).unwrap());
        let addr = server.addr();
        let body = r#"{"inputs": [2, 0, 0]}"#;
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let head = format!(
            "POST {PREDICT} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body.as_bytes()[..5]).unwrap();
        let stopping = Arc::clone(&server);
        let stopper = thread::spawn(move || stopping.stop(true));
        thread::sleep(STOP_GRACE * 2);
        stream.write_all(&body.as_bytes()[5..]).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with(r#"{"prediction":1.25}"#), "{response}");
        stopper.join().unwrap();
        assert!(server.wait(Some(Duration::ZERO)));
    }

    #[test]
    fn concurrent_clients_get_the_models_answers() {
        let model = model();
        let server = Server::start(&small_settings(), Arc::new(model.clone())).unwrap();
        let addr = server.addr();
        let clients: Vec<_> = (0..4)
            .map(|client| {
                let model = model.clone();
                thread::spawn(move || {
                    for i in 0..10 {
                        let x = [client as f32, i as f32 * 0.25, -1.5];
                        let body = json!({"inputs": x}).to_string();
                        let (status, answer) = http(addr, "POST", PREDICT, &body);
                        assert_eq!(status, 200, "{answer}");
                        let answer: Value = serde_json::from_str(&answer).unwrap();
                        let expected = model.predict(ArrayView1::from(&x)).unwrap();
                        assert_eq!(
                            answer["prediction"].as_f64().map(|y| y as f32),
                            Some(expected)
                        );
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        server.stop(true);
    }

    #[test]
    fn a_port_in_use_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let settings = Settings {
            port: listener.local_addr().unwrap().port(),
            ..small_settings()
        };
        let err = Server::start(&settings, Arc::new(model())).unwrap_err();
        assert!(
            matches!(&err, Error::Serve { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse),
            "{err}"
        );
    }

    /// A graceful stop lets a request in flight finish; /health says
    /// "draining" meanwhile is covered by `health_reports_readiness`.
    #[test]
    fn graceful_stop_finishes_requests_in_flight() {
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let gate = Arc::clone(&release);
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let batcher = Batcher::spawn(2, BatchSettings::default(), move |rows, n_rows| {
            counted.fetch_add(1, Ordering::SeqCst);
            let (lock, cv) = &*gate;
            let open = lock.lock().unwrap();
            let _open = cv
                .wait_timeout_while(open, IO_TIMEOUT, |open| !*open)
                .unwrap();
            Ok(rows.chunks(2).take(n_rows).map(|r| r[0] + r[1]).collect())
        })
        .unwrap();
        let settings = Settings {
            request_timeout: IO_TIMEOUT,
            ..small_settings()
        };
        let server = Arc::new(Server::start(&settings, Arc::new(batcher)).unwrap());
        let addr = server.addr();
        let client = thread::spawn(move || http(addr, "POST", PREDICT, r#"{"inputs": [1, 2]}"#));
        let deadline = Instant::now() + IO_TIMEOUT;
        while calls.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the request never arrived");
        let stopping = Arc::clone(&server);
        let stopper = thread::spawn(move || stopping.stop(true));
        thread::sleep(Duration::from_millis(100));
        assert!(
            !server.wait(Some(Duration::ZERO)),
            "stopped before the request finished"
        );
        *release.0.lock().unwrap() = true;
        release.1.notify_all();
        assert_eq!(
            client.join().unwrap(),
            (200, r#"{"prediction":3.0}"#.to_owned())
        );
        stopper.join().unwrap();
        assert!(server.wait(Some(Duration::ZERO)));
    }

    // ---- the batcher -------------------------------------------------------

    /// A function for the batcher that records the rows of every call and
    /// blocks each call until `open` is set; predicts the sum of each row.
    fn gated_sum(
        calls: Arc<Mutex<Vec<usize>>>,
        open: Arc<(Mutex<bool>, Condvar)>,
    ) -> impl FnMut(&[f32], usize) -> Result<Vec<f32>, String> + Send + 'static {
        move |rows, n_rows| {
            calls.lock().unwrap().push(n_rows);
            let (lock, cv) = &*open;
            let guard = lock.lock().unwrap();
            let _guard = cv
                .wait_timeout_while(guard, IO_TIMEOUT, |open| !*open)
                .unwrap();
            Ok(rows.chunks(2).map(|row| row.iter().sum()).collect())
        }
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + IO_TIMEOUT;
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn batcher_forms_batches_of_max_batch_size_rows() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let settings = BatchSettings {
            max_batch_size: 4,
            max_wait: Duration::ZERO,
            queue_size: 64,
        };
        let batcher = Batcher::spawn(
            2,
            settings,
            gated_sum(Arc::clone(&calls), Arc::clone(&open)),
        )
        .unwrap();
        // The first request occupies the thread; the next ones queue up.
        let first = batcher.predict(vec![1.0, 1.0], 1);
        wait_for("the first call", || calls.lock().unwrap().len() == 1);
        let mut futures = Vec::new();
        for i in 0..8 {
            let x = i as f32;
            futures.push((x * 2.0 + 1.0, batcher.predict(vec![x, x + 1.0], 1)));
        }
        // A request of 3 rows does not fit after the 8 single rows' batches
        // of 4; it is a call of its own.
        let three = batcher.predict(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3);
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        run(async move {
            assert_eq!(first.await, Ok(vec![2.0]));
            for (expected, future) in futures {
                assert_eq!(future.await, Ok(vec![expected]));
            }
            assert_eq!(three.await, Ok(vec![3.0, 7.0, 11.0]));
        });
        assert_eq!(*calls.lock().unwrap(), [1, 4, 4, 3]);
    }

    #[test]
    fn batcher_waits_up_to_max_wait_for_more_rows() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new((Mutex::new(true), Condvar::new()));
        let settings = BatchSettings {
            max_batch_size: 3,
            max_wait: Duration::from_secs(5),
            queue_size: 8,
        };
        let batcher = Batcher::spawn(2, settings, gated_sum(Arc::clone(&calls), open)).unwrap();
        let started = Instant::now();
        let futures: Vec<_> = (0..3).map(|_| batcher.predict(vec![1.0, 2.0], 1)).collect();
        run(async move {
            for future in futures {
                assert_eq!(future.await, Ok(vec![3.0]));
            }
        });
        // Three rows complete the batch: no waiting for the full max_wait.
        assert_eq!(*calls.lock().unwrap(), [3]);
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn batcher_fails_every_job_of_a_bad_call_and_skips_clients_that_left() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let gate = Arc::clone(&open);
        let settings = BatchSettings {
            max_batch_size: 8,
            max_wait: Duration::ZERO,
            queue_size: 3,
        };
        let batcher = Batcher::spawn(1, settings, move |rows, n_rows| {
            seen.lock().unwrap().push(rows.to_vec());
            let (lock, cv) = &*gate;
            let guard = lock.lock().unwrap();
            let _guard = cv
                .wait_timeout_while(guard, IO_TIMEOUT, |open| !*open)
                .unwrap();
            match rows.first() {
                Some(x) if *x < 0.0 => Err("negative".to_owned()),
                Some(x) if *x > 100.0 => panic!("too big"),
                _ => Ok(vec![0.0; n_rows + 1]), // one too many
            }
        })
        .unwrap();
        let blocker = batcher.predict(vec![-1.0], 1);
        wait_for("the first call", || calls.lock().unwrap().len() == 1);
        let a = batcher.predict(vec![1.0], 1);
        let gone = batcher.predict(vec![2.0], 1);
        let b = batcher.predict(vec![3.0], 1);
        // The queue holds 3: the next one is turned away at once.
        let over = batcher.predict(vec![4.0], 1);
        drop(gone); // its client left: it is not computed
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        run(async move {
            assert_eq!(over.await, Err(PredictError::Overloaded));
            assert_eq!(blocker.await, Err(PredictError::Failed("negative".into())));
            let wrong = Err(PredictError::Failed(
                "the predict function returned 3 values for 2 rows".into(),
            ));
            assert_eq!(a.await, wrong);
            assert_eq!(b.await, wrong);
        });
        let too_big = run_blocking(batcher.predict(vec![1000.0], 1));
        assert!(matches!(too_big, Err(PredictError::Failed(m)) if m.contains("panicked")));
        assert!(batcher.ready(), "a panic in f must not end the thread");
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls, [vec![-1.0], vec![1.0, 3.0], vec![1000.0]]);
        // Rows that do not match n_features are refused before queueing.
        let wrong = run_blocking(batcher.predict(vec![1.0, 2.0], 1));
        assert!(matches!(wrong, Err(PredictError::Failed(_))));
    }

    fn run_blocking(future: PredictFuture) -> Result<Vec<f32>, PredictError> {
        actix_web::rt::System::new().block_on(future)
    }

    #[test]
    fn a_dropped_batcher_ends_its_thread() {
        let batcher = Batcher::spawn(1, BatchSettings::default(), |_, n| Ok(vec![1.0; n])).unwrap();
        let alive = Arc::clone(&batcher.alive);
        assert_eq!(run_blocking(batcher.predict(vec![0.0], 1)), Ok(vec![1.0]));
        drop(batcher);
        wait_for("the thread to end", || !alive.load(Ordering::SeqCst));
    }

    #[test]
    fn model_predicts_inline_and_checks_the_row_count() {
        let model = model();
        let rows = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let got = run_blocking(Predictor::predict(&model, rows.clone(), 2)).unwrap();
        let x = ndarray::Array2::from_shape_vec((2, 3), rows).unwrap();
        assert_eq!(got, model.predict_batch(x.view()).unwrap().to_vec());
        let wrong = run_blocking(Predictor::predict(&model, vec![1.0; 4], 2));
        assert!(matches!(wrong, Err(PredictError::Failed(_))));
    }

    #[test]
    fn route_and_method_labels_are_bounded() {
        assert_eq!(ROUTES[route_index("/predict")], "/predict");
        assert_eq!(ROUTES[route_index("/anything/else")], "unmatched");
        assert_eq!(METHODS[method_index(&Method::GET)], "GET");
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(METHODS[method_index(&custom)], "other");
        let metrics = Metrics::default();
        metrics.record(0, 0, StatusCode::IM_A_TEAPOT, Duration::from_secs(60));
        let text = metrics.render();
        assert!(
            text.contains(r#"http_requests_total{route="/predict",method="GET",status="other"} 1"#)
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/predict",le="10"} 0"#)
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/predict",le="+Inf"} 1"#)
        );
    }
}
