"""The template's nox sessions; ``nox -l`` lists them, ``*`` marks what plain ``nox`` runs.

Each rendered variant and each feature is its own session (``project(all)``,
``feature_matrix(simd)``), so each one fails on its own and can run alone or
on its own CI machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nox

from nox_tasks.paths import CARGO_TARGET, PROJECTS, PROJECTS_ENVS, ROOT
from nox_tasks.render import FEATURES, VARIANTS

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"

# The variants whose own `nox` plain `nox` (and so .ci/run) runs; why: `project`.
PROJECT_VARIANTS = ["default", "all"]
nox.options.sessions = [
    "lint",
    "tests",
    *(f"project({variant})" for variant in PROJECT_VARIANTS),
    "feature_matrix",
]

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
# The sessions the feature matrix runs in each one-feature project: what
# compiles the feature's code alone and tests it. Left out (CI time): the leak
# check, the debugger and the property tests on an optimised build (run for
# `all`); `build` (`tests` builds and imports the module too); `examples` and
# `stubtest` (a feature's example and stub section are the same files in
# `all`); `lint` (the template's fast tests lint every one-feature render).
# Their property tests run hypothesis's quick profile, `all`'s the tests' own one.
# Of the Python tests they run the feature's own, the stub/docstring check and
# the fork test: the core's test files have no template logic and run in
# `default` and `all`.
FEATURE_SESSIONS = ["rust", "tests"]
FEATURE_TESTS = [
    "test_{feature}.py",
    "test_{feature}_properties.py",
    "test_api_docs.py",
    "test_fork.py",
]
# Variants whose project runs fewer sessions than its plain `nox` (CI time):
# the default's core is also in `all`, where the property tests on an optimised
# build and the leak check run over it; minimal's Rust and Python code is the
# default's (only the editor, hook and CI files differ), so there it runs what
# those missing parts could break.
PROJECT_SESSIONS = {
    # `build` is what `tests` does first; the debugger check runs in `default`.
    "all": [
        "rust",
        "tests",
        "properties",
        "examples",
        "stubtest",
        "loadtest",
        "leakcheck",
        "lint",
    ],
    "default": ["rust", "build", "tests", "examples", "stubtest", "debug_check", "lint"],
    "minimal": ["build", "tests", "examples", "lint"],
}


def _install(session: nox.Session, group: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, group))


def _run_project(
    session: nox.Session,
    variant: str,
    *nox_args: str,
    env: dict[str, str] | None = None,
    posargs: Callable[[Path], list[str]] | None = None,
) -> None:
    """Render `variant` into build/projects/ and run that project's own ``nox``.

    Every project shares one Cargo target dir: the dependencies (pyo3, numpy,
    ndarray, ...) are compiled once for all variants and features, and the
    variants have the same interpreter (this one's). Each keeps its session
    virtualenvs outside the render, which is replaced on every run, so they
    are reused between runs. Because of the shared target dir, run these
    sessions one after another on one machine (nox does); to run them in
    parallel, give each machine or job its own checkout. ``posargs`` maps the
    render's path to the arguments after ``--``.
    """
    name = variant.replace(":", "-")
    dst = PROJECTS / name
    session.run("python", "-m", "nox_tasks.render", variant, str(dst))
    if posargs is not None:  # arguments for the project's sessions, from its files
        nox_args = (*nox_args, "--", *posargs(dst))
    # DEBUG_CHECK_REQUIRE and LEAKCHECK_REQUIRE (from the environment, e.g.
    # .ci/run) pass through.
    env = {
        "CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(CARGO_TARGET)),
        **(env or {}),
    }
    with session.chdir(dst):
        session.run("nox", "--envdir", str(PROJECTS_ENVS / name), *nox_args, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the template's own Python code."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The template's pytest suite (``-- -m 'not build'`` for the fast part only).

    Two workers (pytest-xdist): the build tests stay together on one of them
    (tests/conftest.py), and the fast tests run on the other meanwhile.
    """
    _install(session, "test")
    env = {"CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(CARGO_TARGET))}
    session.run("pytest", "-n", "2", "--dist", "loadgroup", *session.posargs, env=env)


@nox.session
def render(session: nox.Session) -> None:
    """Render a variant: ``nox -s render -- [variant] [dest]`` (default: default)."""
    _install(session, "test")
    session.run("python", "-m", "nox_tasks.render", *session.posargs)


@nox.session
@nox.parametrize("variant", list(VARIANTS), ids=list(VARIANTS))
def project(session: nox.Session, variant: str) -> None:
    """Render a variant and run every session its own ``nox`` selects.

    ``nox -s "project(all)"`` for one; arguments after ``--`` go to the
    project's ``nox`` (``-- -s lint``). The variants are in nox_tasks/render.py.

    Plain ``nox`` runs ``default`` (what ``copier copy --defaults`` gives)
    and ``all`` (every optional part on), built and tested as a user's CI
    would. To keep .ci/run under 30 minutes on 2 cores, both run only the
    sessions in PROJECT_SESSIONS, and two variants are left out:
    ``custom`` (other names, license, python_min, abi3 and awkward free text),
    which the build tests (``tests``) compile and test, and ``minimal``, whose
    Rust and Python code is the default's; the fast tests lint, type-check and
    list its sessions, which is what its missing parts could break.
    """
    _install(session, "test")
    default = ["-s", *PROJECT_SESSIONS[variant]] if variant in PROJECT_SESSIONS else []
    # `all` runs its property tests twice, in `tests` on the debug build and in
    # `properties` on the optimised one, both with the tests' own profile (`debug`, 100
    # examples): `properties` would otherwise run five times as many, which
    # a user's `nox` does (CI time).
    env = {"HYPOTHESIS_PROFILE": "debug"} if variant == "all" else None
    _run_project(session, variant, *(session.posargs or default), env=env)


@nox.session
@nox.parametrize("feature", FEATURES, ids=FEATURES)
def feature_matrix(session: nox.Session, feature: str) -> None:
    """Render one feature alone and run that project's checks and the feature's tests.

    ``nox -s "feature_matrix(simd)"`` for one. (Every feature together and
    none are the ``project`` sessions' ``all`` and ``minimal``.)
    """
    if session.posargs:
        # The old form (``-- simd rl_env``) would otherwise run every feature.
        session.error('choose features by session: nox -s "feature_matrix(simd)" ...')
    _install(session, "test")

    def tests(project: Path) -> list[str]:
        """The files of FEATURE_TESTS that the render has (pytest's arguments)."""
        names = (name.format(feature=feature) for name in FEATURE_TESTS)
        return [f"tests/{name}" for name in names if (project / "tests" / name).exists()]

    _run_project(
        session,
        f"only:{feature}",
        "-s",
        *FEATURE_SESSIONS,
        env={"HYPOTHESIS_PROFILE": "quick"},
        posargs=tests,
    )


@nox.session
def generated(session: nox.Session) -> None:
    """Old name of ``project``: warns, then runs the same (kept for one release).

    Scripts and habits that call ``nox -s generated [-- VARIANT ...]`` keep
    working for one release while they move to ``project(VARIANT)``; remove
    it in the release after.

    Without arguments it runs the variants it ran before: every optional part
    on (today's ``all``; the default answers were all-on then) and ``minimal``.
    """
    session.warn('"generated" is now "project": nox -s "project(all)" "project(minimal)"')
    _install(session, "test")
    for variant in session.posargs or ["all", "minimal"]:
        _run_project(session, variant)


@nox.session
def devloop(session: nox.Session) -> None:
    """Benchmark the edit-build-import loop of a rendered project (pip and uv paths)."""
    _install(session, "test")
    session.run("python", "-m", "nox_tasks.devloop", *session.posargs)
