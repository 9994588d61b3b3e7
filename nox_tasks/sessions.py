"""The template's nox sessions. Plain ``nox`` runs lint, tests, generated and feature_matrix."""

from __future__ import annotations

import os

import nox

from nox_tasks.render import BUILD, FEATURES, ROOT

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests", "generated", "feature_matrix"]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
# One Cargo target dir per purpose, kept between runs: the test builds always
# use one interpreter, so pyo3 is compiled once and reused.
TESTS_TARGET = BUILD / "target-tests"
GENERATED_TARGET = BUILD / "target-generated"


def _install(session: nox.Session, group: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the template's own Python code."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The template's pytest suite (``-- -m 'not build'`` for the fast part only)."""
    _install(session, "test")
    env = {"CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(TESTS_TARGET))}
    session.run("pytest", *session.posargs, env=env)


@nox.session
def render(session: nox.Session) -> None:
    """Render a variant: ``nox -s render -- [variant] [dest]`` (default: default)."""
    _install(session, "test")
    session.run("python", "-m", "nox_tasks.render", *session.posargs)


@nox.session
def generated(session: nox.Session) -> None:
    """Render variants and run each one's own ``nox`` (all its sessions).

    ``nox -s generated -- default custom``; default: ``default`` (every
    optional part on) and ``minimal`` (every optional part off).
    """
    _install(session, "test")
    names = session.posargs or ["default", "minimal"]
    for name in names:
        dst = BUILD / "generated" / name
        session.run("python", "-m", "nox_tasks.render", name, str(dst))
        session.chdir(dst)
        # DEBUG_CHECK_REQUIRE and LEAKCHECK_REQUIRE (from the environment, e.g.
        # .ci/run) pass through.
        session.run("nox", env={"CARGO_TARGET_DIR": str(GENERATED_TARGET / name)})
        session.chdir(ROOT)


@nox.session
def feature_matrix(session: nox.Session) -> None:
    """Render each feature alone and run that project's checks and tests.

    ``nox -s feature_matrix -- simd rl_env`` for some; default: every feature.
    (All features and none are covered by ``generated``.)
    """
    _install(session, "test")
    names = session.posargs or FEATURES
    unknown = sorted(set(names) - set(FEATURES))
    if unknown:
        session.error(f"unknown features {unknown}; choose from {FEATURES}")
    target = BUILD / "target-features"  # shared: every render builds the same deps
    for name in names:
        dst = BUILD / "features" / name
        session.run("python", "-m", "nox_tasks.render", f"only:{name}", str(dst))
        session.chdir(dst)
        session.run("nox", "-s", "rust", "build", "tests", "examples", "stubtest", "lint",
                    env={"CARGO_TARGET_DIR": str(target)})  # fmt: skip
        session.chdir(ROOT)


@nox.session
def devloop(session: nox.Session) -> None:
    """Benchmark the edit-build-import loop of a rendered project (pip and uv paths)."""
    _install(session, "test")
    session.run("python", "-m", "nox_tasks.devloop", *session.posargs)
