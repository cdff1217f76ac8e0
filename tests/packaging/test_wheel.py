"""Installed as users install Python tools, qbsf works outside a checkout: the wheel carries every data file the
program reads (example mappings, the Salesforce package metadata, dashboard templates and static files), and
`qbsf demo --once` passes in a fresh environment on the oldest and the newest supported Python.

The interpreters are found as `python3.11` / `python3.13` on PATH (pyenv's shims, Debian's packages) or under
pyenv's versions folder; QBSF_WHEEL_PYTHONS="/path/to/python3.11 /path/to/python3.13" names them explicitly.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.11", "3.13")  # the oldest and the newest Python qbsf supports
# Each step waits for its process to end; these are only ceilings for a stuck one, generous for a machine under
# heavy load (pip installs the dependencies, the demo syncs through both emulators). A test's own ceiling is the
# sum of its steps', instead of the suite's 300 s per test that a loaded machine can exceed with every step well.
CEILINGS = {"python": 60, "wheel": 600, "venv": 300, "install": 1200, "demo": 600, "checks": 300, "located": 60}


def _works(python: str, version: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=CEILINGS["python"])
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_python(version: str) -> str:
    """An interpreter of ``version`` that can make a venv, or a failure saying how to provide one."""
    named = os.environ.get("QBSF_WHEEL_PYTHONS", "").split()
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [*named, shutil.which(f"python{version}") or "",
                  *sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True),
                  f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for python in candidates:
        if python and _works(python, version):
            return python
    pytest.fail(f"no Python {version} found to test the wheel on (looked for python{version} on PATH, in "
                f"{pyenv_root}/versions and /usr/bin): install it (`pyenv install {version}` or "
                f"`apt-get install python{version}-venv`) or name it in QBSF_WHEEL_PYTHONS", pytrace=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
                   check=True, timeout=CEILINGS["wheel"])
    (built,) = out.glob("qbsf-*.whl")
    return built


@pytest.mark.timeout(CEILINGS["wheel"] + 60)  # the module's wheel is built in this test's set-up
def test_the_wheel_ships_every_data_file_the_program_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for example in (ROOT / "examples" / "mappings").glob("*.csv"):
        assert f"qbsf/_data/mappings/{example.name}" in names
    package = ROOT / "salesforce" / "force-app"
    shipped = {path.relative_to(package).as_posix() for path in package.rglob("*") if path.is_file()}
    assert shipped and {n.removeprefix("qbsf/_data/salesforce/force-app/") for n in names
                        if n.startswith("qbsf/_data/salesforce/force-app/")} == shipped, "the whole force-app tree"
    source = ROOT / "src" / "qbsf" / "app" / "dashboard"
    for part in ("templates", "static"):
        for path in (source / part).iterdir():
            assert f"qbsf/app/dashboard/{part}/{path.name}" in names


_CHECKS = """
from qbsf.sim.salesforce import SalesforceState
assert "QB_Invoice__c" in SalesforceState().schema.objects, "the emulator reads the shipped package metadata"
from fastapi.testclient import TestClient
from qbsf.app.context import AppContext
from qbsf.app.dashboard.app import Dashboard, create_app
from qbsf.app.logging import LogBuffer
board = Dashboard(app_context=AppContext(), log_buffer=LogBuffer(), allowed_hosts=("testserver",))
client = TestClient(create_app(board))
page = client.get("/?token=" + board.token)
assert page.status_code == 200 and "Live Log" in page.text, page.status_code
assert client.get("/static/app.js").status_code == 200
print("checks passed")
"""


@pytest.mark.slow
@pytest.mark.timeout(sum(CEILINGS.values()))  # includes the wheel's build when this test runs alone
@pytest.mark.parametrize("version", SUPPORTED)
def test_installed_wheel_runs_the_demo_outside_a_checkout(wheel: Path, version: str, tmp_path: Path) -> None:
    python = find_python(version)
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=CEILINGS["venv"])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    install = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=CEILINGS["install"])
    assert install.returncode == 0, install.stderr[-3000:]
    home = tmp_path / "home"  # far from the checkout: nothing can be read from it
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBSF_", "PYTHON"))}
    env.update({var: str(home / var.lower()) for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")},
               HOME=str(home), COLUMNS="200")
    demo = subprocess.run([str(bin_dir / "qbsf"), "demo", "--once", "--dir", str(home / "demo")], cwd=home, env=env,
                          capture_output=True, text=True, timeout=CEILINGS["demo"])
    assert demo.returncode == 0, (demo.stdout + demo.stderr)[-4000:]
    assert "✓ every record synced" in demo.stdout
    checks = subprocess.run([str(bin_dir / "python"), "-c", _CHECKS], cwd=home, env=env, capture_output=True,
                            text=True, timeout=CEILINGS["checks"])
    assert checks.returncode == 0 and "checks passed" in checks.stdout, checks.stderr[-3000:]
    located = subprocess.run([str(bin_dir / "python"), "-c", "import qbsf; print(qbsf.__file__)"], cwd=home, env=env,
                             capture_output=True, text=True, timeout=CEILINGS["located"])
    assert str(venv) in located.stdout and str(ROOT) not in located.stdout, "the installed copy ran, not the checkout"
