"""Every public function works in a child process forked after the parent
called it: multiprocessing's "fork" start method, PyTorch ``DataLoader``
workers and ``gunicorn --preload`` all start processes that way. Only the
forking thread exists in the child, so a call that waited for a thread the
parent had started would hang.

The calls are the leak check's tables (``tests/leakcheck.py``), which must
cover everything the extension exports, so a new binding is tested here too.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import leakcheck

pytestmark = [
    pytest.mark.skipif(
        "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
    ),
    # Python 3.12+ warns that forking a process with threads may deadlock:
    # exactly the situation this test proves to be handled.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

# A deadlocked child fails the test after this long instead of hanging it.
TIMEOUT_SECONDS = 120


# What a call that cannot run in a forked child raises instead of crashing:
# an error whose message names the fix.
REFUSED = "start worker processes with the 'spawn' method"


def call_everything(tmp: str) -> list[str]:
    """Call every entry of the tables once; the names, in order. A table or call
    refused with REFUSED (servers and tokio runtimes in a child forked after
    the parent started theirs) counts as ``"<table or call> [refused]"``."""
    names = []
    for table in leakcheck.TABLES:
        try:
            calls = table(Path(tmp))
        except Exception as error:
            if REFUSED not in str(error):
                raise
            names.append(f"{table.__name__} [refused]")
            continue
        for name, call in calls:
            try:
                call()
            except Exception as error:
                if REFUSED not in str(error):
                    raise
                name = f"{name} [refused]"
            names.append(name)
    return names


def test_every_call_works_in_a_forked_child(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    called = call_everything(str(parent))  # the parent uses everything first
    assert not [name for name in called if name.endswith(" [refused]")]
    child = tmp_path / "child"
    child.mkdir()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        in_child = pool.apply_async(call_everything, (str(child),)).get(TIMEOUT_SECONDS)
    # Each call ran in the child as in the parent, or was refused with an error
    # that says what to do (then a refused table's calls are not listed).
    ran = [name for name in in_child if not name.endswith(" [refused]")]
    assert ran == [name for name in called if name in set(ran)]
    refused_calls = {name.removesuffix(" [refused]") for name in in_child} - set(ran)
    assert refused_calls <= set(called) | {table.__name__ for table in leakcheck.TABLES}
