# Type stubs for the compiled extension module (src/python/mod.rs), written by
# hand and checked against the built module by mypy's stubtest.

import os
from collections.abc import Sequence
from typing import Any, SupportsFloat, final

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, TypeAlias

__all__ = [
    "Model",
    "__version__",
    "fast_predict",
    "fast_predict_array",
    "load_model",
    "process_image",
]

__version__: str

_F32Array: TypeAlias = npt.NDArray[np.float32]
_Path: TypeAlias = str | os.PathLike[str]
# Numbers to copy into Rust: a list (as in the article), a tuple, or an array.
_Numbers: TypeAlias = Sequence[SupportsFloat] | npt.NDArray[np.floating[Any]]

# The article's call: two equally long lists of numbers, copied into Rust.
def fast_predict(weights: _Numbers, inputs: _Numbers) -> float: ...

# The same on two 1-D float32 arrays, read in place.
def fast_predict_array(weights: _F32Array, inputs: _F32Array) -> float: ...

# 2 * image as a new array, or written into `out` (which may be `image`).
def process_image(image: _F32Array, *, out: _F32Array | None = None) -> _F32Array: ...

# Linear model: predict(x) = weights @ x + bias. A PyO3 class: not subclassable.
@final
class Model:
    def __new__(cls, weights: _Numbers, bias: float = 0.0) -> Self: ...
    @property
    def weights(self) -> _F32Array: ...
    @property
    def bias(self) -> float: ...
    @property
    def n_features(self) -> int: ...
    def predict(self, inputs: _F32Array) -> float: ...
    def predict_batch(self, inputs: _F32Array) -> _F32Array: ...
    def save(self, path: _Path) -> None: ...
    def __getnewargs__(self) -> tuple[list[float], float]: ...

# Load a model written by Model.save.
def load_model(path: _Path) -> Model: ...
