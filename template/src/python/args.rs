//! The one place where array arguments from Python are checked and converted.
//!
//! Every binding takes its array arguments through [`input`] (read) or
//! [`output`] (written), so every function answers bad input the same way,
//! with an exception that names the argument:
//!
//! - `TypeError`: not an array of something numeric (`str`, complex, object
//!   arrays), or an output of another dtype (a converted copy would receive
//!   the result and be thrown away);
//! - `ValueError`: wrong number of dimensions or shape, values that do not
//!   fit the element type, an output that is read-only, misaligned, whose
//!   elements overlap each other (a broadcast or `as_strided` view), or that
//!   overlaps an input without being that very input;
//! - `BufferError`: an array that a call in another thread (one that released
//!   the GIL) is still using.
//!
//! Inputs are accepted wherever NumPy would accept them: an array of the
//! exact dtype is read in place with any strides (negative, zero,
//! non-contiguous); lists, scalars and arrays of other real dtypes are
//! converted into a new array (a copy), as are misaligned views.

use std::borrow::Cow;
use std::time::Duration;

use numpy::ndarray::{Array, ArrayView, ArrayViewMut, Dimension, IxDyn};
use numpy::{
    Element, PyArray, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray, PyReadwriteArray,
    PyUntypedArray, PyUntypedArrayMethods, dtype, npyffi,
};
use pyo3::exceptions::{PyBufferError, PyFloatingPointError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyByteArray, PyBytes, PyDict, PyString};

use crate::alloc;

/// An element type that arguments can be converted to.
pub(crate) trait Scalar: Element + Copy {
    /// The type NumPy converts to first (`astype(Wide, casting=CASTING)`).
    type Wide: Element + Copy + std::fmt::Debug;
    /// NumPy's casting rule for that conversion.
    const CASTING: &'static str;
    /// `Self` and `Wide` are the same type: no narrowing step.
    const IS_WIDE: bool;
    /// NumPy dtype kinds that convert (`b`ool, `i`nt, `u`nsigned, `f`loat).
    const KINDS: &'static [u8];
    /// NumPy's name for the dtype, for messages.
    const NAME: &'static str;
    /// The value, if it fits in `Self` (NaN and infinities always fit).
    fn narrow(wide: Self::Wide) -> Option<Self>;
    /// Whether a value converted from a 64-bit unsigned integer wrapped around.
    fn wrapped(_value: Self) -> bool {
        false
    }
}

impl Scalar for f32 {
    type Wide = f64;
    // float128 -> float64 is lossy, like float64 -> float32, which NumPy does
    // whenever float32 is asked for; int -> float is "safe".
    const CASTING: &'static str = "same_kind";
    const IS_WIDE: bool = false;
    const KINDS: &'static [u8] = b"biuf";
    const NAME: &'static str = "float32";
    fn narrow(wide: f64) -> Option<f32> {
        let x = wide as f32;
        (x.is_finite() || !wide.is_finite()).then_some(x)
    }
}

impl Scalar for f64 {
    type Wide = f64;
    const CASTING: &'static str = "same_kind";
    const IS_WIDE: bool = true;
    const KINDS: &'static [u8] = b"biuf";
    const NAME: &'static str = "float64";
    fn narrow(wide: f64) -> Option<f64> {
        Some(wide)
    }
}

impl Scalar for i64 {
    type Wide = i64;
    // "safe" would refuse every uint64 array; "same_kind" wraps values above
    // 2**63 - 1 into negatives, which `wrapped` finds.
    const CASTING: &'static str = "same_kind";
    const IS_WIDE: bool = true;
    const KINDS: &'static [u8] = b"biu";
    const NAME: &'static str = "int64";
    fn narrow(wide: i64) -> Option<i64> {
        Some(wide)
    }
    fn wrapped(value: i64) -> bool {
        value < 0
    }
}

/// A read-only array argument: the caller's array borrowed in place, or a
/// converted copy.
pub(crate) enum Input<'py, T: Scalar, D: Dimension> {
    Borrowed(PyReadonlyArray<'py, T, D>),
    Owned(Array<T, D>),
}

