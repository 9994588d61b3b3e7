"""Build checks: a variant is rendered and compiled once per run (see
conftest.build_variant), then imported, called and compared with NumPy.
`custom` (every feature, with the other answers that change code: names,
license, python_min, abi3 off, awkward free text) is built here; `all`, the
lean default and minimal are built and tested by their own ``nox`` (the
template's ``project`` sessions), so building `all` here too would only
repeat that (CI time)."""

from __future__ import annotations

import os
import re
import sys

import pytest
from helpers import run

pytestmark = pytest.mark.build

NUMPY_CHECK = """
import numpy as np
import {pkg} as m

rng = np.random.default_rng(7)
w = rng.standard_normal(1001).astype(np.float32)
x = rng.standard_normal(1001).astype(np.float32)
ref = float(np.dot(w.astype(np.float64), x.astype(np.float64)))
assert abs(m.fast_predict(w.tolist(), x.tolist()) - ref) < 1e-3, "lists"
assert abs(m.fast_predict_array(w, x) - ref) < 1e-3, "arrays"
img = rng.random((32, 16, 3), dtype=np.float32)
assert np.array_equal(m.process_image(img), img * 2), "process_image"
assert np.array_equal(m.process_image(img.transpose(2, 0, 1)), img.transpose(2, 0, 1) * 2)
model = m.Model(w[:8], bias=0.5)
batch = rng.standard_normal((300, 8)).astype(np.float32)
assert np.allclose(model.predict_batch(batch), batch @ w[:8] + np.float32(0.5), atol=1e-5)
# Inputs convert as NumPy would (a copy); empty inputs give NumPy's answer.
assert np.array_equal(m.process_image(img.astype(np.float64)), img * 2), "float64 image"
assert m.process_image([1.0]).tolist() == [2.0], "list image"
assert m.process_image(np.ones(0, np.float32)).shape == (0,), "empty image"
assert m.fast_predict([], []) == 0.0, "empty dot"
for call, exc in [
    (lambda: m.process_image(img.astype(np.complex64)), TypeError),
    (lambda: m.process_image(img, out=np.empty(img.shape)), TypeError),
    (lambda: m.process_image(img, out=np.broadcast_to(np.float32(0), img.shape)), ValueError),
    (lambda: m.fast_predict_array(w.reshape(7, 143), x), ValueError),
    (lambda: m.fast_predict_array(w, x[:5]), ValueError),
    (lambda: model.predict_batch(batch[:, :3]), ValueError),
    (lambda: m.load_model("/no/such/model.json"), FileNotFoundError),
]:
    try:
        call()
    except exc:
        pass
    else:
        raise AssertionError(f"expected {{exc.__name__}}")
print("numpy-ok", m.__version__)
"""


@pytest.fixture(scope="module")
def built(build_variant):
    return build_variant("custom")


def test_article_example_prints_1_4(built) -> None:
    out = built.python(
        "-c", f"import {built.package} as m; print(m.fast_predict([0.1,0.2,0.3],[1,2,3]))"
    ).stdout
    assert float(out) == pytest.approx(1.4, rel=1e-6)


def test_built_module_matches_numpy_and_raises_on_bad_input(built) -> None:
    out = built.python("-c", NUMPY_CHECK.format(pkg=built.package)).stdout
    assert out.startswith("numpy-ok 0.1.0")


# The deployment features' tests (servers, fetches, clusters) and the property
# tests run in `project(all)` and the feature matrix; here the rest, which is
# what the custom answers (names, abi3 off, python_min) could break (CI time).
ELSEWHERE = [
    "-m",
    "not properties",
    *(f"--ignore-glob=tests/test_{f}*" for f in ["serving", "async_io", "distributed"]),
]


def test_rendered_projects_own_tests_pass(built) -> None:
    result = built.python("-m", "pytest", "-q", "-p", "no:cacheprovider", *ELSEWHERE, "tests")
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 50, summary
    assert "failed" not in summary and "error" not in summary


def test_stub_matches_the_built_module(built) -> None:
    stubtest = ["-m", "mypy.stubtest", f"{built.package}._core", "--mypy-config-file", os.devnull]
    env = {**built.env, "MYPYPATH": str(built.project / "python")}
    run([sys.executable, *stubtest], cwd=built.project, env=env)


def test_mixed_usage_example_runs(built) -> None:
    out = built.python("examples/mixed_usage.py").stdout
    assert "fast_predict: 1.4" in out and "process_image: (256, 256, 3)" in out


def test_pure_rust_core_needs_no_python(built) -> None:
    env = {k: v for k, v in built.env.items() if not k.startswith(("PYO3_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    tree = run(
        ["cargo", "tree", "--no-default-features", "-e", "normal"], cwd=built.project, env=env
    ).stdout
    assert "pyo3" not in tree and "numpy" not in tree
    tests = run(["cargo", "test", "--no-default-features"], cwd=built.project, env=env)
    assert re.search(r"test result: ok\. ([1-9]\d*) passed", tests.stdout), tests.stdout
    pure_rust = ["--quiet", "--example", "pure_rust", "--no-default-features"]
    example = run(["cargo", "run", *pure_rust], cwd=built.project, env=env)
    assert "thread 0: prediction 1.4000" in example.stdout
    assert "missing file reported as I/O error" in example.stdout
