"""Facts the template repository states in more than one place: one case per
fact, naming the file that owns it, and every copy of it. A case fails when a
copy disagrees with its source.

Sources: copier.yml (the questions: the features, the Python versions a render
may target, the oldest copier), includes/versions.jinja (every version a render
uses, read by rendering it with Jinja), nox_tasks/paths.py (paths).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, copier_config, files, load, run, versions
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from nox_tasks import paths
from nox_tasks.render import FEATURES

# (where, the value found there, the value its source gives)
Rows = list[tuple[str, Any, Any]]
Rendered = Callable[[str], Path]  # the `rendered` fixture

# The template repository's own files that may repeat a fact (the rendered
# files are checked through a render).
REPO_FILES = [
    "README.md",
    "pyproject.toml",
    ".pre-commit-config.yaml",
    ".ci/run",
    "noxfile.py",
    "nox_tasks/*.py",
    "docs/*.md",
]

# A requirement written anywhere: name, extras, specifier ("nox[uv]>=2025.2.9").
REQUIREMENT = re.compile(
    r"(?<![\w.\[-])([A-Za-z][\w.-]*)(\[[\w,]+\])?"
    r"((?:===|[<>!=~]=|[<>])[\w.*+!-]+(?:,\s*(?:===|[<>!=~]=|[<>])[\w.*+!-]+)*)"
)
NEEDS_VERSION = re.compile(r"""nox\.needs_version\s*=\s*["']([^"']+)["']""")


def repo_files() -> list[Path]:
    return sorted({p for pattern in REPO_FILES for p in ROOT.glob(pattern) if p.is_file()})


def requirements(path: Path, root: Path) -> list[tuple[str, str, str]]:
    """(where, canonical name, specifier) for each requirement written in `path`;
    a noxfile's ``nox.needs_version`` counts as one for nox."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.relative_to(root).as_posix()}:{number}"
        for match in REQUIREMENT.finditer(line):
            found.append((where, canonicalize_name(match[1]), match[3]))
        for match in NEEDS_VERSION.finditer(line):
            found.append((where, "nox", match[1]))
    return found


def readme_meaning(question: str) -> str:
    """The "meaning" cell of README.md's questions table for `question`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{question}` \|(.*?)\|", readme, re.MULTILINE)
    assert row, f"README.md has no row for {question}"
    return row[1]


# --- the cases ---------------------------------------------------------------


def features(rendered: Rendered) -> Rows:
    """copier.yml's `features` choices, in every place that lists the features."""
    source = sorted(copier_config()["features"]["choices"].values())
    exclude = "\n".join(copier_config()["_exclude"])
    described = set(re.findall(r"`(\w+)`", readme_meaning("features"))) - {"features"}
    return [
        # In copier.yml's order too: the sessions and variants list them so.
        (
            "nox_tasks/render.py FEATURES",
            FEATURES,
            list(copier_config()["features"]["choices"].values()),
        ),
        (
            "includes/features/<feature>/",
            sorted(p.name for p in (ROOT / "includes" / "features").iterdir()),
            source,
        ),
        (
            "copier.yml _exclude blocks",
            sorted(re.findall(r"'(\w+)' not in features", exclude)),
            source,
        ),
        ("README.md questions table", sorted(described), source),
    ]


def newest_python(rendered: Rendered) -> Rows:
    """includes/versions.jinja's python_max."""
    source = versions()["python_max"]
    newest = re.findall(r"`(3\.\d+)`", readme_meaning("python_min"))[-1]
    return [
        (
            "copier.yml python_min choices (last)",
            copier_config()["python_min"]["choices"][-1],
            source,
        ),
        ("README.md questions table", newest, source),
    ]


def oldest_python(rendered: Rendered) -> Rows:
    """copier.yml's first python_min choice."""
    source = copier_config()["python_min"]["choices"][0]
    return [
        ("copier.yml python_min default", copier_config()["python_min"]["default"], source),
        (
            "README.md questions table",
            re.findall(r"`(3\.\d+)`", readme_meaning("python_min"))[0],
            source,
        ),
    ]


def question_defaults(rendered: Rendered) -> Rows:
    """copier.yml's default answers, as README.md's questions table gives them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r"^\| `(\w+)` \|.*\| `([^`]*)`[^|]*\|$", readme, re.MULTILINE))
    config = copier_config()
    rows = []
    for question, value in shown.items():
        default = config[question]["default"]
        if "{{" not in str(default):  # a derived default is described, not shown
            text = json.dumps(default) if not isinstance(default, str) else default
            rows.append((f"README.md {question}", value, text))
    return rows


def rust_version(rendered: Rendered) -> Rows:
    """includes/versions.jinja's rust_version: the oldest Rust a render supports."""
    cargo = load(rendered("default") / "Cargo.toml")
    return [
        (
            "rendered Cargo.toml rust-version",
            cargo["package"]["rust-version"],
            versions()["rust_version"],
        )
    ]


def tool_pins(rendered: Rendered) -> Rows:
    """includes/versions.jinja's pin of each Python tool, wherever the template
    repository or a render (`all`: every file on) names that tool with a version."""
    pins = {canonicalize_name(name): spec for name, spec in versions().items()}
    project = rendered("all")
    found = [req for path in repo_files() for req in requirements(path, ROOT)] + [
        req for rel in sorted(files(project)) for req in requirements(project / rel, project)
    ]
    return [
        (f"{where} {name}", SpecifierSet(spec), SpecifierSet(pins[name]))
        for where, name, spec in found
        if name in pins
    ]


