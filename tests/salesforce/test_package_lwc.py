"""The package's Lightning web components: each has jest tests (sfdx-lwc-jest), and they pass."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "salesforce"
LWC = PROJECT / "force-app" / "main" / "default" / "lwc"
JEST = PROJECT / "node_modules" / "@salesforce" / "sfdx-lwc-jest" / "bin" / "sfdx-lwc-jest"


def _components() -> list[Path]:
    return sorted(p for p in LWC.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))


def test_every_component_has_jest_tests() -> None:
    components = _components()
    assert components, "no Lightning web components in the package"
    for component in components:
        assert list((component / "__tests__").glob("*.test.js")), f"{component.name}: add __tests__/*.test.js"


def test_lwc_jest_passes(tmp_path: Path) -> None:
    if not JEST.is_file():
        pytest.fail("sfdx-lwc-jest is not installed: run `make salesforce-tools`")
    report = tmp_path / "jest.json"
    result = subprocess.run(
        ["node", str(JEST), "--", "--ci", "--json", f"--outputFile={report}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    summary = json.loads(report.read_text())
    assert summary["numFailedTests"] == 0 and summary["numTotalTests"] >= len(_components())
    tested = {Path(suite["name"]).parent.parent.name for suite in summary["testResults"]}
    assert tested == {c.name for c in _components()}, "every component's suite ran"


def test_components_are_prettier_formatted() -> None:
    prettier = PROJECT / "node_modules" / "prettier" / "bin" / "prettier.cjs"
    if not prettier.is_file():
        pytest.fail("prettier is not installed: run `make salesforce-tools`")
    result = subprocess.run(["node", str(prettier), "--check", "force-app/**/lwc/**/*.{js,html}"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False)
    fix = "run `cd salesforce && npx prettier --write 'force-app/**/lwc/**/*.{js,html}'`"
    assert result.returncode == 0, f"{fix}:\n{result.stdout}{result.stderr}"