impl<T: Scalar, D: Dimension> Input<'_, T, D> {
    pub(crate) fn view(&self) -> ArrayView<'_, T, D> {
        match self {
            Self::Borrowed(array) => array.as_array(),
            Self::Owned(array) => array.view(),
        }
    }

    /// The Python array behind a borrowed input (`None` for a copy, which
    /// nothing else can alias).
    fn array(&self) -> Option<&Bound<'_, PyUntypedArray>> {
        match self {
            Self::Borrowed(array) => Some(array.as_untyped()),
            Self::Owned(_) => None,
        }
    }

    /// The elements in one contiguous slice: borrowed when the layout
    /// already is, else copied in logical order.
    #[allow(dead_code, reason = "not every selection of features uses it")]
    pub(crate) fn contiguous(&self, arg: &str) -> PyResult<Cow<'_, [T]>> {
        match self.view().to_slice() {
            Some(slice) => Ok(Cow::Borrowed(slice)),
            None => Ok(Cow::Owned(self.to_vec(arg)?)),
        }
    }

    /// A copy of the elements in logical order (MemoryError, not an abort,
    /// if a broadcast view has more elements than memory can hold).
    pub(crate) fn to_vec(&self, arg: &str) -> PyResult<Vec<T>> {
        let view = self.view();
        let mut copy =
            alloc::try_with_capacity(view.len(), &format!("elements of a copy of {arg}"))?;
        copy.extend(view.iter().copied());
        Ok(copy)
    }
}

/// `obj` as a read-only array of `T` with dimensionality `D`: see the module
/// documentation for what is accepted and what is copied.
pub(crate) fn input<'py, T: Scalar, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
) -> PyResult<Input<'py, T, D>> {
    if let Ok(array) = obj.cast::<PyArray<T, D>>() {
        let array = if addressable(array.as_untyped()) {
            array.clone()
        } else {
            // Misaligned or byte-strided: Rust cannot address the elements
            // in place, so read an aligned copy.
            array.call_method0("copy")?.cast_into::<PyArray<T, D>>()?
        };
        return Ok(Input::Borrowed(borrow(&array, arg)?));
    }
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
    {
        return Err(wrong_kind::<T, D>(obj, arg));
    }
    let py = obj.py();
    let numpy = py.import("numpy")?;
    let array = numpy
        .call_method1("asarray", (obj,))
        .map_err(|err| PyValueError::new_err(format!("{arg} is not an array of numbers: {err}")))?;
    let untyped = array.cast::<PyUntypedArray>()?;
    if !T::KINDS.contains(&untyped.dtype().kind()) {
        return Err(wrong_kind::<T, D>(obj, arg));
    }
    check_ndim::<D>(untyped, arg)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("casting", T::CASTING)?;
    kwargs.set_item("copy", false)?;
    // Overflow (a float128 beyond float64's range) is an error, whatever
    // NumPy's warning settings are: not an inf, not a warning.
    let errstate =
        numpy.call_method("errstate", (), Some(&[("over", "raise")].into_py_dict(py)?))?;
    errstate.call_method0("__enter__")?;
    let converted = array.call_method("astype", (dtype::<T::Wide>(py),), Some(&kwargs));
    errstate.call_method1("__exit__", (py.None(), py.None(), py.None()))?;
    let wide = converted.map_err(|err| {
        if err.is_instance_of::<PyFloatingPointError>(py) {
            PyValueError::new_err(format!("{arg} holds values that do not fit in {}", T::NAME))
        } else {
            PyTypeError::new_err(format!(
                "{arg} must hold values that convert to {} without loss, got {}",
                T::NAME,
                describe(obj)
            ))
        }
    })?;
    let wide = if addressable(wide.cast::<PyUntypedArray>()?) {
        wide
    } else {
        wide.call_method0("copy")?
    };
    if T::IS_WIDE {
        let array = borrow(&wide.cast_into::<PyArray<T, D>>()?, arg)?;
        let from_u64 = untyped.dtype().kind() == b'u' && untyped.dtype().itemsize() == 8;
        if from_u64 && array.as_array().iter().any(|&v| T::wrapped(v)) {
            return Err(PyValueError::new_err(format!(
                "{arg} holds values that do not fit in {}",
                T::NAME
            )));
        }
        return Ok(Input::Borrowed(array));
    }
    let wide = wide.cast_into::<PyArray<T::Wide, D>>()?;
    let wide = borrow(&wide, arg)?;
    let view = wide.as_array();
    let mut values = alloc::try_with_capacity(view.len(), &format!("elements of a copy of {arg}"))?;
    for &w in view.iter() {
        values.push(T::narrow(w).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{arg} holds {w:?}, which does not fit in a {}",
                T::NAME
            ))
        })?);
    }
    let shape = view.raw_dim();
    Ok(Input::Owned(
        Array::from_shape_vec(shape, values).expect("one value per element, in logical order"),
    ))
}

