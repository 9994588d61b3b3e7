//! Bindings for `crate::async_io`: concurrent HTTP GETs, as a blocking call
//! that releases the GIL and as an asyncio awaitable.
//!
//! Both run on the module's one tokio runtime (`async_io::runtime`, one per
//! process). The awaitable goes through pyo3-async-runtimes' generic layer
//! with [`ModuleRuntime`], so it uses that same fork-aware runtime instead of
//! pyo3-async-runtimes' own global one. Results are plain tuples;
//! `async_io.py` wraps them in `FetchResult`.

use std::any::Any;
use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{self, ContextExt, Runtime};
use tokio::runtime::Handle;
use tokio::task::{JoinError, JoinHandle};

use super::args;
use crate::async_io::{self, Outcome, Settings};

/// How long the blocking call waits with the GIL released before it looks
/// for a signal (Ctrl-C) again.
const SIGNAL_SLICE: Duration = Duration::from_millis(50);
/// After an interrupt, how long to wait for the aborted task to drop its
/// requests (it stops at its next poll, normally within microseconds).
const ABORT_WAIT: Duration = Duration::from_secs(2);

// --- pyo3-async-runtimes on the module's runtime ----------------------------------

/// pyo3-async-runtimes' view of `async_io::runtime()`: it spawns on the
/// runtime of the calling thread's context. That is always this module's:
/// `fetch_all_async` enters it around `future_into_py` (the one spawn made
/// from a Python thread), and every other spawn runs on its own threads.
struct ModuleRuntime;

tokio::task_local! {
    /// The asyncio event loop (and context) of the awaitable a task serves.
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

/// A task spawned by [`ModuleRuntime`], or the error of a spawn made
/// outside any runtime (which the design above rules out; it is still an
/// error value here rather than a panic).
enum Spawned {
    Running(JoinHandle<()>),
    NoRuntime,
}

/// Why a [`Spawned`] task did not finish.
#[derive(Debug)]
enum SpawnError {
    Join(JoinError),
    NoRuntime,
}

impl Future for Spawned {
    type Output = Result<(), SpawnError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Spawned::Running(task) => Pin::new(task).poll(cx).map_err(SpawnError::Join),
            Spawned::NoRuntime => Poll::Ready(Err(SpawnError::NoRuntime)),
        }
    }
}

impl generic::JoinError for SpawnError {
    fn is_panic(&self) -> bool {
        matches!(self, SpawnError::Join(err) if err.is_panic())
    }

    fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self {
            SpawnError::Join(err) => match err.try_into_panic() {
                Ok(payload) => payload,
                Err(err) => Box::new(err.to_string()),
            },
            SpawnError::NoRuntime => Box::new("no tokio runtime to spawn on"),
        }
    }
}

impl Runtime for ModuleRuntime {
    type JoinError = SpawnError;
    type JoinHandle = Spawned;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match Handle::try_current() {
            Ok(handle) => Spawned::Running(handle.spawn(fut)),
            Err(_) => Spawned::NoRuntime,
        }
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        match Handle::try_current() {
            Ok(handle) => Spawned::Running(handle.spawn_blocking(f)),
            Err(_) => Spawned::NoRuntime,
        }
    }
}

impl ContextExt for ModuleRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|cell| cell.get().cloned())
            .unwrap_or_default()
    }
}

// --- arguments and results -------------------------------------------------------

/// The URLs as Rust strings: any iterable of str (TypeError naming the first
/// item that is not a str, or for a single str).
fn urls(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    args::items(obj, "urls", "str", |item, i| {
        let text = item.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "urls[{i}] must be str, got {}",
                args::type_name(item)
            ))
        })?;
        let text = text.to_cow().map_err(|_| {
            PyValueError::new_err(format!(
                "urls[{i}] is not valid Unicode (it holds a lone surrogate)"
            ))
        })?;
        Ok(text.into_owned())
    })
}

fn settings(
    concurrency: &Bound<'_, PyAny>,
    timeout: &Bound<'_, PyAny>,
    total_timeout: Option<&Bound<'_, PyAny>>,
    max_body_bytes: &Bound<'_, PyAny>,
    max_redirects: &Bound<'_, PyAny>,
) -> PyResult<Settings> {
    let settings = Settings {
        concurrency: args::count(concurrency, "concurrency", 1)?,
        timeout: args::seconds(timeout, "timeout")?,
        total_timeout: total_timeout
            .map(|t| args::seconds(t, "total_timeout"))
            .transpose()?,
        max_body_bytes: args::count(max_body_bytes, "max_body_bytes", 0)?,
        max_redirects: args::count(max_redirects, "max_redirects", 0)?,
    };
    settings.check()?;
    Ok(settings)
}

