"""Where the template repository keeps things: the one place for these paths,
used by the nox sessions and by the tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

# Renders of named variants (`python -m nox_tasks.render VARIANT`).
RENDERS = BUILD / "render"
# One Cargo target dir, kept between runs, for the template's build tests and
# the rendered projects' own `nox` runs (nox_tasks/sessions.py): what they have
# in common (tokio, actix-web, ndarray, serde, ... in the same profile and
# features) is compiled once. pyo3 differs between abi3 and version-specific
# builds anyway, so those keep separate artifacts.
CARGO_TARGET = BUILD / "cargo-target"
PROJECTS = BUILD / "projects"
PROJECTS_ENVS = BUILD / "envs-projects"
# pre-commit's hook environments (tests/test_precommit.py), cached between runs.
PRE_COMMIT_HOME = BUILD / "pre-commit-cache"
