"""Every bad answer is refused by a validator naming the rule, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import load

from nox_tasks.render import render

# description and author_name: anything that is one line of printable text is
# escaped (tests/test_escaping.py); only this is refused.
NOT_ONE_LINE = [
    ("", "must not be empty or blank"),
    ("   ", "must not be empty or blank"),
    ("\u3000", "must not be empty or blank"),
    ("line one\nline two", "must be one line of printable text"),
    ("trailing newline\n", "must be one line of printable text"),
    ("carriage\rreturn", "must be one line of printable text"),
    ("a\ttab", "must be one line of printable text"),
    ("bell\x07", "must be one line of printable text"),
    ("delete\x7f", "must be one line of printable text"),
    ("next line\x85", "must be one line of printable text"),
    ("line\u2028separator", "must be one line of printable text"),
    ("right-to-left \u202e override", "must be one line of printable text"),
]

BAD_ANSWERS = [
    ({"package_name": "AIProject"}, "package_name must be a lowercase identifier"),
    ({"package_name": "my-project"}, "package_name must be a lowercase identifier"),
    ({"package_name": "2fast"}, "package_name must be a lowercase identifier"),
    ({"package_name": ""}, "package_name must be a lowercase identifier"),
    ({"package_name": "lambda"}, "must not be a Python keyword"),
    ({"package_name": "import"}, "must not be a Python keyword"),
    ({"package_name": "fn"}, "must not be a Rust keyword"),
    ({"package_name": "crate"}, "must not be a Rust keyword"),
    ({"package_name": "core"}, "must not be a Rust keyword or built-in crate"),
    ({"package_name": "json"}, "must not shadow a Python standard-library module"),
    ({"package_name": "test"}, "must not be a Rust keyword or built-in crate"),
    ({"package_name": "numpy"}, "must not shadow a common AI or build package"),
    ({"package_name": "torch"}, "must not shadow a common AI or build package"),
    ({"package_name": "pyo3"}, "must not shadow a common AI or build package"),
    ({"project_name": "-bad-"}, "project_name must start with a letter"),
    ({"project_name": "a/b"}, "project_name must start with a letter"),
    ({"project_name": "3D Vision"}, "project_name must start with a letter"),
    ({"project_name": "Vision\n"}, "project_name must start with a letter"),
    ({"package_name": "vk\n"}, "package_name must be a lowercase identifier"),
    ({"author_email": "a@example.com\n"}, "author_email must be an e-mail address"),
    ({"author_email": "nope"}, "author_email must be an e-mail address"),
    ({"author_email": "a@b"}, "author_email must be an e-mail address"),
    ({"author_email": "a b@example.com"}, "author_email must be an e-mail address"),
    *(
        ({field: text}, f"{field} {rule}")
        for field in ("description", "author_name")
        for text, rule in NOT_ONE_LINE
    ),
    ({"license": "GPL-3.0"}, "Invalid choice for 'license'"),
    ({"python_min": "3.8"}, "Invalid choice for 'python_min'"),
]


@pytest.mark.parametrize(("data", "rule"), BAD_ANSWERS, ids=[str(d) for d, _ in BAD_ANSWERS])
def test_bad_answer_is_refused_and_nothing_written(tmp_path: Path, data: dict, rule: str) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError) as info:
        render(dst, data)
    assert rule in str(info.value)
    assert not dst.exists() or not any(dst.iterdir())


@pytest.mark.parametrize(
    "data",
    [
        {"package_name": "vision_kit"},
        {"package_name": "_private"},
        {"project_name": "Vision Kit 2"},
        {"author_email": "first.last+tag@sub.example.co.uk"},
        {"python_min": "3.14", "abi3": False},
        {"author_name": "张伟", "description": "中文描述 with 'single' quotes"},
    ],
)
def test_good_answers_are_accepted(rendered, data: dict) -> None:
    project = rendered(data)
    for name in ("Cargo.toml", "pyproject.toml"):
        load(project / name)