/// `obj` as an array the function writes its result into: exactly dtype `T`,
/// shape `shape`, writeable, addressable, and no element shared by two
/// indices. Aliasing with the inputs is checked by [`aliasing`].
pub(crate) fn output<'py, T: Scalar, D: Dimension>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
    shape: Option<&[usize]>,
) -> PyResult<Bound<'py, PyArray<T, D>>> {
    let Ok(array) = obj.cast::<PyArray<T, IxDyn>>() else {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a {} numpy.ndarray (it receives the result, so it is never \
             converted), got {}",
            T::NAME,
            describe(obj)
        )));
    };
    let untyped = array.as_untyped();
    check_ndim::<D>(untyped, arg)?;
    if let Some(shape) = shape.filter(|&shape| shape != untyped.shape()) {
        return Err(PyValueError::new_err(format!(
            "{arg} must have shape {shape:?}, got {:?}",
            untyped.shape()
        )));
    }
    // An empty output is never written (see `Writer`), wherever it points.
    if !untyped.is_empty() && !addressable(untyped) {
        return Err(PyValueError::new_err(format!(
            "{arg} is a misaligned or byte-strided view; pass an aligned array"
        )));
    }
    if !is_writeable(untyped) {
        return Err(PyValueError::new_err(format!("{arg} is read-only")));
    }
    if overlaps_itself(untyped.shape(), untyped.strides()) {
        return Err(PyValueError::new_err(format!(
            "{arg} has elements that share memory (a broadcast or as_strided view); \
             pass an array with one memory location per element"
        )));
    }
    Ok(obj.cast::<PyArray<T, D>>()?.clone())
}

/// How an output relates to an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alias {
    /// No memory in common.
    Disjoint,
    /// The same elements in the same layout: the output is the input, so the
    /// work can be done in place.
    Same,
}

/// Whether `out` may be written while `input` is read: disjoint, or the very
/// same elements (in place); any other overlap is a ValueError, because
/// writing one element would change another that is still to be read.
pub(crate) fn aliasing<T: Scalar, D: Dimension, E: Dimension>(
    out: &Bound<'_, PyArray<T, E>>,
    out_arg: &str,
    input: &Input<'_, T, D>,
    input_arg: &str,
) -> PyResult<Alias> {
    let (out, Some(input)) = (out.as_untyped(), input.array()) else {
        return Ok(Alias::Disjoint);
    };
    let same = data_ptr(out) == data_ptr(input)
        && out.shape() == input.shape()
        && out.strides() == input.strides();
    if same {
        return Ok(Alias::Same);
    }
    match (byte_range(out), byte_range(input)) {
        (Some(a), Some(b)) if a.0 < b.1 && b.0 < a.1 => Err(PyValueError::new_err(format!(
            "{out_arg} must not overlap {input_arg} (pass {out_arg}={input_arg} itself to work \
             in place)"
        ))),
        _ => Ok(Alias::Disjoint),
    }
}

/// An integer argument that counts something, at least `min`: TypeError for
/// anything but an int (a NumPy integer is one; 3.0 is not), ValueError
/// below `min` or beyond what this machine can count (a Python int has no
/// upper bound).
#[allow(dead_code, reason = "not every selection of features uses it")]
pub(crate) fn count(obj: &Bound<'_, PyAny>, arg: &str, min: usize) -> PyResult<usize> {
    let value = obj.extract::<i64>().map_err(|err| {
        if err.is_instance_of::<pyo3::exceptions::PyOverflowError>(obj.py()) {
            PyValueError::new_err(format!("{arg} is too large or too small: {obj}"))
        } else {
            PyTypeError::new_err(format!("{arg} must be an int, got {}", type_name(obj)))
        }
    })?;
    match usize::try_from(value) {
        Ok(n) if n >= min => Ok(n),
        _ => Err(PyValueError::new_err(format!(
            "{arg} must be at least {min}, got {value}"
        ))),
    }
}

