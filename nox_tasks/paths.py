"""Where the template repository keeps things: the one place for these paths,
used by the nox sessions and by the tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

# Renders of named variants (`python -m nox_tasks.render VARIANT`).
RENDERS = BUILD / "render"
# Cargo target dirs, kept between runs. The template's build tests compile
# every variant into one (always for the same interpreter, so pyo3 is compiled
# once); the rendered projects' own `nox` runs use the others (nox_tasks/sessions.py).
TESTS_TARGET = BUILD / "target-tests"
PROJECTS = BUILD / "projects"
PROJECTS_TARGET = BUILD / "target-projects"
PROJECTS_ENVS = BUILD / "envs-projects"
# pre-commit's hook environments (tests/test_precommit.py), cached between runs.
PRE_COMMIT_HOME = BUILD / "pre-commit-cache"
