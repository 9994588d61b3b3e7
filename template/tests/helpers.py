"""Shared pieces of the property tests (``pytest -m properties``).

- Strategies for hostile arguments: every dtype NumPy has, empty and
  huge-but-cheap shapes, negative, zero and byte-sized strides, misaligned and
  read-only buffers, NaN and inf, nested lists, scalars and other objects.
- ``outcome(fn, *args)``: the call's value or its ``Exception``; a pyo3
  ``PanicException`` (a ``BaseException``) fails the test at once.
- What the argument layer promises, as a model (``expect_real``): the array a
  valid argument becomes, or the exception an invalid one raises.
- Comparisons with NumPy that know float32 rounding (``assert_sum_close``).
"""

from __future__ import annotations

import math
import re
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from numpy.lib.stride_tricks import as_strided

# --- outcome: the value, an Exception, or a failed test on a panic ------------------

CALLS: Counter[str] = Counter()
PANICS: Counter[str] = Counter()


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """``("ok", value)`` or ``("error", exception)`` for an ``Exception``.

    A ``PanicException`` (Rust panicked: a bug, whatever the input) fails the
    test with its traceback; other ``BaseException``\\ s (KeyboardInterrupt,
    SystemExit) propagate. Calls and panics are counted for the summary that
    ``conftest.py`` prints at the end of the session."""
    name = _name(fn)
    CALLS[name] += 1
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as exc:
        return "error", exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        PANICS[name] += 1
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        pytest.fail(f"PanicException escaped {name}:\n{trace}", pytrace=False)


def message(exc: BaseException) -> str:
    """The exception's message and its notes (PyO3 names a failed argument in a
    note on Python 3.11+)."""
    return "\n".join([str(exc), *getattr(exc, "__notes__", [])])


def names_argument(exc: BaseException, *names: str) -> bool:
    """The message names one of `names`: as its subject ("a must be ...",
    "b has 0 values"), an element ("actions[2] ..."), quoted ('a', `a`) or,
    for names longer than one letter, anywhere as a word."""
    text = message(exc)
    for name in names:
        n = re.escape(name)
        if re.search(rf"(^|\n){n}\b(?!-)", text) or re.search(rf"['`\"]{n}['`\"]", text):
            return True
        if re.search(rf"\b{n}\[", text) or re.search(rf"\b{n} (has|must|is)\b", text):
            return True
        if len(name) > 1 and re.search(rf"(?<![\w.-]){n}(?![\w-])", text):
            return True
    return False


def assert_error(
    result: tuple[str, Any],
    error: type[BaseException] | tuple[type[BaseException], ...],
    *names: str,
) -> None:
    """`result` is an `error` (or a subclass) whose message names one of `names`."""
    kind, value = result
    expected = error.__name__ if isinstance(error, type) else [e.__name__ for e in error]
    assert kind == "error", f"expected {expected} naming {names}, got a result: {value!r}"
    assert isinstance(value, error), (
        f"expected {expected}, got {type(value).__name__}: {message(value)}"
    )
    assert names_argument(value, *names), f"the message does not name {names}: {message(value)!r}"


def assert_ok(result: tuple[str, Any]) -> Any:
    kind, value = result
    if kind == "error":
        pytest.fail(f"expected a result, got {type(value).__name__}: {message(value)}")
    return value


def describe(x: object) -> str:
    """The layout of an argument, for the report of a failing example."""
    if isinstance(x, np.ndarray):
        flags = x.flags
        return (
            f"ndarray dtype={x.dtype.str} shape={x.shape} strides={x.strides} "
            f"offset%{x.dtype.alignment}={x.ctypes.data % max(x.dtype.alignment, 1)} "
            f"aligned={flags.aligned} writeable={flags.writeable} "
            f"c={flags.c_contiguous} f={flags.f_contiguous} owndata={flags.owndata}"
        )
    return f"{type(x).__name__}: {x!r}"[:300]


def show(**arguments: object) -> None:
    """Record each argument's layout in Hypothesis' report of a failure."""
    for name, value in arguments.items():
        note(f"{name} = {describe(value)}")


# --- dtypes, shapes, values -------------------------------------------------------------

