"""Text pre-processing in Rust: normalise, tokenise, build a vocabulary, encode.

``Vocabulary.encode_batch`` normalises, tokenises and looks up a whole batch
of strings on every core with the GIL released, and returns a padded int64
id matrix and the lengths. ``reference`` is the same pipeline in pure Python
(``unicodedata`` and ``str.casefold``): the Rust functions give identical
output, and the benchmark measures them against it.
"""

from . import text_pipeline_reference as reference
from ._core import Vocabulary, normalize, tokenize
from .text_pipeline_reference import PAD_ID, PAD_TOKEN, UNK_ID, UNK_TOKEN

__all__ = [
    "PAD_ID",
    "PAD_TOKEN",
    "UNK_ID",
    "UNK_TOKEN",
    "Vocabulary",
    "normalize",
    "reference",
    "tokenize",
]
