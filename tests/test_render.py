"""Fast checks on renders: no compiler needed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import json5
import pytest
import yaml

from nox_tasks.render import FEATURES, VARIANTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# Files that each optional question adds (the rest is always rendered).
OPTIONAL_FILES = {
    "vscode": {
        ".vscode/extensions.json",
        ".vscode/launch.json",
        ".vscode/settings.json",
        ".vscode/tasks.json",
        "tools/debug_check.py",
        "tools/run_with_pid.py",
    },
    "precommit": {".pre-commit-config.yaml"},
    "mirror": {"scripts/setup-mirrors.sh", "scripts/setup-mirrors.ps1"},
    "ci": {".github/workflows/ci.yml", ".github/workflows/release.yml"},
}
# The files each compute feature adds: one per layer, named after the feature
# (see also tests/test_features.py). parallel also has a pure Rust example.
FEATURE_FILES = {
    layer.format(f=feature)
    for feature in FEATURES
    for layer in [
        "src/{f}.rs",
        "src/python/{f}.rs",
        "python/ai_project/{f}.py",
        "tests/test_{f}.py",
        "tests/test_{f}_properties.py",
        "examples/{f}.py",
        "benchmarks/bench_{f}.py",
    ]
} | {
    "examples/parallel.rs",
    "python/ai_project/text_pipeline_reference.py",
    # The thread pool, for the features that compute on it (copier.yml `thread_pool`).
    "src/pool.rs",
}
# Each optional question's "off" answer: the minimal variant, features aside.
OFF = {k: v for k, v in VARIANTS["minimal"].items() if k != "features"}

DEFAULT_FILES = (
    set().union(*OPTIONAL_FILES.values())
    | FEATURE_FILES
    | {
        ".copier-answers.yml",
        ".gitattributes",
        ".gitignore",
        "benchmarks/bench_core.py",
        "benchmarks/run.py",
        "Cargo.toml",
        "LICENSE-APACHE",
        "LICENSE-MIT",
        "README.md",
        "examples/mixed_usage.py",
        "examples/pure_rust.rs",
        "noxfile.py",
        "pyproject.toml",
        "python/ai_project/__init__.py",
        "python/ai_project/_core.pyi",
        "python/ai_project/py.typed",
        "requirements.txt",
        "src/alloc.rs",
        "src/lib.rs",
        "src/python/args.rs",
        "src/python/errors.rs",
        "src/python/mod.rs",
        "tests/conftest.py",
        "tests/helpers.py",
        "tests/leakcheck.py",
        "tests/leakcheck.supp",
        "tests/test_api_docs.py",
        "tests/test_core.py",
        "tests/test_core_properties.py",
        "tests/test_fork.py",
    }
)

PARSERS = {
    ".toml": lambda text: tomllib.loads(text),
    ".yml": yaml.safe_load,
    ".yaml": yaml.safe_load,
    ".json": json5.loads,  # .vscode/*.json are JSON with comments
}


def files(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def test_default_render_has_exactly_the_expected_files(render_to) -> None:
    assert files(render_to()) == DEFAULT_FILES


@pytest.mark.parametrize("variant", ["default", "custom"])
def test_every_structured_file_parses_and_nothing_is_left_unrendered(
    render_to, variant: str
) -> None:
    from nox_tasks.render import VARIANTS

    project = render_to(VARIANTS[variant])
    parsed = 0
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        assert not path.name.endswith(".jinja"), path
        text = path.read_text(encoding="utf-8")
        jinja_free = re.sub(r"\$\{\{.*?\}\}", "", text)  # GitHub Actions expressions
        assert not re.search(r"\{\{|\{%|%\}", jinja_free), f"unrendered Jinja in {path}"
        if path.suffix in PARSERS:
            PARSERS[path.suffix](text)
            parsed += 1
    assert parsed >= 3  # Cargo.toml, pyproject.toml, .copier-answers.yml, ...


@pytest.mark.parametrize("question", sorted(OFF))
def test_each_optional_question_omits_exactly_its_files(render_to, question: str) -> None:
    project = render_to({question: OFF[question]})
    assert files(project) == DEFAULT_FILES - OPTIONAL_FILES[question]


def test_custom_mirror_keeps_the_scripts(render_to) -> None:
    project = render_to({"mirror": "custom", "mirror_pip_url": ""})
    assert files(project) == DEFAULT_FILES


def test_default_render_matches_the_article_layout(render_to) -> None:
    project = render_to()
    cargo = tomllib.loads((project / "Cargo.toml").read_text())
    assert cargo["lib"]["crate-type"] == ["cdylib", "rlib"]
    assert cargo["features"]["default"] == ["python"]
    assert set(cargo["features"]["python"]) == {"dep:pyo3", "dep:numpy"}
    pyo3 = cargo["dependencies"]["pyo3"]
    assert pyo3["optional"] is True
    assert pyo3["features"] == ["abi3-py39"]
    assert not any("extension-module" in f for fs in cargo["features"].values() for f in fs)
    assert cargo["dependencies"]["numpy"]["optional"] is True

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["build-system"]["build-backend"] == "maturin"
    assert pyproject["project"]["name"] == "ai_project"
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["project"]["requires-python"] == ">=3.9"
    assert pyproject["project"]["license"] == "MIT OR Apache-2.0"
    assert pyproject["tool"]["maturin"]["module-name"] == "ai_project._core"


def test_custom_answers_reach_every_file(render_to) -> None:
    from nox_tasks.render import VARIANTS

    project = render_to(VARIANTS["custom"])
    assert (project / "python" / "vision_kit" / "__init__.py").is_file()
    cargo = tomllib.loads((project / "Cargo.toml").read_text())
    assert cargo["package"]["name"] == "vision_kit"
    assert "features" not in cargo["dependencies"]["pyo3"]  # abi3 = false
    assert cargo["package"]["license"] == "BSD-3-Clause"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "vision-kit"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert pyproject["project"]["authors"] == [
        {"name": "Ada Lovelace", "email": "ada@example.org"}
    ]
    assert "Programming Language :: Python :: 3.10" not in pyproject["project"]["classifiers"]
    assert "Programming Language :: Python :: 3.14" in pyproject["project"]["classifiers"]
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
    assert (project / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "import vision_kit as pkg" in (project / "tests" / "test_core.py").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["package_name"] == "vision_kit"
    assert "dist_name" not in answers  # derived, never stored


@pytest.mark.parametrize(
    ("license", "license_files", "spdx"),
    [
        ("MIT OR Apache-2.0", {"LICENSE-MIT", "LICENSE-APACHE"}, "MIT OR Apache-2.0"),
        ("MIT", {"LICENSE"}, "MIT"),
        ("Apache-2.0", {"LICENSE"}, "Apache-2.0"),
        ("BSD-3-Clause", {"LICENSE"}, "BSD-3-Clause"),
        ("Proprietary", {"LICENSE"}, None),
    ],
)
def test_license_choice(render_to, license: str, license_files: set[str], spdx) -> None:
    project = render_to({"license": license})
    assert {f for f in files(project) if f.startswith("LICENSE")} == license_files
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    cargo = tomllib.loads((project / "Cargo.toml").read_text())
    assert pyproject["project"].get("license") == spdx
    assert cargo["package"].get("license") == spdx
    if spdx is None:
        assert cargo["package"]["publish"] is False
        assert "Private :: Do Not Upload" in pyproject["project"]["classifiers"]
    if license in ("MIT", "BSD-3-Clause", "Proprietary"):
        assert "Your Name" in (project / "LICENSE").read_text()


def test_derived_package_name(render_to) -> None:
    project = render_to({"project_name": "My Fancy-Model 2"})
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["package_name"] == "my_fancy_model_2"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-fancy-model-2"


REGISTRY_HOSTS = re.compile(r"pypi\.org|pythonhosted\.org|(^|[^-a-z])crates\.io|npmjs\.(com|org)")


@pytest.mark.parametrize("variant", ["default", "custom"])
def test_render_names_no_package_registry_host(render_to, variant: str) -> None:
    from nox_tasks.render import VARIANTS

    project = render_to(VARIANTS[variant])
    for path in project.rglob("*"):
        if path.is_file():
            assert not REGISTRY_HOSTS.search(path.read_text(encoding="utf-8")), path


def test_template_repository_names_no_package_registry_host() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for rel in filter(None, tracked.split("\0")):
        text = (ROOT / rel).read_text(encoding="utf-8", errors="replace")
        assert not REGISTRY_HOSTS.search(text), rel


def test_template_needs_no_trust() -> None:
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    for key in ("_tasks", "_migrations", "_jinja_extensions"):
        assert key not in config


def test_copier_cli_renders_without_trust(tmp_path: Path) -> None:
    """The exact command a user runs (acceptance 1), minus --trust."""
    copier = shutil.which("copier")
    assert copier, "copier is a test dependency"
    dst = tmp_path / "demo"
    subprocess.run(
        [copier, "copy", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(dst)],
        check=True,
        capture_output=True,
    )
    assert (dst / "src" / "python" / "mod.rs").is_file()


@pytest.mark.parametrize("python_min", ["3.9", "3.14"])  # ruff's rules follow the target
def test_rendered_python_passes_ruff(render_to, python_min: str) -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency"
    project = render_to({"python_min": python_min})
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run([ruff, *args], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_rust_is_rustfmt_clean(render_to) -> None:
    if not shutil.which("cargo"):
        pytest.fail("cargo (a Rust toolchain) is required")
    for variant in ({}, {"project_name": "Vision Kit", "abi3": False}):
        project = render_to(variant, name=str(len(variant)))
        result = subprocess.run(
            ["cargo", "fmt", "--all", "--check"], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
