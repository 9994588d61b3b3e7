"""Nox entry point: the sessions live in nox_tasks/ (``nox -l`` lists them)."""

import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from nox_tasks.sessions import *  # noqa: F403  (importing registers the sessions)

# Here, not in nox_tasks/: nox reads it from this file's text before running it.
nox.needs_version = ">=2025.2.9"
