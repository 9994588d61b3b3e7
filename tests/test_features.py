"""The `features` question: a feature that is not selected leaves no trace,
and each one alone renders only its own files. (Building each feature alone is
``nox -s feature_matrix``; all and none are built by ``nox -s generated``.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nox_tasks.render import FEATURES, ROOT, variant_answers

# The Apache-2.0 license text says "conversions" (of media types): license
# files are fixed legal text, not part of any feature.
LEGAL = re.compile(r"^LICENSE")


def mentions(project: Path, names: list[str]) -> dict[str, list[str]]:
    """Files (relative paths) whose name or text mentions each of `names`."""
    found: dict[str, list[str]] = {}
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        if not path.is_file() or LEGAL.match(rel) or rel.startswith(".git/"):
            continue
        text = rel + "\n" + path.read_text(encoding="utf-8", errors="replace")
        for name in names:
            if re.search(re.escape(name), text, re.IGNORECASE):
                found.setdefault(name, []).append(rel)
    return found


def test_no_features_leave_no_trace(render_to) -> None:
    project = render_to(variant_answers("minimal"))
    assert mentions(project, FEATURES) == {}


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_alone_mentions_no_other(render_to, feature: str) -> None:
    project = render_to(variant_answers(f"only:{feature}"))
    found = mentions(project, FEATURES)
    assert set(found) == {feature}, found
    for layer in [f"src/{feature}.rs", f"src/python/{feature}.rs", f"tests/test_{feature}.py"]:
        assert (project / layer).is_file(), layer
    (package,) = (project / "python").iterdir()
    stub = (package / "_core.pyi").read_text(encoding="utf-8")
    assert f"# --- {feature} " in stub


def test_default_selects_every_feature(render_to) -> None:
    project = render_to()
    for feature in FEATURES:
        assert (project / "src" / f"{feature}.rs").is_file(), feature


def test_features_can_be_emptied_on_the_command_line(tmp_path: Path) -> None:
    copier = Path(sys.executable).with_name("copier")
    dst = tmp_path / "none"
    subprocess.run(
        [str(copier), "copy", "--defaults", "--vcs-ref", "HEAD", "--quiet",
         "--data", "features=[]", str(ROOT), str(dst)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert "features: []" in (dst / ".copier-answers.yml").read_text(encoding="utf-8")
    assert mentions(dst, FEATURES) == {}