/// One `(url, status, body, error, detail, final_url)` tuple per URL, in order.
struct Outcomes {
    urls: Arc<[String]>,
    outcomes: Vec<Outcome>,
}

impl<'py> IntoPyObject<'py> for Outcomes {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (url, outcome) in self.urls.iter().zip(self.outcomes) {
            let body = outcome.body.map(|body| PyBytes::new(py, &body));
            let (error, detail) = match outcome.error {
                Some(failure) => (Some(failure.kind.name()), Some(failure.detail)),
                None => (None, None),
            };
            let item = (url, outcome.status, body, error, detail, outcome.final_url);
            list.append(item)?;
        }
        Ok(list)
    }
}

// --- the functions ------------------------------------------------------------------

/// GET every URL concurrently: one result tuple per URL, in input order.
///
/// Each tuple is `(url, status, body, error, detail, final_url)`. Blocks
/// with the GIL released; Ctrl-C (KeyboardInterrupt) stops the requests in
/// flight and raises. A URL that cannot be fetched is its own outcome
/// (`error` is "timeout", "connect", "redirect", "body_too_large",
/// "invalid_url" or "other"), never an exception. Every setting is required
/// here: `async_io.fetch_all` has the defaults.
#[pyfunction]
#[pyo3(signature = (urls, *, concurrency, timeout, total_timeout, max_body_bytes, max_redirects))]
fn fetch_all<'py>(
    py: Python<'py>,
    urls: &Bound<'py, PyAny>,
    concurrency: &Bound<'py, PyAny>,
    timeout: &Bound<'py, PyAny>,
    total_timeout: Option<&Bound<'py, PyAny>>,
    max_body_bytes: &Bound<'py, PyAny>,
    max_redirects: &Bound<'py, PyAny>,
) -> PyResult<Outcomes> {
    let settings = settings(
        concurrency,
        timeout,
        total_timeout,
        max_body_bytes,
        max_redirects,
    )?;
    let urls: Arc<[String]> = self::urls(urls)?.into();
    let client = async_io::client()?;
    let runtime = async_io::runtime()?;
    // The task sends its result; if it is aborted (or panics) the sender is
    // dropped with it, which the receiver sees as a disconnect.
    let (sender, receiver) = mpsc::sync_channel(1);
    let task = runtime.spawn({
        let urls = Arc::clone(&urls);
        async move {
            let outcomes = async_io::fetch_all(client, urls, settings).await;
            let _ = sender.send(outcomes);
        }
    });
    let mut receiver = receiver;
    loop {
        // The receiver travels into the GIL-free closure and back (it is
        // `Send` but not `Sync`).
        let (received, back) = py.detach(move || (receiver.recv_timeout(SIGNAL_SLICE), receiver));
        receiver = back;
        match received {
            Ok(outcomes) => return Ok(Outcomes { urls, outcomes }),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    // Return once the requests are gone (their connections
                    // closed), not while they may still be running.
                    let _ = py.detach(move || receiver.recv_timeout(ABORT_WAIT));
                    return Err(interrupt);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the fetch task stopped without a result",
                ));
            }
        }
    }
}

/// The awaitable form of `fetch_all`: an asyncio future of the same list of tuples.
///
/// Must be called with an asyncio event loop running in this thread (from
/// a coroutine). The requests run on the module's runtime, not on the event
/// loop, which stays free for other tasks; cancelling the future cancels
/// them (their connections are closed).
#[pyfunction]
#[pyo3(signature = (urls, *, concurrency, timeout, total_timeout, max_body_bytes, max_redirects))]
fn fetch_all_async<'py>(
    py: Python<'py>,
    urls: &Bound<'py, PyAny>,
    concurrency: &Bound<'py, PyAny>,
    timeout: &Bound<'py, PyAny>,
    total_timeout: Option<&Bound<'py, PyAny>>,
    max_body_bytes: &Bound<'py, PyAny>,
    max_redirects: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let settings = settings(
        concurrency,
        timeout,
        total_timeout,
        max_body_bytes,
        max_redirects,
    )?;
    let urls: Arc<[String]> = self::urls(urls)?.into();
    let client = async_io::client()?;
    // `ModuleRuntime` spawns on the runtime this thread has entered.
    let _entered = async_io::runtime()?.enter();
    generic::future_into_py::<ModuleRuntime, _, _>(py, async move {
        let outcomes = async_io::fetch_all(client, Arc::clone(&urls), settings).await;
        Ok(Outcomes { urls, outcomes })
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_CONCURRENCY", async_io::MAX_CONCURRENCY)?;
    m.add_function(wrap_pyfunction!(fetch_all, m)?)?;
    m.add_function(wrap_pyfunction!(fetch_all_async, m)?)?;
    Ok(())
}
