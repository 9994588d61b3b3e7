"""The VS Code set-up: configuration shape (fast), the PID wrapper, and the
rendered ``debug_check`` session's skips. The real debug-adapter round trip runs
in the rendered project's own ``nox`` (the template's ``project`` sessions)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import load, nox_sessions, run

VSCODE_FILES = {"extensions.json", "launch.json", "settings.json", "tasks.json"}


def vscode(project: Path, name: str) -> dict:
    """One of .vscode/*.json (JSON with comments), parsed."""
    return load(project / ".vscode" / name)


@pytest.fixture
def project(rendered) -> Path:
    """The default render (shared: read only)."""
    return rendered("default")


def configs(project: Path) -> dict[str, dict]:
    return {c["name"]: c for c in vscode(project, "launch.json")["configurations"]}


def test_vscode_files_render_and_parse(project: Path) -> None:
    assert {p.name for p in (project / ".vscode").iterdir()} == VSCODE_FILES
    for name in VSCODE_FILES:
        assert isinstance(vscode(project, name), dict), name
    recommended = set(vscode(project, "extensions.json")["recommendations"])
    assert {"rust-lang.rust-analyzer", "vadimcn.vscode-lldb", "ms-python.debugpy"} <= recommended


def test_launch_configurations(project: Path) -> None:
    by_name = configs(project)
    tasks = {t["label"] for t in vscode(project, "tasks.json")["tasks"]}

    python = by_name["Python: current file"]
    assert (python["type"], python["request"]) == ("debugpy", "launch")
    assert python["justMyCode"] is False

    for debugger, kind in [("CodeLLDB", "lldb"), ("lldb-dap", "lldb-dap")]:
        launch = by_name[f"Rust: Python current file ({debugger})"]
        assert (launch["type"], launch["request"]) == (kind, "launch")
        assert launch["program"] == "${command:python.interpreterPath}"
        assert launch["args"] == ["${file}"]
        assert launch["preLaunchTask"] in tasks
        attach = by_name[f"Rust: attach to a running Python ({debugger})"]
        assert (attach["type"], attach["request"]) == (kind, "attach")
        picker = {"lldb": "${command:pickMyProcess}", "lldb-dap": "${command:PickProcess}"}
        assert attach["pid"] == picker[kind]
        pytest_config = by_name[f"Rust: one pytest test ({debugger})"]
        assert pytest_config["args"][:2] == ["-m", "pytest"]
        assert "${input:pytestNode}" in pytest_config["args"]
    # lldb-dap ignores an env dict: it must be a list of NAME=value strings.
    env = by_name["Rust: Python current file (lldb-dap)"]["env"]
    assert isinstance(env, list) and all(re.fullmatch(r"\w+=.*", e) for e in env)

    default_test = vscode(project, "launch.json")["inputs"][0]["default"]
    path, _, test_name = default_test.partition("::")
    assert f"def {test_name}(" in (project / path).read_text(encoding="utf-8")


def test_mixed_configuration_attaches_codelldb_to_the_printed_pid(project: Path) -> None:
    mixed = configs(project)["Python + Rust: current file (CodeLLDB)"]
    action = mixed["serverReadyAction"]
    assert action["action"] == "openExternally"
    assert action["uriFormat"].startswith("vscode://vadimcn.vscode-lldb/launch/config?")
    assert mixed["program"] == "${workspaceFolder}/tools/run_with_pid.py"
    lldb_dap = configs(project)["Python + Rust: current file (lldb-dap, pick the printed PID)"]
    assert lldb_dap["serverReadyAction"]["name"] in configs(project)


def test_run_with_pid_prints_the_pattern_then_runs_the_script(project: Path, tmp_path) -> None:
    pattern = configs(project)["Python + Rust: current file (CodeLLDB)"]["serverReadyAction"]
    script = tmp_path / "script.py"
    script.write_text(
        f"import sys\nprint('argv', sys.argv[1:], __name__, sys.path[0] == {str(tmp_path)!r})\n",
        encoding="utf-8",
    )
    env = {**os.environ, "RUST_DEBUGGER_WAIT": "0.3"}
    wrapper = str(project / "tools" / "run_with_pid.py")
    result = run([sys.executable, wrapper, str(script), "x", "--y"], env=env)
    first, second = result.stdout.splitlines()
    match = re.search(pattern["pattern"], first)
    assert match and match.group(1).isdigit()
    assert second == "argv ['x', '--y'] __main__ True"
    if sys.platform.startswith("linux"):
        assert "no Rust debugger attached" in result.stderr


def test_settings_keep_rust_analyzer_out_of_maturins_way(project: Path) -> None:
    settings = vscode(project, "settings.json")
    assert settings["rust-analyzer.cargo.targetDir"] is True
    assert settings["rust-analyzer.cargo.features"] == ["python"]
    assert "PYO3_PYTHON" in settings["rust-analyzer.cargo.extraEnv"]


def run_debug_check(project: Path, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG_CHECK_REQUIRE": "", **env}
    return run(
        [sys.executable, "-m", "nox", "-s", "debug_check"], cwd=project, env=env, check=False
    )


def test_debug_check_skips_without_the_adapter(render_to) -> None:
    project = render_to()  # nox writes its virtualenvs into the project
    result = run_debug_check(project, LLDB_DAP="/nonexistent/lldb-dap")
    assert result.returncode == 0, result.stderr
    assert "Session debug_check skipped: lldb-dap not found" in result.stderr
    assert "apt-get install lldb-19" in result.stderr
    # Where the adapter must be there (CI), its absence fails instead.
    required = run_debug_check(project, LLDB_DAP="/nonexistent/lldb-dap", DEBUG_CHECK_REQUIRE="1")
    assert required.returncode != 0
    assert "lldb-dap not found" in required.stderr and "skipped" not in required.stderr


def test_without_vscode_there_is_no_debug_check(rendered) -> None:
    # Which files vscode=false leaves out: tests/test_render.py (the _exclude map).
    listed = nox_sessions(rendered({"vscode": False}))
    assert "* lint -> " in listed and "debug_check" not in listed
