//! Argument conversion with error messages that say what was expected and
//! what was passed ("image must be a float32 numpy.ndarray, got a float64 array").

use numpy::ndarray::Dimension;
use numpy::{PyArray, PyArrayMethods, PyReadonlyArray, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// `obj` as a float32 array with dimensionality `D`, or a TypeError that names
/// the argument `arg`.
pub(crate) fn as_f32_array<'py, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
) -> PyResult<Bound<'py, PyArray<f32, D>>> {
    match obj.cast::<PyArray<f32, D>>() {
        Ok(array) => Ok(array.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{arg} must be a {}float32 numpy.ndarray, got {}",
            expected_ndim::<D>(),
            describe(obj)
        ))),
    }
}

/// Borrow `obj` read-only as a float32 array, without copying. Any strides
/// are accepted: the core reads strided views in place.
pub(crate) fn f32_array<'py, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
) -> PyResult<PyReadonlyArray<'py, f32, D>> {
    Ok(as_f32_array::<D>(obj, arg)?.try_readonly()?)
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
