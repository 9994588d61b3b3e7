"""``Model.predict_batch`` on every core.

``Model.predict_batch`` splits a large batch into chunks of rows that Rust
threads (rayon's pool) predict at once, with the GIL released, so other Python
threads keep running meanwhile. The result is the same, bit for bit, whatever
the number of threads. This module reports the size of that pool.

Set the ``RAYON_NUM_THREADS`` environment variable before the first
``predict_batch`` call to change it, e.g. to leave cores to a thread pool of
your own.
"""

from ._core import num_threads

__all__ = ["num_threads"]
