"""Type stubs for the compiled extension module (src/python/mod.rs).

Checked against the built module by ``nox -s stubtest``.
"""

import os
from collections.abc import Sequence
from typing import Optional, SupportsFloat, Union

import numpy as np
import numpy.typing as npt

__version__: str

_F32Array = npt.NDArray[np.float32]
_Number = Union[SupportsFloat, int]

def fast_predict(weights: Sequence[_Number], inputs: Sequence[_Number]) -> float:
    """Dot product of two equally long lists (copied into Rust)."""

def fast_predict_array(weights: _F32Array, inputs: _F32Array) -> float:
    """Dot product of two 1-D float32 arrays, read in place."""

def process_image(image: _F32Array, *, out: Optional[_F32Array] = None) -> _F32Array:
    """``2 * image`` as a new array, or written into ``out`` (may be ``image``)."""

class Model:
    """Linear model: ``predict(x) = weights @ x + bias``."""

    def __new__(cls, weights: Sequence[_Number], bias: float = 0.0) -> "Model": ...
    @property
    def weights(self) -> _F32Array: ...
    @property
    def bias(self) -> float: ...
    @property
    def n_features(self) -> int: ...
    def predict(self, inputs: _F32Array) -> float: ...
    def predict_batch(self, inputs: _F32Array) -> _F32Array: ...
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...
    def __getnewargs__(self) -> tuple[list[float], float]: ...

def load_model(path: Union[str, os.PathLike[str]]) -> Model:
    """Load a model written by ``Model.save``."""
