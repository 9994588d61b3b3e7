//! One function per row of the Python <-> Rust type table. For scalars,
//! tuples, dicts and strings the conversion is the argument or return type
//! itself, done by PyO3 before and after the function body runs; wrong types
//! raise PyO3's TypeError, which names the argument (`argument 'value': ...`).
//! Arrays go through the checking layer every binding uses (`args.rs`), and
//! lists are read item by item (see `list_roundtrip` for why). Each doc
//! comment (also the Python docstring) states the Python type, the Rust type
//! and whether the data is copied.

use std::collections::HashMap;

use numpy::ndarray::IxDyn;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use super::args;
use super::detach_if_large;
use crate::conversions as core;

/// `list[float]` -> `Vec<f64>` -> `list[float]`.
///
/// Copies both ways: every element is read into a Rust vector, and a new
/// list of new float objects is built from it. Any sequence of numbers is
/// accepted (a tuple, a NumPy array), but not `str`.
#[pyfunction]
fn list_roundtrip(values: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    // Not `values: Vec<f64>`: PyO3 would size the vector from `len()`, and
    // a sequence that claims 2**60 items would abort the interpreter.
    args::items(values, "values", "numbers", |value, i| {
        value.extract::<f64>().map_err(|_| {
            let got = args::type_name(value);
            pyo3::exceptions::PyTypeError::new_err(format!(
                "values[{i}] must be a number, got {got}"
            ))
        })
    })
}

/// `tuple[int, float, str]` -> `(i64, f64, String)` -> `tuple[int, float, str]`.
///
/// Copies: each item is converted on its own (the int must fit in 64 bits,
/// the str is encoded to UTF-8). Only a tuple of exactly three items is
/// accepted; a list is not a tuple.
#[pyfunction]
fn tuple_roundtrip(value: (i64, f64, String)) -> (i64, f64, String) {
    value
}

/// `dict[str, int]` -> `HashMap<String, i64>` -> `dict[str, int]`.
///
/// Copies every key and value. The result is equal to the input but its key
/// order is the hash map's (arbitrary), not the insertion order.
#[pyfunction]
fn dict_roundtrip(mapping: HashMap<String, i64>) -> HashMap<String, i64> {
    mapping
}

/// `float | None` -> `Option<f64>` -> `float | None`.
///
/// Copies the number (there is nothing else to copy). `None` becomes `None`
/// in Rust and back; the parameter has no default, so it must be passed.
#[pyfunction]
fn optional_roundtrip(value: Option<f64>) -> Option<f64> {
    value
}

/// `str` -> `String` -> `str`.
///
/// Copies: Python's text is encoded to a new UTF-8 `String`, and decoded
/// into a new `str` on return. Lone surrogates (`"\ud800"`) cannot be UTF-8
/// and raise UnicodeEncodeError.
#[pyfunction]
fn str_roundtrip(text: String) -> String {
    text
}

/// `str` -> `PyBackedStr` (derefs to `&str`) -> `(characters, UTF-8 bytes)`.
///
/// Returns Python's `len(text)` and Rust's `len()` of its UTF-8. No copy on
/// non-abi3 builds and from Python 3.10: Rust borrows the UTF-8 that the
/// `str` object caches. (abi3 builds for older Pythons borrow a temporary
/// UTF-8 `bytes` copy instead.)
#[pyfunction]
fn str_lengths(text: PyBackedStr) -> (usize, usize) {
    core::str_lengths(&text)
}

/// `bytes` -> `&[u8]` -> `Vec<u8>` -> `bytes`.
///
/// The argument is borrowed, not copied: `&[u8]` points into the `bytes`
/// object. `to_vec` then copies it into a Rust vector, and returning a
/// `Vec<u8>` copies again into a new `bytes` (not a list of ints). Only
/// `bytes` is accepted: a `bytearray` can change size under a borrow.
#[pyfunction]
fn bytes_roundtrip(data: &[u8]) -> Vec<u8> {
    data.to_vec()
}

/// Any object -> `Py<PyAny>` -> the same object.
///
/// No copy and no conversion: Rust holds a new reference to the very same
/// object (the result `is` the argument). `Py<PyAny>` can be stored in Rust
/// structs and outlive the call; `Bound<'py, PyAny>` is the form tied to the
/// interpreter token for calling methods.
#[pyfunction]
fn object_passthrough(obj: Py<PyAny>) -> Py<PyAny> {
    obj
}

/// `numpy.ndarray` (float64, any shape, any strides) -> `ArrayViewD<f64>` -> `float`: the sum.
///
/// No copy: Rust reads the array's memory in place, following its strides,
/// so `x.T`, `x[::2]` and `x[::-1]` cost nothing extra. Other dtypes and
/// lists are converted to float64 first (a copy). The GIL is released while
/// summing large arrays. The sum of an empty array is 0.0.
#[pyfunction]
fn array_view_sum(py: Python<'_>, array: &Bound<'_, PyAny>) -> PyResult<f64> {
    let array = args::input::<f64, IxDyn>(array, "array")?;
    let view = array.view();
    Ok(detach_if_large(py, view.len(), || core::view_sum(view)))
}

/// Writeable float64 `numpy.ndarray` -> `ArrayViewMutD<f64>`: `array *= factor` in place.
///
/// No copy: the caller's array (or the array a view belongs to) changes, so
/// it must be a writeable, aligned float64 array (any shape and strides)
/// whose elements do not share memory: another dtype is a TypeError; a
/// read-only array or a broadcast view is a ValueError; an array another
/// thread is writing is a BufferError.
#[pyfunction]
fn array_view_scale(py: Python<'_>, array: &Bound<'_, PyAny>, factor: f64) -> PyResult<()> {
    let array = args::output::<f64, IxDyn>(array, "array", None)?;
    let mut target = args::borrow_mut(&array, "array")?;
    let view = target.view_mut();
    detach_if_large(py, view.len(), || core::view_scale(view, factor));
    Ok(())
}

/// `int` -> `Array1<f64>` built in Rust -> `numpy.ndarray` `[0.0, ..., n - 1]`.
///
/// No copy: `into_pyarray` hands the Rust allocation to NumPy, which frees
/// it through Rust when the array is collected (the array's `base` is the
/// Rust owner, so `flags.owndata` is False). A negative `n` raises
/// OverflowError; one too large to allocate raises MemoryError or ValueError.
#[pyfunction]
fn vec_into_array(py: Python<'_>, n: usize) -> PyResult<Bound<'_, PyArray1<f64>>> {
    let values = detach_if_large(py, n, || core::arange(n))?;
    Ok(values.into_pyarray(py))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(tuple_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(dict_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(optional_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(str_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(str_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(bytes_roundtrip, m)?)?;
    m.add_function(wrap_pyfunction!(object_passthrough, m)?)?;
    m.add_function(wrap_pyfunction!(array_view_sum, m)?)?;
    m.add_function(wrap_pyfunction!(array_view_scale, m)?)?;
    m.add_function(wrap_pyfunction!(vec_into_array, m)?)?;
    Ok(())
}
