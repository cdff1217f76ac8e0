"""The crash-point hook kills the process only at the named point (and only at its n-th hit)."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = (
    "from qbsf.sync.crash import crash_point\n"
    "for i in range(3):\n"
    "    crash_point('after_qb_write')\n"
    "    print('passed', i, flush=True)\n"
)


def _run(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QBSF_CRASH_AT"}
    if value is not None:
        env["QBSF_CRASH_AT"] = value
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)


def test_no_variable_no_crash() -> None:
    result = _run(None)
    assert result.returncode == 0 and result.stdout.count("passed") == 3


def test_other_point_no_crash() -> None:
    assert _run("after_journal").returncode == 0


def test_crash_at_nth_hit_with_sigkill() -> None:
    result = _run("after_qb_write:2")
    assert result.returncode == -9
    assert result.stdout.splitlines() == ["passed 0"]
