"""sp-repo-review on the default render: the checks that fail are exactly the
ones docs/repo-review.md lists with their reasons (one list, read from there)."""

from __future__ import annotations

import json
import re
import sys

from helpers import ROOT, run, tool

DOC = ROOT / "docs" / "repo-review.md"


def documented() -> set[str]:
    """The check IDs in the first column of the doc page's table."""
    text = DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z]+[0-9]+)` \|", text, re.MULTILINE))


def test_the_failing_checks_are_the_documented_ones(rendered) -> None:
    project = rendered("default")
    # Exits non-zero when a check fails; the JSON says which.
    result = run(
        [sys.executable, "-m", "repo_review", str(project), "--format", "json"], check=False
    )
    checks = json.loads(result.stdout)["checks"]
    failing = {name for name, check in checks.items() if check["result"] is False}
    expected = documented()
    assert expected, f"no table of checks in {DOC}"
    assert failing == expected, (
        f"newly failing: {sorted(failing - expected)}; "
        f"listed in {DOC.name} but passing or gone: {sorted(expected - failing)}"
    )


def test_the_dependabot_config_is_valid_and_zizmor_clean(rendered) -> None:
    """GH200's file: Dependabot's schema, and zizmor's pedantic audits
    (cooldown, grouping) with no config that could silence them."""
    project = rendered("default")
    config = ".github/dependabot.yml"
    schema = ["--builtin-schema", "vendor.dependabot"]
    run([sys.executable, "-m", "check_jsonschema", *schema, config], cwd=project)
    zizmor = tool("zizmor")
    assert zizmor, "zizmor is a test dependency"
    audit = [zizmor, "--offline", "--no-config", "--persona", "pedantic", "--format", "json"]
    assert json.loads(run([*audit, config], cwd=project).stdout) == []
