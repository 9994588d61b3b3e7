"""pre-commit: local hooks only, and a fresh render passes them unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, git, load, run

from nox_tasks.paths import PRE_COMMIT_HOME
from nox_tasks.render import VARIANTS

# Hook environments (ruff, pre-commit-hooks) are cached between runs.
ENV = {**os.environ, "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME)}
REQUIRED_HOOKS = {
    "ruff-check",
    "ruff-format",
    "cargo-fmt",
    "cargo-clippy",
    "check-toml",
    "check-yaml",
    "check-json",
    "check-merge-conflict",
    "typos",
    "zizmor",  # the default render has GitHub workflows
}


def hooks(config: Path) -> dict[str, dict]:
    repos = load(config)["repos"]
    assert [r["repo"] for r in repos] == ["local"] * len(repos), "only local hooks"
    return {h["id"]: h for r in repos for h in r["hooks"]}


def pre_commit(project: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pre_commit", *args], cwd=project, env=ENV, check=False)


def test_configs_use_local_hooks_only(rendered) -> None:
    assert REQUIRED_HOOKS <= set(hooks(rendered("default") / ".pre-commit-config.yaml"))
    assert {"ruff-check", "ruff-format", "check-toml"} <= set(
        hooks(ROOT / ".pre-commit-config.yaml")
    )


@pytest.mark.build
def test_fresh_render_passes_pre_commit_unchanged(render_to) -> None:
    project = render_to()
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "fresh render")
    result = pre_commit(project, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    for hook in REQUIRED_HOOKS - {"check-json"}:  # .vscode/*.json are JSONC, excluded
        name = hooks(project / ".pre-commit-config.yaml")[hook]["name"]
        assert re.search(rf"^{re.escape(name)}\.+Passed$", result.stdout, re.M), hook
    # Nothing tracked changed; cargo's lockfile is the only new file.
    assert git(project, "diff", "--stat") == ""
    assert git(project, "status", "--porcelain").split() in (["??", "Cargo.lock"], [])

    # The hooks do catch problems.
    (project / "bad.toml").write_text("[a]\nb = \n", encoding="utf-8")
    conflict = "<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> other\n"
    (project / "notes.txt").write_text(conflict, encoding="utf-8")
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text(encoding="utf-8") + "\nfn  badly_formatted( ){}\n", "utf-8")
    git(project, "add", "-A")
    # check-merge-conflict looks for markers while a merge is in progress.
    head = git(project, "rev-parse", "HEAD").strip()
    (project / ".git" / "MERGE_HEAD").write_text(head + "\n", encoding="utf-8")
    (project / ".git" / "MERGE_MSG").write_text("Merge\n", encoding="utf-8")
    for hook in ["check-toml", "check-merge-conflict", "cargo-fmt"]:
        assert pre_commit(project, "run", hook, "--all-files").returncode != 0, hook


@pytest.mark.build  # installs the hook environments from the package index
@pytest.mark.parametrize("variant", ["all", "custom"])
def test_every_feature_file_passes_the_hooks(render_to, variant: str) -> None:
    """The default render has none of the features' files: run the hooks over
    renders that have them (clippy aside: `nox -s "project(all)"` runs it on
    every feature, and here it would compile them all once more)."""
    project = render_to(VARIANTS[variant])
    git(project, "init", "-q")
    git(project, "add", "-A")
    result = run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=project,
        env={**ENV, "SKIP": "cargo-clippy"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(project, "diff", "--stat") == ""
