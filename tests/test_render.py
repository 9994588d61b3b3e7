"""Fast checks on renders: no compiler needed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    LEGAL,
    ROOT,
    answers,
    copier_config,
    derive,
    exclude_patterns,
    files,
    git,
    load,
    mentions,
    naming_registry_hosts,
    path_matcher,
    run,
    tool,
    versions,
)

from nox_tasks.render import FEATURES, VARIANTS

# What `copier copy --defaults` renders: the core, with the editor set-up, the
# hooks and CI; no demo feature and no mirror scripts.
LEAN_FILES = {
    ".copier-answers.yml",
    ".gitattributes",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".vscode/extensions.json",
    ".vscode/launch.json",
    ".vscode/settings.json",
    ".vscode/tasks.json",
    "Cargo.toml",
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "README.md",
    "benchmarks/bench_core.py",
    "benchmarks/run.py",
    "docs/api.md",
    "docs/ci.md",
    "docs/debugging.md",
    "docs/development.md",
    "docs/pre-commit.md",
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
    "tools/debug_check.py",
    "tools/run_with_pid.py",
}


def test_default_render_is_the_lean_project(rendered) -> None:
    assert files(rendered("default")) == LEAN_FILES
    assert load(rendered("default") / ".copier-answers.yml")["features"] == []


# --- what each optional part owns: copier.yml's _exclude map -------------------

# Each optional part and the answers that turn it off, starting from `all`
# (every part on). The off answers are the `minimal` variant's.
MINIMAL = VARIANTS["minimal"]
PARTS_OFF: dict[str, dict[str, Any]] = {
    **{feature: {"features": [f for f in FEATURES if f != feature]} for feature in FEATURES},
    **{question: {question: off} for question, off in MINIMAL.items() if question != "features"},
    # The thread pool (src/pool.rs) is derived: off when no selected feature uses it.
    "thread_pool": {
        "features": [f for f in FEATURES if not derive({"features": [f]})["thread_pool"]]
    },
    "everything": MINIMAL,
}
# Other answers that change which files a render has.
SWITCHES: dict[str, dict[str, Any]] = {
    **{f"license={name}": {"license": name} for name in ("MIT", "Proprietary")},
}
# Words of a part that a render without it must not contain (file names
# included, license texts aside; case-insensitive; a space matches a line
# break too). A feature's are its name and the words only its files use.
TRACES: dict[str, list[str]] = {
    **{feature: [feature] for feature in FEATURES},
    "rl_env": ["rl_env", "Gymnasium", "cart-pole"],
    "text_pipeline": ["text_pipeline", "PAD_ID", "padded"],
    "serving": ["serving", "actix", "loadtest", "prometheus", "openapi"],
    "async_io": ["async_io", "reqwest", "rustls", "pyo3-async-runtimes", "aiohttp"],
    "distributed": ["distributed", "Dask", "ray.init"],
    "vscode": [".vscode", "VS Code", "debugpy", "lldb", "launch.json", "debug_check"],
    "mirror": ["rsproxy", "mirrors.md", "setup-mirrors", "mirror scripts"],
    "precommit": ["pre-commit"],
    "ci": [".github", "GitHub", "zizmor", "dependabot"],
    "thread_pool": ["rayon", "pool.rs", "thread pool", "cannot start worker threads"],
}


@pytest.mark.parametrize("change", [*PARTS_OFF, *SWITCHES])
def test_an_answer_changes_exactly_the_files_the_exclude_map_names(rendered, change) -> None:
    """From `all`, turning a part off removes exactly the files that copier.yml's
    _exclude patterns (rendered with both answer sets) add for it, and leaves
    no word of it; a switch (license, mirror) adds back what it stops excluding."""
    before = rendered("all")
    after = rendered({**VARIANTS["all"], **PARTS_OFF.get(change, SWITCHES.get(change))})
    excluded_before = path_matcher(exclude_patterns(answers(before)))
    excluded_after = path_matcher(exclude_patterns(answers(after)))
    old, new = files(before), files(after)
    assert old - new == {f for f in old if excluded_after(f) and not excluded_before(f)}
    assert new - old == {f for f in new if excluded_before(f) and not excluded_after(f)}
    if change in PARTS_OFF:
        assert old - new, f"turning {change} off removes no file"
        parts = TRACES if change == "everything" else [change]
        assert mentions(after, [word for part in parts for word in TRACES[part]]) == {}


def test_every_exclude_pattern_matches_a_file(rendered) -> None:
    """No stale line in the map: each templated pattern names a file of a render."""
    dual, single = rendered("all"), rendered({"license": "MIT"})
    off = [rendered("minimal"), rendered({**MINIMAL, "license": "MIT"})]
    fixed = {entry for entry in copier_config()["_exclude"] if "{%" not in entry}
    patterns = {p for project in off for p in exclude_patterns(answers(project))} - fixed
    universe = files(dual) | files(single)
    for pattern in sorted(patterns):
        assert any(map(path_matcher([pattern]), universe)), pattern


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_alone_mentions_no_other(rendered, feature: str) -> None:
    project = rendered(f"only:{feature}")
    found = mentions(project, FEATURES)
    assert set(found) == {feature}, found
    for layer in [f"src/{feature}.rs", f"src/python/{feature}.rs", f"tests/test_{feature}.py"]:
        assert (project / layer).is_file(), layer
    stub = (project / "python" / "ai_project" / "_core.pyi").read_text(encoding="utf-8")
    assert f"# --- {feature} " in stub


# --- every file ---------------------------------------------------------------


@pytest.mark.parametrize("variant", ["default", "all", "custom", "minimal"])
def test_every_structured_file_parses_and_nothing_is_left_unrendered(
    rendered, variant: str
) -> None:
    project = rendered(variant)
    parsed = 0
    for rel in sorted(files(project)):
        path = project / rel
        assert not path.name.endswith(".jinja"), rel
        text = path.read_text(encoding="utf-8")
        jinja_free = re.sub(r"\$\{\{.*?\}\}", "", text)  # GitHub Actions expressions
        if path.suffix == ".rs":  # format strings escape braces: `"{{\"inputs\": {x}}}"`
            jinja_free = re.sub(r"\{\{(?=[\w\"])|(?<=[\w\"])\}\}", "", jinja_free)
        assert not re.search(r"\{\{|\{%|%\}", jinja_free), f"unrendered Jinja in {rel}"
        if path.suffix in (".toml", ".yml", ".yaml", ".json"):
            load(path)
            parsed += 1
    assert parsed >= 3  # Cargo.toml, pyproject.toml, .copier-answers.yml, ...


@pytest.mark.parametrize("variant", ["default", "all", "custom"])
def test_render_names_no_package_registry_host(rendered, variant: str) -> None:
    assert naming_registry_hosts(rendered(variant)) == []


def test_template_repository_names_no_package_registry_host() -> None:
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    ours = [rel for rel in listed.split("\0") if rel and (ROOT / rel).is_file()]
    assert naming_registry_hosts(ROOT, ours) == []


def test_render_speaks_about_itself_not_the_article(rendered) -> None:
    """Where each file comes from is the template's business (docs/article-corrections.md)."""
    project = rendered("all")
    for rel in sorted(files(project)):
        if not LEGAL.match(rel):
            assert "article" not in (project / rel).read_text(encoding="utf-8").lower(), rel


