"""Rust-accelerated model code with Python bindings (PyO3 + maturin).

Everything here is implemented in Rust (``src/``) and re-exported from the
compiled extension module ``_core``.
"""

from ._core import (
    Model,
    __version__,
    fast_predict,
    fast_predict_array,
    load_model,
    process_image,
)

__all__ = [
    "Model",
    "__version__",
    "fast_predict",
    "fast_predict_array",
    "load_model",
    "process_image",
]
