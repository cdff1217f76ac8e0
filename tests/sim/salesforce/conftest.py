"""Real Node.js Salesforce clients (jsforce, the Salesforce CLI) from tests/node, installed by `make node-deps`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parents[2] / "node"
MODULES = NODE_DIR / "node_modules"
SF_BIN = MODULES / "@salesforce" / "cli" / "bin" / "run.js"
# What keeps the CLI local: no telemetry, no update or version checks, no release notes, a file keychain.
SF_QUIET = {"SF_DISABLE_TELEMETRY": "true", "SFDX_DISABLE_TELEMETRY": "true", "SF_AUTOUPDATE_DISABLE": "true",
            "SFDX_AUTOUPDATE_DISABLE": "true", "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_HIDE_RELEASE_NOTES": "true",
            "SF_HIDE_RELEASE_NOTES_FOOTER": "true", "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "SF_DISABLE_DNS_CHECK": "true", "SF_LOG_LEVEL": "warn", "FORCE_COLOR": "0", "NO_COLOR": "1"}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install Node.js 20+ (apt-get install -y nodejs npm), then `make node-deps`")
    if not (MODULES / "jsforce").is_dir() or not SF_BIN.is_file():
        pytest.fail(f"{MODULES} lacks jsforce or @salesforce/cli: run `make node-deps` (npm ci in tests/node)")
    return node


def _node_env(emulator: Any, home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    return {**keep, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"), "XDG_DATA_HOME": str(home / ".local" / "share"),
            "NODE_EXTRA_CA_CERTS": str(emulator.ca_path), **SF_QUIET}


@pytest.fixture
def jsforce(sf_emulator_tls, tmp_path) -> Callable[..., dict[str, Any]]:
    """``jsforce(scenario)``: run one scenario of tests/node/jsforce_scenarios.cjs against the emulator."""
    node = _node()
    emulator = sf_emulator_tls
    token = emulator.login()["access_token"]

    def run(scenario: str, **extra: str) -> dict[str, Any]:
        env = {**_node_env(emulator, tmp_path), "QBSF_SF_URL": emulator.url, "QBSF_SF_TOKEN": token,
               "QBSF_SF_USERNAME": emulator.username, "QBSF_SF_PASSWORD": emulator.password, **extra}
        done = subprocess.run([node, str(NODE_DIR / "jsforce_scenarios.cjs"), scenario], env=env, cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"jsforce scenario {scenario} failed:\n{done.stderr[-3000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


@dataclass
class SfCli:
    """The Salesforce CLI logged into the emulator (alias ``emu``), with its home in a temporary folder."""

    node: str
    env: dict[str, str]
    cwd: Path
    emulator: Any
    login: dict[str, Any] | None = None  # the login command's JSON answer

    def run(self, *args: str, ok: bool = True) -> dict[str, Any]:
        """``sf <args> --json``: the parsed JSON answer; ``ok`` says whether the command must succeed."""
        done = self.raw(*args, "--json")
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"sf {' '.join(args)} printed no JSON:\n{done.stdout}\n{done.stderr}") from None
        if ok:
            assert done.returncode == 0 and answer.get("status") == 0, f"sf {' '.join(args)} failed: {answer}"
        else:
            assert done.returncode != 0 and answer.get("status") != 0, f"sf {' '.join(args)} did not fail: {answer}"
        return answer

    def raw(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``sf <args>`` as a person would, returning the finished process (stdout, stderr, returncode)."""
        return subprocess.run([self.node, str(SF_BIN), *args], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def sf_cli(sf_schema, tmp_path_factory) -> Iterator[SfCli]:
    """The `sf` CLI after ``sf org login access-token --instance-url <emulator> --alias emu``.

    One emulator and one login per test module (each `sf` start costs seconds): tests use their own record names.
    """
    from qbsf.sim.salesforce import SalesforceState, start_emulator

    node = _node()
    emulator = start_emulator(SalesforceState(sf_schema), ssl=True)
    root = tmp_path_factory.mktemp("sf-cli")
    home, work = root / "home", root / "work"
    home.mkdir()
    work.mkdir()
    env = _node_env(emulator, home)
    cli = SfCli(node, {**env, "SF_ACCESS_TOKEN": emulator.login()["access_token"]}, work, emulator)
    try:
        cli.login = cli.run("org", "login", "access-token", "--instance-url", emulator.url, "--alias", "emu",
                            "--no-prompt")
        cli.env = env
        yield cli
    finally:
        emulator.stop()
