//! Bindings for `crate::simd`: the SIMD dot product and multiply on 1-D
//! float32 arrays.
//!
//! The vector kernels need contiguous memory: contiguous float32 arrays are
//! read in place at any start address (the kernels use unaligned loads);
//! strided views (`x[::2]`, `x[::-1]`, a column of a matrix), other dtypes
//! and lists are copied first, as NumPy itself would.

use numpy::PyArray1;
use numpy::ndarray::Ix1;
use pyo3::prelude::*;

use super::args::{self, Alias, Input};
use super::detach_if_large;
use crate::simd::{self, Backend};

/// `None` means the best backend of this CPU; a name must be one it can run
/// (the core checks that and raises ValueError otherwise).
fn backend(name: Option<String>) -> PyResult<Backend> {
    Ok(match name {
        None => Backend::detect(),
        Some(name) => name.parse()?,
    })
}

/// Dot product `sum(a * b)` of two equally long 1-D float32 arrays, with explicit SIMD.
///
/// The empty dot product is 0.0. `backend` forces one of `backends()`
/// (ValueError for another name). Non-contiguous views, other dtypes and
/// lists are copied first.
#[pyfunction(name = "dot")]
#[pyo3(signature = (a, b, *, backend = None))]
fn simd_dot(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    backend: Option<String>,
) -> PyResult<f32> {
    let backend = self::backend(backend)?;
    let a = args::input::<f32, Ix1>(a, "a")?;
    let b = args::input::<f32, Ix1>(b, "b")?;
    let (a, b) = (a.contiguous("a")?, b.contiguous("b")?);
    let (a, b) = (&a[..], &b[..]);
    Ok(detach_if_large(py, a.len(), || {
        simd::dot_with(backend, a, b)
    })?)
}

/// Element-wise `a * b` of two equally long 1-D float32 arrays, as a new array or into `out`.
///
/// `out` must be a writeable, aligned 1-D float32 array of the same length
/// (TypeError for another dtype, ValueError otherwise), which is returned;
/// it may be `a` or `b` itself (in place), but no other view of their
/// memory. Non-contiguous views, other dtypes and lists are copied first.
/// `backend` forces one of `backends()`.
#[pyfunction(name = "multiply")]
#[pyo3(signature = (a, b, *, out = None, backend = None))]
fn simd_multiply<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
    backend: Option<String>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let backend = self::backend(backend)?;
    let a = args::input::<f32, Ix1>(a, "a")?;
    let b = args::input::<f32, Ix1>(b, "b")?;
    let len = a.view().len();
    let out = match out {
        Some(out) => args::output::<f32, Ix1>(out, "out", Some(&[len]))?,
        None => args::zeros::<f32, Ix1>(py, &[len])?,
    };
    let in_place_a = args::aliasing(&out, "out", &a, "a")? == Alias::Same;
    let in_place_b = args::aliasing(&out, "out", &b, "b")? == Alias::Same;
    match (in_place_a, in_place_b) {
        (false, false) => {
            let (a, b) = (a.contiguous("a")?, b.contiguous("b")?);
            write(py, &out, |target| {
                simd::multiply_into(backend, &a, &b, target)
            })?;
        }
        // `out` is one input: multiply it in place by the other one (its
        // read-only borrow is released first, `out` is borrowed instead).
        (true, false) => {
            drop(a);
            multiply_in_place(py, &out, &b, "b", backend)?;
        }
        (false, true) => {
            drop(b);
            multiply_in_place(py, &out, &a, "a", backend)?;
        }
        // `multiply(x, x, out=x)`: square against a copy of x.
        (true, true) => {
            let copy = Input::Owned(a.view().to_owned());
            drop((a, b));
            multiply_in_place(py, &out, &copy, "a", backend)?;
        }
    }
    Ok(out)
}

fn multiply_in_place<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyArray1<f32>>,
    other: &Input<'_, f32, Ix1>,
    arg: &str,
    backend: Backend,
) -> PyResult<()> {
    let other = other.contiguous(arg)?;
    write(py, out, |acc| simd::multiply_assign(backend, acc, &other))
}

/// Run `work` on `out`'s elements as one contiguous slice, copying through a
/// temporary when `out` is a strided view.
fn write<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyArray1<f32>>,
    work: impl FnOnce(&mut [f32]) -> crate::Result<()> + Send,
) -> PyResult<()> {
    let mut target = args::borrow_mut(out, "out")?;
    let mut view = target.view_mut();
    let len = view.len();
    if let Some(slice) = view.as_slice_mut() {
        return Ok(detach_if_large(py, len, || work(slice))?);
    }
    let mut buffer = crate::alloc::try_vec(len, 0.0f32, "elements of a copy of out")?;
    buffer
        .iter_mut()
        .zip(view.iter())
        .for_each(|(b, &x)| *b = x);
    detach_if_large(py, len, || work(&mut buffer))?;
    view.iter_mut().zip(&buffer).for_each(|(x, &b)| *x = b);
    Ok(())
}

/// The backend `dot` and `multiply` use by default: the best one this CPU supports.
///
/// One of "avx2+fma", "neon" or "scalar".
#[pyfunction(name = "backend")]
fn simd_backend() -> &'static str {
    Backend::detect().name()
}

/// Every backend this CPU can run, best first; always ends with "scalar".
#[pyfunction(name = "backends")]
fn simd_backends() -> Vec<&'static str> {
    Backend::available()
        .into_iter()
        .map(Backend::name)
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(simd_dot, m)?)?;
    m.add_function(wrap_pyfunction!(simd_multiply, m)?)?;
    m.add_function(wrap_pyfunction!(simd_backend, m)?)?;
    m.add_function(wrap_pyfunction!(simd_backends, m)?)?;
    Ok(())
}