/// A length of time in seconds: an int or a float (a NumPy scalar is one),
/// TypeError for anything else; ValueError naming `arg` for NaN, a negative
/// value, or more than this machine can count (infinity, a huge int).
#[allow(dead_code, reason = "not every selection of features uses it")]
pub(crate) fn seconds(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Duration> {
    duration(obj, arg, 1.0, "seconds")
}

/// A length of time in milliseconds, checked as [`seconds`] is.
#[allow(dead_code, reason = "not every selection of features uses it")]
pub(crate) fn milliseconds(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Duration> {
    duration(obj, arg, 1e3, "milliseconds")
}

/// `obj` units of time, `per_second` units to a second.
fn duration(obj: &Bound<'_, PyAny>, arg: &str, per_second: f64, unit: &str) -> PyResult<Duration> {
    let py = obj.py();
    let value = obj.extract::<f64>().map_err(|err| {
        if err.is_instance_of::<pyo3::exceptions::PyOverflowError>(py) {
            PyValueError::new_err(format!("{arg} is too large: {obj} {unit}"))
        } else if err.is_instance_of::<PyTypeError>(py) {
            PyTypeError::new_err(format!(
                "{arg} must be a number of {unit}, got {}",
                type_name(obj)
            ))
        } else {
            err
        }
    })?;
    if value.is_nan() || value < 0.0 {
        return Err(PyValueError::new_err(format!(
            "{arg} must be a number of {unit} >= 0, got {obj}"
        )));
    }
    Duration::try_from_secs_f64(value / per_second)
        .map_err(|_| PyValueError::new_err(format!("{arg} is too large: {obj} {unit}")))
}

/// Every item of an iterable, converted by `item` (given the item and its
/// index, for messages such as "texts[2] must be str, got int"). `str` and
/// `bytes` are refused although they are iterable: they are never meant as a
/// sequence of `what`. The vector grows as items arrive, fallibly, and is
/// never sized from `len()`, which a custom class can report as anything.
#[allow(dead_code, reason = "not every selection of features uses it")]
pub(crate) fn items<'py, T>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
    what: &str,
    mut item: impl FnMut(&Bound<'py, PyAny>, usize) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let refuse = || {
        PyTypeError::new_err(format!(
            "{arg} must be a sequence of {what}, got {}",
            type_name(obj)
        ))
    };
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
    {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a sequence of {what}, got a single {}",
            type_name(obj)
        )));
    }
    let mut values = Vec::new();
    for (i, value) in obj.try_iter().map_err(|_| refuse())?.enumerate() {
        if values.len() == values.capacity() {
            values
                .try_reserve(values.len().max(8))
                .map_err(|_| crate::Error::OutOfMemory {
                    what: format!("items of {arg}"),
                    len: values.len().saturating_mul(2),
                })?;
        }
        values.push(item(&value?, i)?);
    }
    Ok(values)
}

/// An output borrowed for writing (see [`borrow_mut`]).
pub(crate) struct Writer<'py, T: Element, D: Dimension> {
    array: PyReadwriteArray<'py, T, D>,
    /// Stands in for an output with no elements: NumPy gives those strides
    /// that ndarray's mutable views refuse, and there is nothing to write.
    empty: Option<Array<T, D>>,
}

impl<T: Element, D: Dimension> Writer<'_, T, D> {
    /// The output's elements, to write the result into.
    pub(crate) fn view_mut(&mut self) -> ArrayViewMut<'_, T, D> {
        match &mut self.empty {
            Some(empty) => empty.view_mut(),
            None => self.array.as_array_mut(),
        }
    }
}

/// Borrow an output for writing. Every argument of this call has been
/// checked not to overlap it, so a conflict is another thread's borrow.
pub(crate) fn borrow_mut<'py, T: Scalar, D: Dimension>(
    array: &Bound<'py, PyArray<T, D>>,
    arg: &str,
) -> PyResult<Writer<'py, T, D>> {
    let writer = array.try_readwrite().map_err(|_| in_use(arg))?;
    let empty = if writer.is_empty() {
        let shape = D::from_dimension(&IxDyn(writer.shape()))
            .expect("the output's dimensionality was checked");
        Some(Array::from_shape_vec(shape, Vec::new()).expect("no elements"))
    } else {
        None
    };
    Ok(Writer {
        array: writer,
        empty,
    })
}

fn borrow<'py, T: Element, D: Dimension>(
    array: &Bound<'py, PyArray<T, D>>,
    arg: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    array.try_readonly().map_err(|_| in_use(arg))
}