REAL_KINDS = "biuf"  # what a float or integer API converts (bool, int, uint, float)
F32_MAX = float(np.finfo(np.float32).max)
F64_MAX = float(np.finfo(np.float64).max)

real_dtypes = st.one_of(
    npst.floating_dtypes(sizes=(16, 32, 64)),
    npst.integer_dtypes(),
    npst.unsigned_integer_dtypes(),
    npst.boolean_dtypes(),
    st.just(np.dtype(np.longdouble)),
)
other_dtypes = st.one_of(
    npst.complex_number_dtypes(),
    npst.unicode_string_dtypes(max_len=4),
    npst.byte_string_dtypes(max_len=4),
    npst.datetime64_dtypes(),
    npst.timedelta64_dtypes(),
    st.just(np.dtype(object)),
)
# Native float32 most often: the dtype that is read in place, in every layout.
any_dtype = st.one_of(
    st.just(np.dtype(np.float32)),
    st.just(np.dtype(np.float64)),
    real_dtypes,
    other_dtypes,
)


def shapes(ndim: int, max_side: int = 12) -> st.SearchStrategy[tuple[int, ...]]:
    """Mostly `ndim`-D shapes (sides from 0), sometimes 0-D to 3-D."""
    right = npst.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=max_side)
    anything = npst.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    return st.one_of(right, right, right, anything)


_OBJECTS = st.one_of(st.floats(), st.integers(), st.none(), st.text(max_size=3), st.builds(object))


@st.composite
def values(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """A C-contiguous, writeable array of `dtype` and `shape`; floats include
    NaN, inf, subnormals and -0.0."""
    if dtype.kind == "O":
        items = draw(st.lists(_OBJECTS, min_size=math.prod(shape), max_size=math.prod(shape)))
        array = np.empty(len(items), dtype)
        array[:] = items
        return array.reshape(shape)
    if dtype == np.longdouble and dtype.itemsize > 8:
        # Hypothesis draws float64 values; a longdouble beyond float64 shows the
        # largest finite float32-ish case well enough: scale some up.
        base = draw(npst.arrays(np.float64, shape))
        scale = np.longdouble(draw(st.sampled_from([1, 2**1000])))
        return np.asarray(base.astype(dtype) * scale)  # (a 0-D product is a scalar)
    return draw(npst.arrays(dtype, shape))


# --- layouts: the same values, read through hostile views ----------------------------


def _negative(x: np.ndarray) -> np.ndarray:
    """Every stride negative (the last element first in memory)."""
    if x.ndim == 0:
        return x
    return np.flip(np.flip(x).copy())


def _strided(x: np.ndarray) -> np.ndarray:
    """Every other element of a buffer twice as long on each axis."""
    if x.ndim == 0:
        return x
    big = np.zeros(tuple(2 * s for s in x.shape), x.dtype)
    view = big[(slice(None, None, 2),) * x.ndim]
    view[...] = x
    return view


def _fortran(x: np.ndarray) -> np.ndarray:
    return np.asfortranarray(x)


def _misaligned(x: np.ndarray) -> np.ndarray:
    """A view one byte into a bytes buffer: no element is aligned."""
    if x.dtype.kind == "O":
        return x
    buffer = np.zeros(x.nbytes + x.dtype.itemsize + 1, np.uint8)
    view = buffer[1 : 1 + x.nbytes].view(x.dtype).reshape(x.shape)
    view[...] = x
    return view


def _byte_strided(x: np.ndarray) -> np.ndarray:
    """A field of a packed record array: its stride is not a multiple of the
    element size (1-D: the record layout flattens the array)."""
    if x.dtype.kind == "O":
        return x
    records = np.zeros(x.shape, np.dtype([("v", x.dtype), ("pad", np.uint8)], align=False))
    records["v"] = x
    return records["v"]


def _read_only(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y.flags.writeable = False
    return y


def _zero_stride_same_shape(x: np.ndarray) -> np.ndarray:
    """The first element repeated (stride 0), in the shape of `x`."""
    if x.size == 0:
        return x
    return np.broadcast_to(x.reshape(-1)[:1].reshape((1,) * x.ndim), x.shape)


LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "contiguous": lambda x: x,
    "negative strides": _negative,
    "every other element": _strided,
    "fortran order": _fortran,
    "misaligned": _misaligned,
    "byte-strided": _byte_strided,
    "read-only": _read_only,
    "zero stride (same shape)": _zero_stride_same_shape,
}


def huge_cheap(x: np.ndarray, n: int = 10**6) -> np.ndarray:
    """One element broadcast to `n` (no memory: stride 0)."""
    first = x.reshape(-1)[:1] if x.size else np.zeros(1, x.dtype)
    return np.broadcast_to(first, (n,))


@st.composite
def arrays(
    draw: st.DrawFn,
    dtypes: st.SearchStrategy[np.dtype] = any_dtype,
    shape: st.SearchStrategy[tuple[int, ...]] | None = None,
    ndim: int = 1,
    layouts: Sequence[str] = tuple(LAYOUTS),
) -> np.ndarray:
    """An ndarray of any dtype, shape and layout."""
    dtype = draw(dtypes)
    x = draw(values(dtype, draw(shape if shape is not None else shapes(ndim))))
    layout = draw(st.sampled_from(layouts))
    return LAYOUTS[layout](x)


def as_python(x: np.ndarray) -> object:
    """`x` as nested lists (or tuples) of Python scalars, or a scalar if 0-D."""
    return x.tolist()


_HOSTILE_OBJECTS = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.builds(object),
    st.sets(st.integers(), max_size=3),
    st.complex_numbers(),
    st.just([[1.0, 2.0], [3.0]]),  # ragged
    st.just([1.0, [2.0]]),  # ragged
    st.just([1.0, None]),
    st.just(["1.0", "2.0"]),
    st.just([2**70, 1]),  # beyond every NumPy integer: an object array
    st.just(range(3)),
    st.builds(lambda: iter([1.0, 2.0])),  # an iterator: NumPy makes it a 0-D object array
)


