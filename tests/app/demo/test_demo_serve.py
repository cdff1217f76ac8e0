"""`qbsf demo` without --once: prints the dashboard URL and token, syncs, and Ctrl-C stops everything cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update({var: str(home / var.lower()) for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
    env.update(PYTHONUNBUFFERED="1", COLUMNS="250")  # error lines unwrapped
    return env


def _wait(predicate, timeout: float, what: str, output: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what}; qbsf demo said:\n" + "".join(output)[-3000:])
        threading.Event().wait(0.1)


def test_demo_serves_the_dashboard_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(tmp_path / "demo"),
                             "--port", "0"], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        _wait(lambda: any(line.startswith("Dashboard: http://127.0.0.1:") for line in lines), 180, "dashboard URL",
              lines)
        url = next(line for line in lines if line.startswith("Dashboard: ")).split(" ", 1)[1].strip()
        token = url.split("token=", 1)[1]
        assert any(line.startswith(f"Token: {token}") for line in lines)
        base = url.split("/?", 1)[0]
        headers = {"Authorization": f"Bearer {token}"}
        status: dict = {}

        def cycle_done() -> bool:
            nonlocal status
            status = httpx.get(f"{base}/api/status", headers=headers, timeout=10).json()
            return bool(status.get("last_cycle"))

        _wait(cycle_done, 240, "finished cycle", lines)  # generous: a loaded 2-core CI machine, every add-on seeded
        assert status["salesforce"] and status["quickbooks"], status
        assert status["last_cycle"]["failed"] == 0 and status["last_cycle"]["synced"] > 100, status["last_cycle"]
        activity = httpx.get(f"{base}/api/activity", headers=headers, timeout=10).json()
        assert {row["entity"] for row in activity["activity"]} & {"Account", "QB_Invoice__c", "Opportunity"}
        settings = (tmp_path / "demo" / "config.toml").read_text()
        second = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(tmp_path / "demo"),
                                 "--once"], env=_env(tmp_path), capture_output=True, text=True, timeout=180)
        assert second.returncode == 2 and "another qbsf connector" in second.stderr, second.stderr[-2000:]
        assert (tmp_path / "demo" / "config.toml").read_text() == settings, "the running demo's settings are kept"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
    output = "".join(lines)
    assert output.rstrip().endswith("✓ Sync engine stopped"), output[-2000:]
    assert "Traceback" not in output and "qbsf-demo-secret" not in output
    log_file = (tmp_path / "demo" / "logs" / "qbsf.jsonl").read_text(encoding="utf-8")
    assert token not in log_file and "qbsf-demo-secret" not in log_file


def test_bad_demo_folders_are_clear_errors(tmp_path: Path, config_file: Path) -> None:
    import pytest

    from qbsf.app.demo import DemoStack
    from qbsf.errors import ConfigError

    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(a_file), "--once"],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{a_file} is a file, not a folder" in done.stderr

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "salesforce.sqlite").write_text("not a database")
    with pytest.raises(ConfigError) as refused:
        DemoStack(broken, console=False).start()
    assert f"the demo data in {broken} cannot be read" in str(refused.value)
    assert "qbsf demo --reset" in str(refused.value.hint)
    # --reset removes only what the demo wrote, then starts over
    (broken / "notes.txt").write_text("mine")
    stack = DemoStack(broken, console=False)
    stack.reset()
    stack.start()
    try:
        assert stack.first_start and stack.seeded.accounts == 24 and len(stack.org.records("Account")) == 24
    finally:
        stack.close()
    assert (broken / "notes.txt").read_text() == "mine"