MD_LINK = re.compile(r"\]\(([^()\s]+)\)")
MD_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def md_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings."""
    headings = re.findall(r"^#+ (.*)$", MD_FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("variant", ["default", "all", "minimal"])
def test_docs_links_resolve_and_the_readme_links_every_page(rendered, variant: str) -> None:
    """README.md and docs/*.md link only to files (and headings) of this render,
    and the README links every rendered docs page."""
    project = rendered(variant)
    readme = project / "README.md"
    pages = [readme, *sorted((project / "docs").glob("*.md"))]
    for page in pages:
        for target in MD_LINK.findall(MD_FENCE.sub("", page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = page.parent / path if path else page
            assert dest.exists(), f"{page.name} links to missing {target}"
            if anchor:
                assert anchor in md_anchors(dest), f"{page.name} links to missing {target}"
    linked = set(MD_LINK.findall(readme.read_text(encoding="utf-8")))
    assert {f"docs/{page.name}" for page in pages[1:]} <= linked


# --- answers reach the files --------------------------------------------------


def test_default_render_matches_the_article_layout(rendered) -> None:
    project = rendered("default")
    cargo = load(project / "Cargo.toml")
    assert cargo["lib"]["crate-type"] == ["cdylib", "rlib"]
    assert cargo["features"]["default"] == ["python"]
    assert set(cargo["features"]["python"]) == {"dep:pyo3", "dep:numpy"}
    pyo3 = cargo["dependencies"]["pyo3"]
    assert pyo3["optional"] is True
    assert pyo3["features"] == ["abi3-py39"]
    assert not any("extension-module" in f for fs in cargo["features"].values() for f in fs)
    assert cargo["dependencies"]["numpy"]["optional"] is True

    pyproject = load(project / "pyproject.toml")
    assert pyproject["build-system"]["build-backend"] == "maturin"
    assert pyproject["project"]["name"] == "ai_project"
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["project"]["requires-python"] == ">=3.9"
    assert pyproject["project"]["license"] == "MIT OR Apache-2.0"
    assert pyproject["tool"]["maturin"]["module-name"] == "ai_project._core"


def test_custom_answers_reach_every_file(rendered) -> None:
    project = rendered("custom")
    assert (project / "python" / "vision_kit" / "__init__.py").is_file()
    cargo = load(project / "Cargo.toml")
    assert cargo["package"]["name"] == "vision_kit"
    assert "features" not in cargo["dependencies"]["pyo3"]  # abi3 = false
    assert cargo["package"]["license"] == "BSD-3-Clause"
    pyproject = load(project / "pyproject.toml")
    assert pyproject["project"]["name"] == "vision-kit"
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert pyproject["project"]["authors"] == [
        {"name": VARIANTS["custom"]["author_name"], "email": "ada@example.org"}
    ]
    assert pyproject["project"]["description"] == VARIANTS["custom"]["description"]
    assert cargo["package"]["description"] == VARIANTS["custom"]["description"]
    assert "Programming Language :: Python :: 3.10" not in pyproject["project"]["classifiers"]
    assert "Programming Language :: Python :: 3.14" in pyproject["project"]["classifiers"]
    assert "target-version" not in pyproject["tool"]["ruff"]  # ruff reads requires-python
    assert (project / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert "import vision_kit as pkg" in (project / "tests" / "test_core.py").read_text()
    stored = load(project / ".copier-answers.yml")
    assert stored["package_name"] == "vision_kit"
    assert "dist_name" not in stored  # derived, never stored


@pytest.mark.parametrize(
    ("license", "spdx"),
    [
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("MIT", "MIT"),
        ("Apache-2.0", "Apache-2.0"),
        ("BSD-3-Clause", "BSD-3-Clause"),
        ("Proprietary", None),
    ],
)
def test_license_choice(rendered, license: str, spdx) -> None:
    project = rendered({"license": license})
    pyproject = load(project / "pyproject.toml")
    cargo = load(project / "Cargo.toml")
    assert pyproject["project"].get("license") == spdx
    assert cargo["package"].get("license") == spdx
    if spdx is None:
        assert cargo["package"]["publish"] is False
        assert "Private :: Do Not Upload" in pyproject["project"]["classifiers"]
    if license in ("MIT", "BSD-3-Clause", "Proprietary"):
        assert "Your Name" in (project / "LICENSE").read_text()


def test_derived_package_name(rendered) -> None:
    project = rendered({"project_name": "My Fancy-Model 2"})
    assert load(project / ".copier-answers.yml")["package_name"] == "my_fancy_model_2"
    assert load(project / "pyproject.toml")["project"]["name"] == "my-fancy-model-2"


# --- the copier command line ----------------------------------------------------


def test_template_needs_no_trust() -> None:
    for key in ("_tasks", "_migrations", "_jinja_extensions"):
        assert key not in copier_config()


@pytest.mark.parametrize(
    "data", [[], ["--data", "features=[simd, rl_env]"]], ids=["defaults", "features"]
)
def test_copier_cli_renders_without_trust(rendered, tmp_path: Path, data: list[str]) -> None:
    """The exact command a user runs, minus --trust: the lean default, and the
    demo features one answer away."""
    copier = tool("copier")
    assert copier, "copier is a test dependency"
    dst = tmp_path / "demo"
    run([copier, "copy", "--defaults", "--quiet", "--vcs-ref", "HEAD", *data, str(ROOT), str(dst)])
    expected = rendered({"features": ["simd", "rl_env"]} if data else "default")
    assert files(dst) == files(expected)
    assert load(dst / ".copier-answers.yml")["features"] == (["simd", "rl_env"] if data else [])


# --- the rendered project's own formatters and linters --------------------------

LINTED = {
    "all": VARIANTS["all"],
    # ruff's rules follow the target version: the oldest and the newest.
    "all-newest-python": {**VARIANTS["all"], "python_min": versions()["python_max"]},
    "custom": VARIANTS["custom"],
    "minimal": MINIMAL,
}
# Each feature alone: what its absence from the others' code could break (an
# import left unused, a name only one feature defines). The feature matrix
# (nox_tasks/sessions.py) builds and tests these renders but lints them here,
# where it costs no build (CI time).
ONE_FEATURE = [f"only:{feature}" for feature in FEATURES]


@pytest.mark.parametrize("variant", [*LINTED, *ONE_FEATURE])
def test_rendered_python_passes_ruff(rendered, variant: str) -> None:
    ruff = tool("ruff")
    assert ruff, "ruff is a test dependency"
    project = rendered(LINTED.get(variant, variant))
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        run([ruff, *args], cwd=project)


@pytest.mark.parametrize("variant", ["all", "minimal", *ONE_FEATURE])
def test_rendered_python_passes_strict_mypy(rendered, variant: str) -> None:
    """The project's own mypy settings, on its package, stubs and tests (the
    ``lint`` session also checks with the optional dependencies installed)."""
    mypy = tool("mypy")
    assert mypy, "mypy is a test dependency"
    project = rendered(variant)
    cache = project.parent / f"{project.name}-mypy-cache"  # the render stays untouched
    run([mypy, "--cache-dir", str(cache)], cwd=project)


@pytest.mark.parametrize("variant", ["all", "custom", "minimal"])
def test_rendered_rust_is_rustfmt_clean(rendered, variant: str) -> None:
    cargo = tool("cargo")
    assert cargo, "cargo (a Rust toolchain) is required"
    run([cargo, "fmt", "--all", "--check"], cwd=rendered(variant))