def hostile(
    ndim: int = 1,
    dtypes: st.SearchStrategy[np.dtype] = any_dtype,
    huge: bool = True,
    max_side: int = 12,
) -> st.SearchStrategy[object]:
    """Anything a user may pass where an `ndim`-D array is expected: arrays of
    every dtype and layout (mostly `ndim`-D), the same values as nested lists
    or tuples, Python and NumPy scalars, a huge-but-cheap broadcast view (1-D),
    and objects that are not arrays at all."""
    array = arrays(dtypes, shapes(ndim, max_side))
    choices = [
        array,
        array,
        array,
        array.map(as_python),
        array.map(lambda x: tuple(x.tolist()) if x.ndim else x.tolist()),
        npst.from_dtype(np.dtype(np.float64)),
        npst.from_dtype(np.dtype(np.float32)).map(np.float32),
        st.integers(),
        _HOSTILE_OBJECTS,
    ]
    if huge and ndim == 1:
        choices.append(arrays(dtypes, st.just((1,))).map(huge_cheap))
    return st.one_of(*choices)


# --- the model of the argument layer (SPEC: "Array INPUTS") ----------------------------


@dataclass
class Expect:
    """What the argument layer must do with one argument: return `value` (the
    converted array), or raise `error` naming `name`. `maybe_error`: a value
    just above float32's range that rounds to its largest value may either be
    accepted or raise ValueError."""

    name: str
    value: np.ndarray | None = None
    error: type[Exception] | None = None
    maybe_error: bool = False


