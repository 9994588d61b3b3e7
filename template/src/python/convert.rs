//! Argument conversion with error messages that say what was expected and
//! what was passed ("image must be a float32 numpy.ndarray, got a float64 array").

use numpy::ndarray::Dimension;
use numpy::{PyArray, PyArrayMethods, PyReadonlyArray, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

const F32_SIZE: isize = std::mem::size_of::<f32>() as isize;

/// `obj` as a float32 array with dimensionality `D`, or a TypeError that names
/// the argument `arg`. Views that Rust cannot address element by element
/// (misaligned, or strides that are not a multiple of 4 bytes, e.g. a field of
/// a packed structured array) are a ValueError rather than a wrong answer.
pub(crate) fn as_f32_array<'py, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
) -> PyResult<Bound<'py, PyArray<f32, D>>> {
    let array = obj.cast::<PyArray<f32, D>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{arg} must be a {}float32 numpy.ndarray, got {}",
            expected_ndim::<D>(),
            describe(obj)
        ))
    })?;
    let aligned = array.data() as usize % std::mem::align_of::<f32>() == 0;
    if !aligned || array.strides().iter().any(|s| s % F32_SIZE != 0) {
        return Err(PyValueError::new_err(format!(
            "{arg} is a misaligned or byte-strided float32 view; \
             pass {arg}.copy()"
        )));
    }
    Ok(array.clone())
}

/// Borrow `obj` read-only as a float32 array, without copying. Any element
/// strides are accepted: the core reads strided views in place.
pub(crate) fn f32_array<'py, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
) -> PyResult<PyReadonlyArray<'py, f32, D>> {
    Ok(as_f32_array::<D>(obj, arg)?.try_readonly()?)
}

/// A sequence of numbers (a list, as in the article) copied into a `Vec<f32>`.
/// Strings and bytes are sequences too, but never meant as numbers; values that
/// do not fit a float32 (1e39 would become inf) are rejected, not rounded away.
pub(crate) fn f32_vec(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Vec<f32>> {
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
    {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a sequence of numbers, got {}",
            describe(obj)
        )));
    }
    let values: Vec<f64> = obj.extract().map_err(|err: PyErr| {
        PyTypeError::new_err(format!("{arg} must be a sequence of numbers: {err}"))
    })?;
    values
        .into_iter()
        .map(|v| {
            let x = v as f32;
            if x.is_finite() || !v.is_finite() {
                Ok(x)
            } else {
                Err(PyValueError::new_err(format!(
                    "{arg} holds {v}, which does not fit in a float32"
                )))
            }
        })
        .collect()
}

fn expected_ndim<D: Dimension>() -> String {
    D::NDIM.map(|n| format!("{n}-D ")).unwrap_or_default()
}

fn describe(obj: &Bound<'_, PyAny>) -> String {
    match obj.cast::<PyUntypedArray>() {
        Ok(array) => format!(
            "a {}-D {} array",
            array.ndim(),
            array
                .dtype()
                .str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| "?".into())
        ),
        Err(_) => obj
            .get_type()
            .name()
            .map(|name| format!("{name}"))
            .unwrap_or_else(|_| "an unknown object".into()),
    }
}
