"""Fixtures: renders (cheap, per test) and builds (expensive, once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nox_tasks.render import BUILD, VARIANTS, render  # noqa: E402


@pytest.fixture
def render_to(tmp_path: Path):
    """Render with the given answers into a fresh directory; returns its path."""

    def _render(data: dict | None = None, name: str = "project") -> Path:
        return render(tmp_path / name, data)

    return _render


@pytest.fixture(scope="session")
def cargo_target() -> Path:
    """One Cargo target dir for every build in the run (and kept between runs)."""
    return Path(os.environ.get("CARGO_TARGET_DIR", BUILD / "target-tests"))


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


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


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
        project = render(base / "project", VARIANTS[name])
        cargo_env = {**os.environ, "CARGO_TARGET_DIR": str(cargo_target)}
        wheels = base / "wheels"
        maturin = str(Path(sysconfig.get_path("scripts")) / "maturin")
        run(
            [maturin, "build", "--profile", "dev", "--quiet",
             "--interpreter", sys.executable, "--out", str(wheels)],
            cwd=project, env=cargo_env,
        )  # fmt: skip
        (wheel,) = wheels.glob("*.whl")
        # A wheel is a zip laid out as site-packages: unpacking it is an install
        # (dist-info included, so importlib.metadata sees the version).
        site = base / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        answers = _answers(project)
        env = {**cargo_env, "PYTHONPATH": str(site)}
        cache[name] = Built(name, project, site, answers["package_name"], env)
        return cache[name]

    return _build


def _answers(project: Path) -> dict:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text())
