"""Hypothesis profiles for the property tests, and the end-of-session count of
hostile calls and of PanicExceptions (which must stay 0)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import helpers

# Debug builds are slow: no deadline. `HYPOTHESIS_PROFILE=release` (the
# `properties` nox session, on a release build) runs five times the examples;
# `HYPOTHESIS_PROFILE=quick` a fifth, for a fast pass (e.g. a CI matrix that
# runs the full profiles elsewhere).
settings.register_profile(
    "quick",
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "debug",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "release",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "debug"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not helpers.CALLS:
        return
    terminalreporter.section("hostile input (tests/helpers.py outcome)")
    width = max(len(name) for name in helpers.CALLS)
    for name, calls in sorted(helpers.CALLS.items()):
        terminalreporter.write_line(f"{name:<{width}}  {calls:>7} calls")
    terminalreporter.write_line(f"PanicException: {sum(helpers.PANICS.values())}")