def oldest_copier(rendered: Rendered) -> Rows:
    """copier.yml's _min_copier_version, the lower bound of every copier requirement."""
    source = Version(copier_config()["_min_copier_version"])
    rows = []
    for where, name, spec in (r for path in repo_files() for r in requirements(path, ROOT)):
        if name == "copier":
            (lower,) = (Version(s.version) for s in SpecifierSet(spec) if s.operator == ">=")
            rows.append((where, lower, source))
    return rows


def build_paths(rendered: Rendered) -> Rows:
    """nox_tasks/paths.py's paths under build/, as the README names them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    known = {
        value.relative_to(ROOT).as_posix()
        for value in vars(paths).values()
        if isinstance(value, Path) and value != ROOT
    }
    return [
        (f"README.md `{name}`", name in known, True)
        for name in re.findall(r"`(build/[\w-]+)/?`", readme)
    ]


# "PyO3 0.30" in prose: the crate or tool named, then a version.
PROSE_VERSION = re.compile(r"\b(PyO3|pyo3|rust-numpy|ndarray|maturin) (\d+\.\d+)\b")
# Versions named as history, not as what the template uses (file, name, version).
HISTORY = {
    ("docs/conversions.md", "pyo3", "0.26"),
    ("docs/article-corrections.md", "pyo3", "0.18"),  # what the article used
}
PROSE_SOURCE = {
    "pyo3": "pyo3",
    "rust-numpy": "numpy_crate",
    "ndarray": "ndarray",
    "maturin": "maturin",
}


def prose_versions(rendered: Rendered) -> Rows:
    """includes/versions.jinja's crate and maturin versions, where prose names them
    (the template's README and docs, every Markdown file of a render; the record of
    measurements in docs/performance.md names what was measured, not a pin)."""
    project = rendered("all")
    texts = [
        (path.relative_to(ROOT).as_posix(), path)
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        if path.name != "performance.md"
    ] + [(rel, project / rel) for rel in sorted(files(project)) if rel.endswith(".md")]
    rows = []
    for where, path in texts:
        for name, version in PROSE_VERSION.findall(path.read_text(encoding="utf-8")):
            name = name.lower()
            if (where, name, version) not in HISTORY:
                pin = re.search(r"\d+\.\d+", versions()[PROSE_SOURCE[name]])
                rows.append((f"{where} {name}", version, pin and pin[0]))
    return rows


FACTS = [
    features,
    newest_python,
    oldest_python,
    question_defaults,
    rust_version,
    tool_pins,
    oldest_copier,
    build_paths,
    prose_versions,
]


@pytest.mark.parametrize("fact", FACTS, ids=[f.__name__ for f in FACTS])
def test_every_copy_of_a_fact_agrees_with_its_source(fact, rendered) -> None:
    rows = fact(rendered)
    assert rows, f"{fact.__name__}: no copy found; is the case still needed?"
    wrong = [
        f"{where}: {found} (source: {expected})"
        for where, found, expected in rows
        if found != expected
    ]
    assert not wrong, f"{fact.__doc__}\n" + "\n".join(wrong)


def test_python_min_choices_run_from_the_oldest_to_python_max() -> None:
    choices = copier_config()["python_min"]["choices"]
    newest = int(versions()["python_max"].split(".")[1])
    assert choices == [f"3.{minor}" for minor in range(int(choices[0].split(".")[1]), newest + 1)]


def test_paths_are_defined_once() -> None:
    """The build directory and the paths in it are spelled in nox_tasks/paths.py
    only; the sessions and the tests import them."""
    names = {
        value.relative_to(paths.BUILD).parts[0]
        for value in vars(paths).values()
        if isinstance(value, Path) and paths.BUILD in value.parents
    }
    spelled = re.compile(rf"""/ ["']build["']|["']({"|".join(map(re.escape, names))})["'/]""")
    code = [
        ROOT / "noxfile.py",
        *(ROOT / "nox_tasks").glob("*.py"),
        *(ROOT / "tests").glob("*.py"),
    ]
    restated = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in code
        if path.name != "paths.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line)
    ]
    assert names and not restated


def test_the_noxfile_needs_nothing_but_nox() -> None:
    """nox imports nox_tasks before any session installs packages, so the modules
    it loads (besides nox itself) must import with the standard library alone."""
    code = "import nox_tasks.paths, nox_tasks.render; print(nox_tasks.render.FEATURES)"
    result = run([sys.executable, "-S", "-c", code], cwd=ROOT)
    assert result.stdout.strip() == str(FEATURES)


def test_plain_nox_runs_each_variant_and_feature_as_a_session_of_its_own() -> None:
    """The sessions derive from VARIANTS and FEATURES; the old name still exists."""
    nox = [sys.executable, "-m", "nox", "--list"]
    selected = [s["session"] for s in json.loads(run([*nox, "--json"], cwd=ROOT).stdout)]
    assert selected == [
        "lint",
        "tests",
        "project(default)",
        "project(all)",
        *(f"feature_matrix({feature})" for feature in FEATURES),
    ]
    listed = run(nox, cwd=ROOT).stdout
    assert "- project(custom)" in listed
    assert "- project(minimal)" in listed
    assert "- generated" in listed