def expect_real(
    x: object, name: str, ndims: Iterable[int], dtype: type[np.generic] = np.float32
) -> Expect:
    """The model of a read-only array argument of a float32 or float64 API:
    what NumPy turns into a bool/int/uint/float array is converted (lists,
    tuples, scalars, other dtypes); complex, str, bytes, object, datetime, a
    str or bytes object: TypeError; ragged lists, a wrong number of
    dimensions, finite values too large for the target dtype: ValueError."""
    if isinstance(x, (str, bytes)):
        return Expect(name, error=TypeError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = np.asarray(x)
    except Exception:
        return Expect(name, error=ValueError)  # ragged
    if a.dtype.kind not in REAL_KINDS:
        return Expect(name, error=TypeError)
    if a.ndim not in tuple(ndims):
        return Expect(name, error=ValueError)
    with np.errstate(all="ignore"):
        converted = a.astype(dtype)
        finite = np.isfinite(a)
        if (finite & ~np.isfinite(converted)).any():
            return Expect(name, error=ValueError)  # finite, too large for `dtype`
        if dtype is np.float32:
            above = finite & (np.abs(a.astype(np.float64)) > F32_MAX)
            return Expect(name, value=converted, maybe_error=bool(above.any()))
    return Expect(name, value=converted)


def check_expected(result: tuple[str, Any], *expects: Expect) -> bool:
    """When one of the arguments is invalid, `result` is the error of one of
    them (any, if several are invalid), and True is returned. False: every
    argument is valid (the caller compares the value)."""
    invalid = [e for e in expects if e.error is not None]
    if invalid:
        kind, value = result
        assert kind == "error", f"expected an error for {[e.name for e in invalid]}, got {value!r}"
        assert any(e.error and isinstance(value, e.error) for e in invalid), (
            f"expected {[e.error.__name__ for e in invalid if e.error]}, "
            f"got {type(value).__name__}: {message(value)}"
        )
        names = [e.name for e in invalid if e.error and isinstance(value, e.error)]
        assert names_argument(value, *names), f"message does not name {names}: {message(value)!r}"
        return True
    grey = [e.name for e in expects if e.maybe_error]
    if grey and result[0] == "error":
        assert_error(result, ValueError, *grey)
        return True
    return False


# --- comparisons with NumPy ------------------------------------------------------------


def assert_sum_close(got: float, terms: np.ndarray, dtype: type[np.floating[Any]]) -> None:
    """`got` is the sum of `terms` (float64, exact values: products of two
    float32s, or float64 values) computed in `dtype` in any order, with or
    without FMA: NaN when NumPy's is NaN, the same infinity, or within
    (n + 1) * eps * sum(|terms|) (plus the subnormal spacing per operation) of
    the exact sum. When the terms can overflow `dtype`, any answer goes."""
    info = np.finfo(dtype)
    terms = np.asarray(terms, np.float64).reshape(-1)
    n = terms.size
    with np.errstate(all="ignore"):
        finite = terms[np.isfinite(terms)]
        magnitude = float(np.abs(finite).sum())
    if not magnitude <= float(info.max) / 4:
        return  # partial sums may overflow in `dtype`: inf, -inf or NaN are all right
    if np.isnan(terms).any() or (np.isposinf(terms).any() and np.isneginf(terms).any()):
        assert math.isnan(got), f"expected NaN, got {got!r}"
        return
    if np.isinf(terms).any():
        expected = float(terms[np.isinf(terms)][0])
        assert got == expected, f"expected {expected}, got {got!r}"
        return
    exact = math.fsum(finite.tolist())
    bound = (n + 1) * (float(info.eps) * magnitude + float(info.smallest_subnormal))
    assert abs(got - exact) <= bound, f"got {got!r}, exact {exact!r}, bound {bound!r}"


def dot_terms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact products of two float32 vectors (exact in float64)."""
    with np.errstate(all="ignore"):
        return a.astype(np.float64) * b.astype(np.float64)


def assert_unchanged(x: np.ndarray, before: np.ndarray) -> None:
    """`x` holds what its copy `before` holds (the same objects, for object
    arrays, whose NaN is not equal to itself)."""
    if x.dtype.kind == "O":
        assert all(p is q for p, q in zip(x.ravel().tolist(), before.ravel().tolist()))
    else:
        np.testing.assert_array_equal(x, before)


def assert_same_floats(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal shape, dtype and values; NaN where NumPy has NaN; the sign of zero
    and of infinities as NumPy's."""
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)
    number = ~np.isnan(expected)
    assert (np.signbit(got[number]) == np.signbit(expected[number])).all()


