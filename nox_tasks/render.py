"""Render the template: named answer sets ("variants") and one render function.

Used by the nox sessions and by the pytest suite, so both render the same way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from nox_tasks.paths import RENDERS, ROOT


def _features() -> list[str]:
    """The optional features, in the order copier.yml (which owns the list) offers them.

    Read with a pattern rather than a YAML parser: nox imports this module before
    any session has installed packages. tests/test_facts.py checks the result
    against PyYAML's reading of the file.
    """
    text = (ROOT / "copier.yml").read_text(encoding="utf-8")
    question = re.search(r"^features:\n((?:[ #].*\n|\n)+)", text, re.MULTILINE)
    choices = question and re.search(r"^  choices:\n((?:    .*\n)+)", question[1], re.MULTILINE)
    if not choices:
        raise RuntimeError("copier.yml: no `features` question with `choices` found")
    return re.findall(r"^    \"[^\"]*\": (\w+)$", choices[1], re.MULTILINE)


# `nox -s feature_matrix` renders and tests each one alone.
FEATURES = _features()

# Answer sets the tests and sessions render by name. "default" is what
# `copier copy --defaults` produces (the lean core with the editor, hook and CI
# set-up); "all" turns every optional part on; "custom" is "all" with every
# other answer that changes generated code changed, so both sides of each
# switch are built, and with free-text answers that every file format must
# escape (the build tests compile it); "minimal" turns every optional part off.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "all": {"features": FEATURES, "mirror": "rsproxy"},
    "custom": {
        "features": FEATURES,
        "project_name": "Vision Kit",
        "description": (
            '# Image "pre-processing" in Rust \\ C:\\new: 100% %s {x}'
            " [table] key = 'v' - &anchor `code` <b>&amp; 中文 日本語\u3000テキスト 🚀 👩\u200d💻"
        ),
        "author_name": 'Ada "Countess" O\'Lovelace \\ 山田\u3000太郎 #1: {}',
        "author_email": "ada@example.org",
        "license": "BSD-3-Clause",
        "python_min": "3.11",
        "abi3": False,
        "mirror": "custom",
        "mirror_cargo_url": "sparse+https://mirror.example.com/cargo/index/",
        "mirror_rustup_url": "https://mirror.example.com/rustup-dist",
        "mirror_pip_url": "https://mirror.example.com/python/simple/",
    },
    "minimal": {
        "features": [],
        "vscode": False,
        "precommit": False,
        "mirror": "none",
        "ci": "none",
    },
}


def render(
    dst: Path,
    data: dict[str, Any] | None = None,
    *,
    src: Path = ROOT,
    vcs_ref: str | None = "HEAD",
    overwrite: bool = True,
) -> Path:
    """Render the template into `dst` with `data` (other answers: defaults).

    Never trusts the template (no tasks or migrations may run), and uses an
    absolute template path so that `copier update` works later.
    """
    from copier import run_copy

    if overwrite and dst.exists():
        shutil.rmtree(dst)
    run_copy(
        str(src.resolve()),
        str(dst),
        data=data or {},
        defaults=True,
        unsafe=False,
        vcs_ref=vcs_ref,
        quiet=True,
    )
    return dst


def variant_answers(name: str) -> dict[str, Any]:
    """The answers of a named variant, or of ``only:FEATURE``: that one feature,
    every other optional part off."""
    if name.startswith("only:") and name[5:] in FEATURES:
        return {**VARIANTS["minimal"], "features": [name[5:]]}
    if name not in VARIANTS:
        choices = [*VARIANTS, *(f"only:{f}" for f in FEATURES)]
        raise SystemExit(f"unknown variant {name!r}; choose from {', '.join(choices)}")
    return VARIANTS[name]


def render_variant(name: str, dst: Path | None = None) -> Path:
    """Render a named variant into `dst` (default: build/render/<name>)."""
    return render(dst or RENDERS / name.replace(":", "-"), variant_answers(name))


if __name__ == "__main__":
    # python -m nox_tasks.render VARIANT [DEST]
    import sys

    name, *dest = sys.argv[1:] or ["default"]
    print(render_variant(name, Path(dest[0]).resolve() if dest else None))
