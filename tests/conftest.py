"""Fixtures: renders (cached per test session, or fresh per test) and builds
(once per test session). Shared functions are in helpers.py."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import dumps, files, load, run, tool

from nox_tasks.paths import CARGO_TARGET
from nox_tasks.render import render, variant_answers


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    """A render of a named variant (``"all"``, ``"only:simd"``, see
    nox_tasks/render.py) or of an answer set, made once per test session and
    shared: read it, never change it (a test that writes uses `render_to`)."""
    cache: dict[str, Path] = {}
    made: dict[Path, set[str]] = {}

    def _rendered(variant: str | dict[str, Any]) -> Path:
        answers = variant_answers(variant) if isinstance(variant, str) else variant
        key = dumps(answers)
        if key not in cache:
            cache[key] = render(tmp_path_factory.mktemp("variant") / "project", answers)
            made[cache[key]] = files(cache[key])
        return cache[key]

    yield _rendered
    changed = [str(project) for project, before in made.items() if files(project) != before]
    assert not changed, f"a test wrote into a shared render: {changed}"


@pytest.fixture
def render_to(tmp_path: Path):
    """Render with the given answers into a fresh directory of this test; returns its path."""

    def _render(data: dict | None = None, name: str = "project") -> Path:
        return render(tmp_path / name, data)

    return _render


@pytest.fixture(scope="session")
def cargo_target() -> Path:
    """One Cargo target dir for every build in the run (and kept between runs)."""
    return Path(os.environ.get("CARGO_TARGET_DIR", CARGO_TARGET))


@dataclass
class Built:
    """A rendered, compiled and installed (into `site`) variant."""

    name: str
    project: Path
    site: Path
    package: str
    env: dict[str, str]

    def python(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run this interpreter with the built package importable."""
        return run([sys.executable, *args], cwd=cwd or self.project, env=self.env)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``nox -s tests`` runs two workers), every build test
    goes to one worker: each variant is still compiled once, by one writer to the
    Cargo target dir, while the fast tests use the other core."""
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            if item.get_closest_marker("build"):
                item.add_marker(pytest.mark.xdist_group("build"))


@pytest.fixture(scope="session")
def build_variant(tmp_path_factory: pytest.TempPathFactory, cargo_target: Path):
    """Build a variant once per test session: render, `maturin build` (debug
    profile, this interpreter, shared target dir) and install the wheel into a
    private site dir. Returns a `Built`."""
    cache: dict[str, Built] = {}

    def _build(name: str) -> Built:
        if name in cache:
            return cache[name]
        base = tmp_path_factory.mktemp(f"build-{name}")
        project = render(base / "project", variant_answers(name))
        cargo_env = {**os.environ, "CARGO_TARGET_DIR": str(cargo_target)}
        wheels = base / "wheels"
        maturin = tool("maturin")
        assert maturin, "maturin is a test dependency"
        build = ["build", "--profile", "dev", "--quiet", "--interpreter", sys.executable]
        run([maturin, *build, "--out", str(wheels)], cwd=project, env=cargo_env)
        (wheel,) = wheels.glob("*.whl")
        # A wheel is a zip laid out as site-packages: unpacking it is an install
        # (dist-info included, so importlib.metadata sees the version).
        site = base / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        package = load(project / ".copier-answers.yml")["package_name"]
        env = {**cargo_env, "PYTHONPATH": str(site)}
        cache[name] = Built(name, project, site, package, env)
        return cache[name]

    return _build