@st.composite
def pairs(
    draw: st.DrawFn,
    dtypes: st.SearchStrategy[np.dtype] = any_dtype,
    ndim: int = 1,
    max_side: int = 12,
) -> tuple[object, object]:
    """Two hostile arguments, mostly of the same shape (each in its own dtype,
    layout and type), sometimes a huge-but-cheap pair or two unrelated ones."""
    kind = draw(st.sampled_from(["same shape"] * 6 + ["huge", "unrelated"]))
    if kind == "unrelated":
        return draw(hostile(ndim, dtypes, max_side=max_side)), draw(
            hostile(ndim, dtypes, max_side=max_side)
        )
    shape = draw(shapes(ndim, max_side)) if kind == "same shape" else (1,)

    def one() -> object:
        x = draw(arrays(dtypes, st.just(shape)))
        if kind == "huge":
            return huge_cheap(x)
        return draw(st.sampled_from([x, x, x, x.tolist()]))

    return one(), one()


def self_overlapping(x: np.ndarray) -> bool:
    """Two elements of `x` share a byte (a zero stride, or an as_strided view
    with strides shorter than an element)."""
    if x.size <= 1:
        return False
    if any(s == 0 and n > 1 for s, n in zip(x.strides, x.shape)):
        return True
    grid = np.indices(x.shape).reshape(x.ndim, -1)
    starts = np.sort(np.asarray(x.strides) @ grid)
    return bool((np.diff(starts) < x.dtype.itemsize).any())


def same_layout(x: np.ndarray, y: np.ndarray) -> bool:
    return (
        x.ctypes.data == y.ctypes.data
        and x.shape == y.shape
        and x.strides == y.strides
        and x.dtype == y.dtype
    )


def expect_out(
    out: object, shape: tuple[int, ...], inputs: dict[str, object], dtype: type = np.float32
) -> Expect:
    """The model of an output argument (SPEC: "Array OUTPUTS"): an ndarray of
    exactly `dtype` (TypeError), `shape`, aligned, writeable, without
    self-overlap, not overlapping an input unless it is that input
    (ValueError)."""
    if not isinstance(out, np.ndarray) or out.dtype != np.dtype(dtype):
        return Expect("out", error=TypeError)
    if out.shape != shape:
        return Expect("out", error=ValueError)
    if not out.flags.aligned or not out.flags.writeable or self_overlapping(out):
        return Expect("out", error=ValueError)
    for x in inputs.values():
        if isinstance(x, np.ndarray) and np.shares_memory(out, x) and not same_layout(out, x):
            return Expect("out", error=ValueError)
    return Expect("out", value=out)


def writeable_zero_stride(shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    """A writeable view whose elements all share one address."""
    return as_strided(np.zeros(1, dtype), shape=shape, strides=(0,) * len(shape))


def short_strides(shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    """A writeable view whose elements overlap by all but one byte."""
    itemsize = np.dtype(dtype).itemsize
    base = np.zeros(math.prod(shape) + itemsize, np.uint8)
    strides = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))  # in bytes
    return as_strided(base[:itemsize].view(dtype), shape, strides)


# Output arguments: each case has one fault (or none); the model decides.
OUT_LAYOUTS: dict[str, Callable[[tuple[int, ...]], object]] = {
    "new": lambda shape: np.full(shape, np.nan, np.float32),
    "fortran order": lambda shape: np.full(shape, np.nan, np.float32, order="F"),
    "every other element": lambda shape: _strided(np.full(shape, np.nan, np.float32)),
    "negative strides": lambda shape: _negative(np.full(shape, np.nan, np.float32)),
    "float64": lambda shape: np.zeros(shape),
    "big-endian float32": lambda shape: np.zeros(shape, ">f4"),
    "int32": lambda shape: np.zeros(shape, np.int32),
    "list": lambda shape: np.zeros(shape, np.float32).tolist(),
    "one more axis": lambda shape: np.zeros((*shape, 1), np.float32),
    "one element more": lambda shape: np.zeros(math.prod(shape) + 1, np.float32),
    "misaligned": lambda shape: _misaligned(np.zeros(shape, np.float32)),
    "byte-strided": lambda shape: _byte_strided(np.zeros(shape, np.float32)),
    "read-only": lambda shape: _read_only(np.zeros(shape, np.float32)),
    "zero strides, writeable": writeable_zero_stride,
    "one-byte strides, writeable": short_strides,
}
