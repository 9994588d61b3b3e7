"""What the template's tests share: plain functions and constants. The fixtures
(renders and builds) are in conftest.py. Test modules import from here, never
from each other."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
import json5
import yaml
from pathspec import PathSpec

from nox_tasks.paths import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def run(cmd: list[str], *, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run `cmd`, capturing text output. With `check`, a failure is an
    AssertionError that shows the output."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str) -> str:
    """A git command in `cwd` (with a commit identity); its standard output."""
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    return run(["git", *identity, *args], cwd=cwd).stdout


def tool(name: str) -> str | None:
    """An executable of this environment (its scripts dir first), or on PATH."""
    scripts = sysconfig.get_path("scripts")
    return shutil.which(name, path=os.pathsep.join([scripts, os.environ.get("PATH", "")]))


def load(path: Path) -> Any:
    """A TOML, YAML or JSON file, parsed. JSON may have comments (.vscode/*.json)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in (".yml", ".yaml"):
        return yaml.safe_load(text)
    if path.suffix == ".json":
        return json5.loads(text)
    raise ValueError(f"no parser for {path}")


def nox_sessions(project: Path) -> str:
    """``nox -l`` in a render: the sessions, with "*" before those plain ``nox``
    runs. Writes nothing into the render (no bytecode), so a shared one stays clean."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return run([sys.executable, "-m", "nox", "-l"], cwd=project, env=env).stdout


def files(project: Path) -> set[str]:
    """Every file of a render, as relative POSIX paths."""
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


# --- package registries -------------------------------------------------------

REGISTRY_HOSTS = re.compile(r"pypi\.org|pythonhosted\.org|(^|[^-a-z])crates\.io|npmjs\.(com|org)")


def naming_registry_hosts(root: Path, paths: Iterable[str] | None = None) -> list[str]:
    """The files under `root` (default: all) whose text names a package registry host."""
    return [
        rel
        for rel in sorted(files(root) if paths is None else paths)
        if REGISTRY_HOSTS.search((root / rel).read_text(encoding="utf-8", errors="replace"))
    ]


# --- features and the other optional parts --------------------------------

# Fixed legal text, not part of any feature (the Apache-2.0 text says "conversions").
LEGAL = re.compile(r"^LICENSE")


def mentions(project: Path, names: Iterable[str]) -> dict[str, list[str]]:
    """Files (relative paths) whose name or text mentions each of `names`
    (case-insensitive; a space in a name also matches a line break, with the
    comment marker that starts the next line); license texts aside."""
    patterns = {
        name: re.compile(r"\s+(?:(?://[/!]?|#)\s*)?".join(map(re.escape, name.split(" "))), re.I)
        for name in names
    }
    found: dict[str, list[str]] = {}
    for rel in sorted(files(project)):
        if LEGAL.match(rel) or rel.startswith(".git/"):
            continue
        text = rel + "\n" + (project / rel).read_text(encoding="utf-8", errors="replace")
        for name, pattern in patterns.items():
            if pattern.search(text):
                found.setdefault(name, []).append(rel)
    return found


def copier_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))


def jinja_env() -> jinja2.Environment:
    """Jinja as copier sets it up (its filters, `pathjoin`), for copier.yml's expressions."""
    env = jinja2.Environment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    env.globals["pathjoin"] = lambda *parts: "/".join(parts)
    return env


def derive(values: dict[str, Any]) -> dict[str, Any]:
    """`values` plus the derived values copier.yml computes from the answers
    (questions with ``when: false``)."""
    values, env = dict(values), jinja_env()
    for name, question in copier_config().items():
        if isinstance(question, dict) and question.get("when") is False:
            value = env.from_string(str(question["default"])).render(values).strip()
            values[name] = value == "True" if question["type"] == "bool" else value
    return values


def answers(project: Path) -> dict[str, Any]:
    """A render's answers: those its answers file stores, and the derived ones."""
    return derive(load(project / ".copier-answers.yml"))


def exclude_patterns(values: dict[str, Any]) -> list[str]:
    """copier.yml's `_exclude` patterns, rendered with `values` and split into
    one pattern per line, as copier does."""
    env = jinja_env()
    rendered = (env.from_string(entry).render(values) for entry in copier_config()["_exclude"])
    return [line.strip() for text in rendered for line in text.splitlines() if line.strip()]


def path_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a relative path matches one of `patterns` (copier's gitignore-style rules)."""
    return PathSpec.from_lines("gitignore", list(patterns)).match_file


# --- the one versions file ----------------------------------------------------


def versions() -> dict[str, str]:
    """includes/versions.jinja's `set` statements, read by rendering the file
    with Jinja (every value it exports)."""
    text = (ROOT / "includes" / "versions.jinja").read_text(encoding="utf-8")
    module = jinja_env().from_string(text).module
    return {k: v for k, v in vars(module).items() if not k.startswith("_") and isinstance(v, str)}


def dumps(value: Any) -> str:
    """A stable text form of answers (cache keys, test ids)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
