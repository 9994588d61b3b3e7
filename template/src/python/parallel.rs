//! Bindings for src/parallel.rs. `Model.predict_batch` (src/python/mod.rs)
//! already runs on rayon's pool with the GIL released; this adds what a
//! Python user needs to size that pool against their own threads.

use pyo3::prelude::*;

/// Number of threads `Model.predict_batch` spreads a large batch over.
///
/// The size of rayon's global pool: the number of CPUs, or the
/// `RAYON_NUM_THREADS` environment variable if it was set before the pool
/// started (the first large `predict_batch` call).
#[pyfunction(name = "num_threads")]
fn parallel_threads() -> usize {
    crate::parallel::current_threads()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parallel_threads, m)?)?;
    Ok(())
}
