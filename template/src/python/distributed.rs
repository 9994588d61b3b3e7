//! Bindings for `crate::distributed`: the row partitions that the package's
//! `distributed` module hands to Dask, Ray or `multiprocessing`.
//! Pickling, the other half of running on those engines, lives with each
//! class (`__getnewargs__`, `__getstate__`/`__setstate__`).

use pyo3::prelude::*;

use super::args;
use crate::distributed;

/// Split `n_rows` rows into at most `n_parts` contiguous `(start, stop)` ranges, in order.
///
/// Sizes differ by at most one, larger ranges first; with more parts than
/// rows each row is a range of its own, and 0 rows give `[(0, 0)]`.
/// `n_rows` must be at least 0 and `n_parts` between 1 and `MAX_PARTS`
/// (ValueError; TypeError for a non-integer).
#[pyfunction]
fn partition_bounds(
    n_rows: &Bound<'_, PyAny>,
    n_parts: &Bound<'_, PyAny>,
) -> PyResult<Vec<(usize, usize)>> {
    let n_rows = args::count(n_rows, "n_rows", 0)?;
    let n_parts = args::count(n_parts, "n_parts", 1)?;
    let ranges = distributed::partition(n_rows, n_parts)?;
    Ok(ranges.into_iter().map(|r| (r.start, r.end)).collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_PARTS", distributed::MAX_PARTS)?;
    m.add_function(wrap_pyfunction!(partition_bounds, m)?)?;
    Ok(())
}
