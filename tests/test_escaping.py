"""Free-text answers (description, author_name) are escaped, not refused.

Any one line of printable text renders into valid TOML, YAML, JSON, Python,
Rust and Markdown and reads back unchanged. What cannot be one line of text is
refused (tests/test_answers.py).
"""

from __future__ import annotations

import ast
import json

import json5
import pytest
import yaml
from helpers import ROOT, jinja_env, tomllib
from markdown_it import MarkdownIt

from nox_tasks.render import VARIANTS

# One line of text each; every row is rendered as both answers.
AWKWARD = {
    "double quotes": 'A "fast" model, "quoted" twice',
    "backslashes": 'C:\\models\\new \\n \\t \\u0041 \\x41 \\N{BULLET} \\\\ \\" ends with \\',
    "single quotes": "It's O'Brien's 'model'",
    "triple quotes": "''' and \"\"\" and ``` in one line",
    "leading hash": "# not a heading, # not a comment",
    "colons and YAML": "- key: value: more & *alias !tag | > @ % ? , [ ] { } ---",
    "TOML specials": '[table] [[array]] key = "value" a.b = 1 {inline = true} # x',
    "Jinja and percent": "{{ project_name }} {% raw %} {# note #} 100% %s %(name)s %%",
    "unicode": "Ünïcödé naïve 中文 日本語\u3000テキスト 🚀 👩\u200d💻 العربية",
    "Markdown": "1. *not* _a_ [list](x) <b>&amp; `code` ~~strike~~ $math$",
    "outer spaces": "  padded on both sides  ",
}


# rustc denies these in literals (lint text_direction_codepoint_in_literal).
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
RUST_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def rust_str(literal: str) -> str:
    """The value of a Rust string literal with the simple escapes (all that
    includes/quote.jinja writes); ValueError for anything rustc would refuse."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not a string literal: {literal!r}")
    out: list[str] = []
    chars = iter(literal[1:-1])
    for char in chars:
        if char in '"\r' or char in BIDI:
            raise ValueError(f"{char!r} must be escaped or is not allowed")
        if char == "\\":
            escape = next(chars, None)
            if escape not in RUST_ESCAPES:
                raise ValueError(f"unknown or unterminated escape \\{escape}")
            char = RUST_ESCAPES[escape]
        out.append(char)
    return "".join(out)


def macros():
    """The includes/quote.jinja macros, in Jinja as copier sets it up."""
    text = (ROOT / "includes" / "quote.jinja").read_text(encoding="utf-8")
    return jinja_env().from_string(text).module


def readme_paragraph(readme: str) -> list:
    """The inline tokens of the README's first paragraph (the description)."""
    md = MarkdownIt("commonmark").enable(["strikethrough", "table"])
    tokens = md.parse(readme)
    first = next(i for i, t in enumerate(tokens) if t.type == "paragraph_open")
    return tokens[first + 1].children or []


@pytest.mark.parametrize("text", AWKWARD.values(), ids=AWKWARD.keys())
def test_quote_reads_back_in_every_format(text: str) -> None:
    literal = str(macros().quote(text))
    assert "\n" not in literal
    assert tomllib.loads(f"v = {literal}")["v"] == text
    assert json.loads(literal) == text
    assert yaml.safe_load(f"v: {literal}")["v"] == text
    assert ast.literal_eval(literal) == text
    assert rust_str(literal) == text


@pytest.mark.parametrize("text", AWKWARD.values(), ids=AWKWARD.keys())
def test_markdown_shows_the_text_literally(text: str) -> None:
    children = readme_paragraph(f"# title\n\n{macros().markdown(text)}\n")
    assert [c.type for c in children] == ["text"]
    assert children[0].content == text.strip()


@pytest.mark.parametrize("text", AWKWARD.values(), ids=AWKWARD.keys())
def test_awkward_answers_render_parse_and_read_back(rendered, text: str) -> None:
    answers = {**VARIANTS["all"], "description": text, "author_name": text}
    project = rendered(answers)
    email = "you@example.com"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == text
    assert pyproject["project"]["authors"] == [{"name": text, "email": email}]
    cargo = tomllib.loads((project / "Cargo.toml").read_text(encoding="utf-8"))
    assert cargo["package"]["description"] == text
    assert cargo["package"]["authors"] == [f"{text} <{email}>"]
    stored = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert (stored["description"], stored["author_name"]) == (text, text)

    children = readme_paragraph((project / "README.md").read_text(encoding="utf-8"))
    assert [c.type for c in children] == ["text"]
    assert children[0].content == text.strip()
    license_text = (project / "LICENSE-MIT").read_text(encoding="utf-8")
    assert "Copyright (c) " in license_text and f" {text}\n" in license_text

    # Every file of a parseable kind still parses; the answers land in the
    # TOML, YAML, Markdown and licence files only, never in code or JSON.
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        content = path.read_text(encoding="utf-8")
        name = path.relative_to(project).as_posix()
        if path.suffix == ".toml":
            tomllib.loads(content)
        elif path.suffix in (".yml", ".yaml"):
            yaml.safe_load(content)
        elif path.suffix == ".json":
            (json5.loads if name.startswith(".vscode/") else json.loads)(content)
        elif path.suffix in (".py", ".pyi"):
            ast.parse(content, filename=name)
        if path.suffix in (".rs", ".py", ".pyi", ".json"):
            assert text not in content, name