fn in_use(arg: &str) -> PyErr {
    PyBufferError::new_err(format!(
        "{arg} is in use by another thread (a call that is still writing to it); \
         wait for that call to finish or pass another array"
    ))
}

/// A new zero-filled array: MemoryError, not an abort, when the shape is too
/// large (the shape may come from a broadcast view that takes no memory).
pub(crate) fn zeros<'py, T: Element, D: Dimension>(
    py: Python<'py>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyArray<T, D>>> {
    let numpy = py.import("numpy")?;
    let array = numpy.call_method1("zeros", (shape.to_vec(), dtype::<T>(py)))?;
    Ok(array.cast_into::<PyArray<T, D>>()?)
}

fn check_ndim<D: Dimension>(array: &Bound<'_, PyUntypedArray>, arg: &str) -> PyResult<()> {
    match D::NDIM {
        Some(ndim) if ndim != array.ndim() => Err(PyValueError::new_err(format!(
            "{arg} must be {ndim}-D, got a {}-D array",
            array.ndim()
        ))),
        _ => Ok(()),
    }
}

fn wrong_kind<T: Scalar, D: Dimension>(obj: &Bound<'_, PyAny>, arg: &str) -> PyErr {
    let what = if T::KINDS.contains(&b'f') {
        "numbers"
    } else {
        "integers"
    };
    let ndim = D::NDIM.map(|n| format!("{n}-D ")).unwrap_or_default();
    PyTypeError::new_err(format!(
        "{arg} must be a {ndim}{} array or a sequence of {what}, got {}",
        T::NAME,
        describe(obj)
    ))
}

/// Rust reads elements through typed pointers: the data must be aligned and
/// every stride a multiple of the element size (a field of a packed record
/// array is neither).
fn addressable(array: &Bound<'_, PyUntypedArray>) -> bool {
    let size = array.dtype().itemsize() as isize;
    let align = array.dtype().alignment().max(1);
    // The stride of an axis of length 0 or 1 is never stepped; NumPy leaves
    // anything there.
    let stepped = array
        .shape()
        .iter()
        .zip(array.strides())
        .filter(|&(&len, _)| len > 1);
    data_ptr(array).is_multiple_of(align) && stepped.into_iter().all(|(_, s)| s % size == 0)
}

fn is_writeable(array: &Bound<'_, PyUntypedArray>) -> bool {
    // SAFETY: `fields` points into the live array object.
    unsafe { (*fields(array)).flags & npyffi::NPY_ARRAY_WRITEABLE != 0 }
}

/// The array object's C struct.
fn fields(array: &Bound<'_, PyUntypedArray>) -> *mut npyffi::PyArrayObject_fields {
    // SAFETY: `as_array_ptr` points to the live array object that `array`
    // holds, and the GIL is held (a `Bound` proves it).
    unsafe { npyffi::objects::_PyArray_GET_ITEM_DATA(array.as_array_ptr()) }
}

/// The address of the first element (of the lowest index, not the lowest
/// address: strides may be negative).
fn data_ptr(array: &Bound<'_, PyUntypedArray>) -> usize {
    // SAFETY: as above.
    unsafe { (*fields(array)).data as usize }
}

/// Whether two different indices reach the same element: ndarray's own rule
/// for mutable views (sort the axes by stride; each stride must exceed the
/// span of the axes below it).
fn overlaps_itself(shape: &[usize], strides: &[isize]) -> bool {
    if shape.contains(&0) {
        return false;
    }
    let mut axes: Vec<(usize, usize)> = shape
        .iter()
        .zip(strides)
        .filter(|&(&len, _)| len > 1)
        .map(|(&len, &stride)| (len, stride.unsigned_abs()))
        .collect();
    axes.sort_by_key(|&(_, stride)| stride);
    let mut span = 0usize;
    for (len, stride) in axes {
        if stride <= span {
            return true;
        }
        span = span.saturating_add((len - 1).saturating_mul(stride));
    }
    false
}

/// `[first byte, one past the last byte)` of the elements, if any.
fn byte_range(array: &Bound<'_, PyUntypedArray>) -> Option<(usize, usize)> {
    if array.shape().contains(&0) {
        return None;
    }
    let (mut low, mut high) = (0isize, 0isize);
    for (&len, &stride) in array.shape().iter().zip(array.strides()) {
        let reach = stride * (len as isize - 1);
        if reach < 0 {
            low += reach;
        } else {
            high += reach;
        }
    }
    let start = data_ptr(array) as isize;
    Some((
        (start + low) as usize,
        (start + high) as usize + array.dtype().itemsize(),
    ))
}

