"""Sessions for this project. ``nox`` runs them all; ``nox -l`` lists them.

Python sessions build the extension in debug mode with ``maturin develop``
into their own virtualenv. Nox uses its own Cargo target directory
(``target/nox``) so a nox run never invalidates the build that your editor,
``maturin develop`` and ``uv sync`` share in ``target/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
# `nox` alone runs everything but the benchmarks (`nox -s bench`).
nox.options.sessions = [
    "rust", "build", "tests", "properties", "examples", "stubtest", "debug_check",
    "leakcheck", "lint",
]  # fmt: skip

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
MATURIN = next(d for d in PYPROJECT["build-system"]["requires"] if d.startswith("maturin"))
TEST_DEPS = nox.project.dependency_groups(PYPROJECT, "test")
DEV_DEPS = nox.project.dependency_groups(PYPROJECT, "dev")
LINT_DEPS = [d for d in DEV_DEPS if d.startswith("ruff")]
MYPY = next(d for d in DEV_DEPS if d.startswith("mypy"))
CARGO_ENV = {"CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target" / "nox"))}


def develop(session: nox.Session) -> None:
    """Build the extension (debug profile) into the session's virtualenv."""
    session.install(MATURIN, *TEST_DEPS)
    session.run("maturin", "develop", "--quiet", env=CARGO_ENV)


def cargo(session: nox.Session, *args: str) -> None:
    session.run("cargo", *args, env=CARGO_ENV, external=True)


@nox.session(python=False)
def rust(session: nox.Session) -> None:
    """Rust checks: rustfmt, clippy with warnings as errors, and the tests with
    and without the python feature."""
    cargo(session, "fmt", "--all", "--check")
    cargo(session, "clippy", "--all-targets", "--no-default-features", "--", "-D", "warnings")
    cargo(session, "test", "--no-default-features")
    cargo(session, "clippy", "--all-targets", "--", "-D", "warnings")
    cargo(session, "test")


@nox.session
def build(session: nox.Session) -> None:
    """Build the extension with ``maturin develop`` and import it."""
    develop(session)
    package = PYPROJECT["tool"]["maturin"]["module-name"].split(".")[0]
    session.run("python", "-c", f"import {package} as m; print(m.__name__, m.__version__)")


@nox.session
def tests(session: nox.Session) -> None:
    """Build the extension and run the Python tests (pass pytest args after --)."""
    develop(session)
    session.run("pytest", *session.posargs)


@nox.session
def properties(session: nox.Session) -> None:
    """The property tests (``pytest -m properties``) on an optimised build, with
    the ``release`` Hypothesis profile (five times the examples of ``tests``).
    The ``release-check`` Cargo profile is the release profile without fat LTO,
    so that it builds in a fraction of the time; debug assertions are off, as
    in a wheel. Pass pytest args after --."""
    session.install(MATURIN, *TEST_DEPS)
    session.run("maturin", "develop", "--quiet", "--profile", "release-check", env=CARGO_ENV)
    session.run(
        "pytest", "-m", "properties", "--hypothesis-show-statistics", *session.posargs,
        env={"HYPOTHESIS_PROFILE": "release"},
    )  # fmt: skip


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example: pure Rust (no Python needed), then each Python one."""
    cargo(session, "run", "--quiet", "--example", "pure_rust", "--no-default-features")
    develop(session)
    for example in sorted((ROOT / "examples").glob("*.py")):
        session.run("python", str(example.relative_to(ROOT)))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: Rust against NumPy / pure Python, one table of ratios measured
    in this run (release build). ``nox -s bench -- --quick`` for a short run."""
    session.install(MATURIN, *TEST_DEPS)
    session.run("maturin", "develop", "--release", "--quiet", env=CARGO_ENV)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def stubtest(session: nox.Session) -> None:
    """Check the hand-written stubs (python/*/_core.pyi) against the built module."""
    develop(session)
    session.install(MYPY)
    module = PYPROJECT["tool"]["maturin"]["module-name"]
    session.run("python", "-m", "mypy.stubtest", module, env={"MYPYPATH": "python"})


