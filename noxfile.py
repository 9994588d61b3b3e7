"""Nox entry point: the sessions live in nox_tasks/ (``nox -l`` lists them)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from nox_tasks.sessions import *  # noqa: F403  (importing registers the sessions)
