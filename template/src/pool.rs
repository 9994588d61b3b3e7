//! The one rayon thread pool this crate computes on, and how it survives `fork`.
//!
//! After `fork` only the forking thread exists in the child. A pool the parent
//! had started has no workers there, so the child's first multithreaded call would
//! wait for them forever. Python forks more often than it seems: the "fork"
//! start method of multiprocessing (the default on Linux before Python 3.14),
//! PyTorch `DataLoader` workers and `gunicorn --preload` all do.
//!
//! So all multithreaded work goes through [`install`], and each process builds
//! its own pool on first use: the pool remembers the id of the process that
//! built it, and a child that finds its parent's pool builds a new one. The
//! parent's pool is leaked in the child, not dropped: its threads do not exist
//! there, and one of them may have held a lock at the moment of the fork.

use std::process;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::{Error, Result};

struct Pool {
    pid: u32,
    pool: ThreadPool,
}

/// The current process's pool; never freed (one per process that used it).
static POOL: AtomicPtr<Pool> = AtomicPtr::new(ptr::null_mut());

fn pool() -> Result<&'static ThreadPool> {
    let pid = process::id();
    let current = POOL.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `Box::into_raw` below and the box
    // is never freed, so it is valid for the rest of the process.
    if let Some(pool) = unsafe { current.as_ref() }.filter(|pool| pool.pid == pid) {
        return Ok(&pool.pool);
    }
    // Sized by RAYON_NUM_THREADS, or the number of logical CPUs.
    let pool = ThreadPoolBuilder::new()
        .thread_name(|i| format!("pool-{i}"))
        .build()
        .map_err(|err| Error::Threads(err.to_string()))?;
    let fresh = Box::into_raw(Box::new(Pool { pid, pool }));
    match POOL.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: `fresh` was just leaked into POOL and is never freed.
        Ok(_) => Ok(unsafe { &(*fresh).pool }),
        Err(winner) => {
            // Another thread of this process installed a pool first: use that
            // one. Ours never ran anything and belongs to this process, so it
            // can be dropped normally.
            // SAFETY: `fresh` came from `Box::into_raw` and was not published.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: as above, published pointers are never freed.
            Ok(unsafe { &(*winner).pool })
        }
    }
}

/// Run `work` on this process's pool: rayon's iterators inside it
/// use the pool's threads. Never use rayon's global pool directly: it does
/// not survive `fork`. Called from a thread of some rayon pool (a Rust caller
/// that installed a pool of its own), `work` runs there instead.
pub fn install<R: Send>(work: impl FnOnce() -> R + Send) -> Result<R> {
    if rayon::current_thread_index().is_some() {
        return Ok(work());
    }
    Ok(pool()?.install(work))
}

/// Number of threads in this process's pool (1 if it cannot be started).
pub fn current_num_threads() -> usize {
    pool().map_or(1, ThreadPool::current_num_threads)
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    #[test]
    fn work_runs_on_the_pool_and_the_pool_is_reused() {
        let sum: u64 = install(|| (1..=1000u64).into_par_iter().sum()).unwrap();
        assert_eq!(sum, 500_500);
        let first = pool().unwrap() as *const ThreadPool;
        assert_eq!(pool().unwrap() as *const ThreadPool, first);
        assert!(current_num_threads() >= 1);
        let inside = install(rayon::current_num_threads).unwrap();
        assert_eq!(inside, current_num_threads());
    }
}