def find_lldb_dap() -> str | None:
    """The lldb-dap debug adapter: $LLDB_DAP, PATH, Debian's versioned name, Xcode."""
    if "LLDB_DAP" in os.environ:
        return shutil.which(os.environ["LLDB_DAP"])
    for name in ["lldb-dap", *(f"lldb-dap-{v}" for v in range(25, 16, -1))]:
        if found := shutil.which(name):
            return found
    if shutil.which("xcrun"):
        found = subprocess.run(["xcrun", "-f", "lldb-dap"], capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout.strip()
    return None


@nox.session
def debug_check(session: nox.Session) -> None:
    """Drive .vscode/launch.json through real debug adapters (lldb-dap, debugpy):
    a Rust breakpoint under an lldb-dap launch, then Python and Rust breakpoints
    in one process. Skips when the adapter or ptrace is not available."""
    if not (ROOT / ".vscode" / "launch.json").exists():
        session.skip("no .vscode/launch.json: this project was rendered with vscode=false")
    # DEBUG_CHECK_REQUIRE=1 (set by CI machines that have lldb-dap) turns the
    # skips below into failures, so the check cannot pass by not running.
    skip = session.error if os.environ.get("DEBUG_CHECK_REQUIRE") == "1" else session.skip
    adapter = find_lldb_dap()
    if adapter is None:
        skip(
            "lldb-dap not found. Install it with `sudo apt-get install lldb-19` "
            "(Debian/Ubuntu; it provides lldb-dap-19), `brew install llvm` (macOS), "
            "or set LLDB_DAP=/path/to/lldb-dap"
        )
    develop(session)
    session.install(*nox.project.dependency_groups(PYPROJECT, "debug"))
    skip_file = Path(session.create_tmp()) / "debug_check.skipped"
    skip_file.unlink(missing_ok=True)
    session.run(
        "python", "tools/debug_check.py", "--lldb-dap", adapter, "--skip-file", str(skip_file),
        env=CARGO_ENV, success_codes=[0, 77],
    )  # fmt: skip
    if skip_file.exists():
        skip(skip_file.read_text(encoding="utf-8"))


@nox.session
def leakcheck(session: nox.Session) -> None:
    """Leaks in the extension (``tests/leakcheck.py`` holds the calls): valgrind's
    memcheck (``PYTHONMALLOC=malloc``) over a few hundred calls of every public
    function on the debug build, where no "definitely lost" block may have been
    allocated by the extension; then 100 000 calls of each on the optimised
    ``release-check`` build, whose resident memory must stay bounded. Without
    valgrind (Linux only) the second part runs and the session skips."""
    # LEAKCHECK_REQUIRE=1 (set by CI machines that have valgrind) turns the skip
    # into a failure, so the check cannot pass by not running.
    skip = session.error if os.environ.get("LEAKCHECK_REQUIRE") == "1" else session.skip
    valgrind = shutil.which("valgrind")
    if valgrind is not None:
        develop(session)  # debug info: stacks with file and line
        xml = Path(session.create_tmp()) / "valgrind.xml"
        session.run(
            valgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite",
            "--num-callers=50", "--suppressions=tests/leakcheck.supp",
            "--xml=yes", f"--xml-file={xml}",
            shutil.which("python", path=session.bin) or "python",
            "tests/leakcheck.py", "calls", "--iterations", "300",
            env={"PYTHONMALLOC": "malloc"}, external=True,
        )  # fmt: skip
        session.run("python", "tests/leakcheck.py", "report", str(xml))
    session.install(MATURIN, *TEST_DEPS)
    session.run("maturin", "develop", "--quiet", "--profile", "release-check", env=CARGO_ENV)
    session.run("python", "tests/leakcheck.py", "rss")
    if valgrind is None:
        skip(
            "the RSS check passed, valgrind's was not run: valgrind not found. Install "
            "it with `sudo apt-get install valgrind` (Debian/Ubuntu) or `sudo dnf install "
            "valgrind` (Fedora); it does not run on Windows or on macOS on Apple silicon"
        )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check on every Python file and stub, then
    mypy (strict, configured in pyproject.toml) on the package and the tests:
    once without the optional dependencies installed and once with them."""
    from packaging.requirements import Requirement  # nox depends on packaging

    session.install(*LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # mypy reads python/ with the hand-written stub: no build needed. It sees
    # the test group (numpy, pytest, ...) without the `optional` group first;
    # the venv is reused between runs, so those are uninstalled explicitly.
    optional = nox.project.dependency_groups(PYPROJECT, "optional")
    session.install(MYPY, *(d for d in TEST_DEPS if d not in optional))
    if optional:
        names = [Requirement(d).name for d in optional]
        if session.venv_backend == "uv":
            session.run("uv", "pip", "uninstall", *names)
        else:
            session.run("python", "-m", "pip", "uninstall", "--yes", *names)
    session.run("mypy")
    if optional:
        session.install(*optional)
        session.run("mypy")
