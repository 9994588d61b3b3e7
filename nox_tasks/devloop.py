"""Benchmark the edit loop a rendered project documents: edit one .rs file,
rebuild, import. Prints a table; run with ``nox -s devloop [-- --edits N]``.

Both documented paths are measured on one fresh render, in one run:
  pip + maturin: ``maturin develop`` once, then ``maturin develop --skip-install``
  uv:            ``uv sync`` once, then ``uv sync``
Each edit changes what ``fast_predict`` returns, and the import check after
each build asserts the new value: a stale build fails the run. A build whose
output shows pyo3 being compiled is flagged.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nox_tasks.render import render

ANCHOR = "acc.iter().sum::<f32>() + tail"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{output}")
    return elapsed, output


class Project:
    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path, self.env = path, env
        self.lib = path / "src" / "lib.rs"
        self.original = self.lib.read_text()
        assert ANCHOR in self.original, "the benchmark edit point moved; update ANCHOR"
        self.bias = 0

    def edit(self) -> None:
        """Change the value fast_predict([1], [1]) returns (1 + bias)."""
        self.bias += 1
        self.lib.write_text(self.original.replace(ANCHOR, f"{ANCHOR} + {self.bias}.0"))

    def check(self, python: Path) -> float:
        """Import the module in a new interpreter and assert the edit is live."""
        code = "import ai_project as m; print(m.fast_predict([1.0], [1.0]))"
        elapsed, out = timed([str(python), "-c", code], self.path, self.env)
        value = float(out.strip().splitlines()[-1])
        if value != 1 + self.bias:
            raise SystemExit(f"stale build: got {value}, expected {1 + self.bias}")
        return elapsed


def measure(project: Project, build: list[str], python: Path, edits: int) -> dict[str, object]:
    builds, imports, pyo3 = [], [], 0
    for _ in range(edits):
        project.edit()
        elapsed, output = timed(build, project.path, project.env)
        pyo3 += "Compiling pyo3" in output
        builds.append(elapsed)
        imports.append(project.check(python))
    noops = []
    for _ in range(edits):
        elapsed, output = timed(build, project.path, project.env)
        pyo3 += "Compiling pyo3" in output
        noops.append(elapsed)
    project.check(python)
    return {"edit": builds, "import": imports, "noop": noops, "pyo3": pyo3}


def row(path: str, step: str, samples: list[float], pyo3: object = "") -> str:
    return (
        f"| {path} | {step} | {statistics.median(samples):.2f} | {min(samples):.2f} "
        f"| {max(samples):.2f} | {pyo3} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the rendered project")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="devloop-"))
    # nox sets VIRTUAL_ENV and UV_PROJECT_ENVIRONMENT to its own venv: the
    # project must use its own .venv, as a user's shell would.
    drop = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX", "CARGO_TARGET_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    project = Project(render(work / "ai_project"), env)
    scripts = Path(sys.executable).parent
    uv = str(scripts / "uv") if (scripts / "uv").exists() else shutil.which("uv")

    # pip + maturin, as the rendered README documents it.
    venv = project.path / ".venv-pip"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    pip_env = {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{env['PATH']}"}
    project.env = pip_env
    pip_install = ["-m", "pip", "install", "-q", "-U", "pip", "-r", "requirements.txt"]
    timed([str(vpy), *pip_install], project.path, pip_env)
    cold_pip, _ = timed([str(venv / "bin" / "maturin"), "develop"], project.path, pip_env)
    full = measure(project, [str(venv / "bin" / "maturin"), "develop"], vpy, 2)
    pip = measure(
        project, [str(venv / "bin" / "maturin"), "develop", "--skip-install"], vpy, args.edits
    )

    # uv sync, in the same checkout and target dir.
    project.env = env
    cold_uv, _ = timed([uv, "sync", "-v"], project.path, env)
    uv_python = project.path / ".venv" / "bin" / "python"
    uvr = measure(project, [uv, "sync", "-v"], uv_python, args.edits)

    # Back to the pip venv after uv: must not recompile pyo3 either.
    project.env = pip_env
    back = measure(project, [str(venv / "bin" / "maturin"), "develop", "--skip-install"], vpy, 2)
    project.lib.write_text(project.original)

    print(f"\nEdit loop of a default render ({args.edits} edits per path; seconds)\n")
    print("| path | step | median | min | max | pyo3 recompiled (builds) |")
    print("|---|---|---|---|---|---|")
    print(row("pip", "cold `maturin develop` (first build)", [cold_pip]))
    print(row("pip", "edit → `maturin develop` (reinstalls)", full["edit"], full["pyo3"]))
    print(row("pip", "edit → `maturin develop --skip-install`", pip["edit"], pip["pyo3"]))
    print(row("pip", "no-op `maturin develop --skip-install`", pip["noop"]))
    print(row("pip", "import check (new interpreter)", pip["import"]))
    print(row("uv", "cold `uv sync` (after the pip build)", [cold_uv]))
    print(row("uv", "edit → `uv sync`", uvr["edit"], uvr["pyo3"]))
    print(row("uv", "no-op `uv sync`", uvr["noop"]))
    print(row("uv", "import check (new interpreter)", uvr["import"]))
    print(
        row("pip after uv", "edit → `maturin develop --skip-install`", back["edit"], back["pyo3"])
    )
    recompiles = full["pyo3"] + pip["pyo3"] + uvr["pyo3"] + back["pyo3"]
    print(f"\npyo3 recompiled in {recompiles} of the measured builds.")
    if args.keep:
        print(f"project kept at {project.path}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
