"""Bounded fuzzing: hypothesis suites over every parser that reads outside input (docs/security.md, *Fuzzing*).

`make test` runs a short, repeatable pass (fixed seed, a few hundred cases per target). `make fuzz` sets
``QBSF_FUZZ_EXAMPLES`` (cases per target) and runs random cases for much longer. Every case is bounded in time:
a case that takes more than ``QBSF_FUZZ_CASE_SECONDS`` (default 10) is interrupted and reported as a failure.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings

#: Cases per target for `make fuzz` (0 = the short, fixed-seed pass of `make test`).
DEEP_EXAMPLES = int(os.environ.get("QBSF_FUZZ_EXAMPLES", "0") or 0)
CASE_SECONDS = float(os.environ.get("QBSF_FUZZ_CASE_SECONDS", "10"))


def _profile(examples: int) -> settings:
    return settings(max_examples=DEEP_EXAMPLES or examples, deadline=timedelta(seconds=CASE_SECONDS),
                    derandomize=not DEEP_EXAMPLES, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


# One profile per size of target: parsers are cheap, HTTP round trips dearer.
settings.register_profile("qbsf-fuzz-fast", _profile(300))
settings.register_profile("qbsf-fuzz-http", _profile(120))
settings.register_profile("qbsf-fuzz-cli", _profile(15))


class CaseTimeout(Exception):
    """A fuzz case ran past its time bound (a hang or a runaway loop)."""


@contextmanager
def _bounded(seconds: float = CASE_SECONDS) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"one case ran over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def bounded() -> Callable[..., Any]:
    """``with bounded(): …`` — interrupt the case after CASE_SECONDS (SIGALRM; the main thread only)."""
    return _bounded


class Counter:
    """Counts the cases a target ran and the time they took (printed in the fuzz report)."""

    totals: ClassVar[dict[str, list[float]]] = {}

    def __init__(self, name: str) -> None:
        self.name = name
        self.totals.setdefault(name, [0, 0.0])

    @contextmanager
    def case(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            with _bounded():
                yield
        finally:
            entry = self.totals[self.name]
            entry[0] += 1
            entry[1] += time.monotonic() - started


@pytest.fixture
def fuzz_case() -> Callable[[str], Counter]:
    """``count = fuzz_case("target")`` then ``with count.case(): …`` per case: time-bounded and counted."""
    return Counter


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per fuzz target: cases run and the time they took."""
    if not Counter.totals:
        return
    terminalreporter.write_sep("-", "fuzz cases")
    for name, (cases, seconds) in sorted(Counter.totals.items()):
        terminalreporter.write_line(f"{name}: {int(cases)} cases in {seconds:.1f} s")
    cases = sum(int(entry[0]) for entry in Counter.totals.values())
    seconds = sum(entry[1] for entry in Counter.totals.values())
    terminalreporter.write_line(f"all fuzz targets: {cases} cases in {seconds:.1f} s")
