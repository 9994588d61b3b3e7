"""Benchmarks: the Rust extension against NumPy or pure Python, one table of
speed-ups measured in this run.

Run with ``nox -s bench`` (builds the release profile first); ``--quick`` for a
short smoke run. Every ``benchmarks/bench_*.py`` defines ``cases(quick)``
returning a list of ``Case``; each case checks that both sides agree before it
is timed, so a fast wrong answer cannot show up as a speed-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class Case:
    name: str  # what is measured
    unit: str  # what `count` counts: "rows", "floats", "steps", "strings"
    count: int  # units processed per call
    rust: Callable[[], Any]
    baseline: Callable[[], Any]
    baseline_name: str  # "NumPy", "pure Python", ...
    check: Callable[[Any, Any], None]  # raises if the two results disagree


def seconds_per_call(fn: Callable[[], Any], repeats: int) -> float:
    """Best of `repeats` rounds, each long enough (autorange) to time reliably."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeats, number=number)) / number


def load_cases(quick: bool) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.cases(quick))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer rounds")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))  # bench_*.py import `run.Case`
    repeats = 2 if args.quick else 5

    print(f"Python {platform.python_version()} on {platform.machine()}, best of {repeats}\n")
    print("| case | baseline | Rust | baseline speed | Rust speed | speed-up |")
    print("|---|---|---|---|---|---|")
    for case in load_cases(args.quick):
        case.check(case.rust(), case.baseline())
        rust = seconds_per_call(case.rust, repeats)
        base = seconds_per_call(case.baseline, repeats)
        print(
            f"| {case.name} | {case.baseline_name} | {rust * 1e3:.3f} ms "
            f"| {case.count / base:,.0f} {case.unit}/s | {case.count / rust:,.0f} {case.unit}/s "
            f"| {base / rust:.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
