"""The rendered project's leak check (``nox -s leakcheck``): its script has a
table of calls for the core and for each selected feature, and plain ``nox``
runs it. (What the tables call is checked when the session runs: the script
refuses to start if an exported function or method has no entry.)"""

from __future__ import annotations

import ast
import re

import pytest
from helpers import ROOT, load, nox_sessions

from nox_tasks.render import FEATURES


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_has_a_table_of_calls(feature: str) -> None:
    fragment = ROOT / "includes" / "features" / feature / "leakcheck.py.jinja"
    assert f"def {feature}_calls(" in fragment.read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", ["default", "all", *(f"only:{f}" for f in FEATURES)])
def test_the_script_calls_the_selected_features(rendered, variant: str) -> None:
    project = rendered(variant)
    module = ast.parse((project / "tests" / "leakcheck.py").read_text(encoding="utf-8"))
    (tables,) = [
        node.value
        for node in module.body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "TABLES"
    ]
    assert isinstance(tables, ast.List)
    selected = load(project / ".copier-answers.yml")["features"]
    assert [ast.unparse(e) for e in tables.elts] == [
        "core_calls",
        *(f"{feature}_calls" for feature in selected),
    ]


def test_plain_nox_runs_the_leakcheck(rendered) -> None:
    listed = nox_sessions(rendered("default"))
    assert re.search(r"^\* leakcheck -> ", listed, re.M), listed


def test_ci_requires_valgrind_where_it_is_installed() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install -y -qq valgrind" in run
    assert "export LEAKCHECK_REQUIRE=1" in run
