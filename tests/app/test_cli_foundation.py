import subprocess
import sys

from typer.testing import CliRunner

from qbsf import __version__
from qbsf.app.cli import app


def test_version_command_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "QuickBooks" in done.stdout