/// "a 2-D float64 array", or the type's name for anything else.
pub(crate) fn describe(obj: &Bound<'_, PyAny>) -> String {
    match obj.cast::<PyUntypedArray>() {
        Ok(array) => format!(
            "a {}-D {} array",
            array.ndim(),
            array
                .dtype()
                .str()
                .map_or_else(|_| "?".into(), |s| s.to_string())
        ),
        Err(_) => type_name(obj),
    }
}

/// The type's name of any object, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an unknown object".into(), |name| name.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::overlaps_itself;

    #[test]
    fn self_overlap_follows_the_strides() {
        // (shape, strides in bytes of 4-byte elements, overlaps)
        let cases: &[(&[usize], &[isize], bool)] = &[
            (&[3, 4], &[16, 4], false),   // C order
            (&[3, 4], &[4, 12], false),   // Fortran order
            (&[3, 4], &[-16, -4], false), // reversed
            (&[5], &[0], true),           // broadcast
            (&[1], &[0], false),          // one element
            (&[0, 5], &[0, 0], false),    // empty
            (&[3, 4], &[4, 4], true),     // as_strided sliding window
            (&[2, 3], &[8, 4], true),     // rows overlap by one element
            (&[2, 3], &[12, 8], true),    // interleaved: disjoint, but refused as ndarray does
        ];
        for &(shape, strides, expected) in cases {
            assert_eq!(
                overlaps_itself(shape, strides),
                expected,
                "{shape:?} {strides:?}"
            );
        }
    }

    /// Whether two different indices reach the same byte offset, by trying
    /// every index.
    fn shares_an_element(shape: &[usize], strides: &[isize]) -> bool {
        let mut seen = HashSet::new();
        let mut index = vec![0usize; shape.len()];
        if shape.contains(&0) {
            return false;
        }
        loop {
            let offset: isize = index
                .iter()
                .zip(strides)
                .map(|(&i, &s)| i as isize * s)
                .sum();
            if !seen.insert(offset) {
                return true;
            }
            // The next index in row-major order, or done.
            let mut axis = shape.len();
            loop {
                if axis == 0 {
                    return false;
                }
                axis -= 1;
                index[axis] += 1;
                if index[axis] < shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
    }

    /// The strides of a contiguous array of 4-byte elements, `fortran` or C
    /// order; the stride of a length-1 axis is arbitrary (NumPy sets them so).
    fn contiguous(shape: &[usize], fortran: bool, free: &[isize]) -> Vec<isize> {
        let mut strides = vec![0isize; shape.len()];
        let mut step = 4isize;
        let axes: Vec<usize> = if fortran {
            (0..shape.len()).collect()
        } else {
            (0..shape.len()).rev().collect()
        };
        for axis in axes {
            strides[axis] = if shape[axis] == 1 { free[axis] } else { step };
            step *= shape[axis].max(1) as isize;
        }
        strides
    }

    /// Shapes of 0 to 4 axes of 0 to 4 elements, with one stride per axis:
    /// multiples of the 4-byte element size in -32..=32, zero included.
    fn layout() -> impl Strategy<Value = (Vec<usize>, Vec<isize>)> {
        (0usize..=4).prop_flat_map(|ndim| {
            (
                vec(0usize..=4, ndim),
                vec((-8isize..=8).prop_map(|k| 4 * k), ndim),
            )
        })
    }

    proptest! {
        #[test]
        fn an_overlap_is_always_detected((shape, strides) in layout()) {
            // Conservative, as ndarray's rule is: some disjoint interleaved
            // layouts count as overlapping, but no overlapping one passes.
            if shares_an_element(&shape, &strides) {
                prop_assert!(overlaps_itself(&shape, &strides), "{:?} {:?}", shape, strides);
            }
        }

        #[test]
        fn contiguous_arrays_never_overlap(
            (shape, free) in layout(),
            fortran in any::<bool>(),
        ) {
            let strides = contiguous(&shape, fortran, &free);
            prop_assert!(!shares_an_element(&shape, &strides));
            prop_assert!(!overlaps_itself(&shape, &strides), "{:?} {:?}", shape, strides);
        }
    }
}
