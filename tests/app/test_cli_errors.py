"""No traceback reaches a user: every command ends an unexpected error with one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qbsf.app import cli
from qbsf.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


def account_mapping() -> Path:
    return next(path for path in sorted(EXAMPLES.glob("*.csv")) if "Acct_to_Customer" in path.name)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    out, err = capsys.readouterr()
    return int(stopped.value.code or 0), out, err


def test_deeply_nested_record_json_is_one_line_naming_the_file(tmp_path: Path) -> None:
    record = tmp_path / "deep.json"
    record.write_text("[" * 100_000)
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "mapping", "apply", str(account_mapping()),
                           "--record", str(record)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(record) in lines[0] and "nested too deeply" in lines[0]


def test_deeply_nested_lookups_json_is_one_line_naming_the_file(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    record, lookups = tmp_path / "record.json", tmp_path / "lookups.json"
    record.write_text('{"Name": "Acme"}')
    lookups.write_text('{"a":' * 5000 + "1" + "}" * 5000)
    code, _out, err = run_main(["mapping", "apply", str(account_mapping()), "--record", str(record),
                                "--lookups", str(lookups)], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and str(lookups) in err and "nested too deeply" in err


def test_an_unexpected_error_in_any_command_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import qbsf.app.commands.mapping as mapping_commands

    def broken(path: Path) -> None:
        raise KeyError("password=hunter22 [bold]x")

    monkeypatch.setattr(mapping_commands, "load_mapping", broken)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, _out, err = run_main(["mapping", "check", "--", "secret-file.csv"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("✗ qbsf mapping check stopped") and "KeyError" in err and "QBSF_DEBUG=1" in err
    assert "hunter22" not in err  # the message is redacted like a log line
    assert "[bold]" in err  # shown as text, not taken for markup


def test_the_traceback_is_logged_at_debug_level_only(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import qbsf.app.commands.mapping as mapping_commands

    def broken(path: Path) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(mapping_commands, "load_mapping", broken)
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    code, _out, err = run_main(["mapping", "check", "x.csv"], capsys)
    assert code == 2 and "Traceback (most recent call last)" in err and "ZeroDivisionError: boom" in err
    assert err.strip().splitlines()[-1].startswith("✗ qbsf mapping check stopped")


def test_a_long_qbsf_error_stays_on_one_line(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import qbsf.app.commands.mapping as mapping_commands

    def refused(path: Path) -> None:
        raise ConfigError("x" * 300 + " [red]not markup[/red]", hint="do this")

    monkeypatch.setattr(mapping_commands, "load_mapping", refused)
    code, _out, err = run_main(["mapping", "check", "x.csv"], capsys)
    assert code == 2 and err.count("\n") == 1 and "[red]not markup[/red] → do this" in err


def test_the_command_name_never_carries_values() -> None:
    line = cli.unexpected_error_line(ValueError("bad"), ["qwc", "--password", "s3cret-value", "--company", "x"])
    assert line.startswith("qbsf qwc stopped") and "s3cret" not in line
    assert cli.unexpected_error_line(RecursionError(), ["qb", "parse", "/tmp/a.xml"]).startswith(
        "qbsf qb parse stopped: the input is nested too deeply")


@pytest.mark.parametrize(("argv", "words"), [
    (["sync", "--bogus"], ("qbsf sync: no such option: --bogus", "`qbsf sync --help`")),
    (["config", "set"], ("qbsf config set: missing argument 'key'", "`qbsf config set --help`")),
    (["nosuch"], ("qbsf: no such command 'nosuch'", "`qbsf --help`")),
    (["bench", "outbound", "--accounts", "many"], ("invalid value for '--accounts'", "`qbsf bench outbound --help`")),
])
def test_a_command_line_mistake_is_one_line_naming_the_command_and_its_help(
        argv: list[str], words: tuple[str, ...]) -> None:
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", *argv], capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert "╭" not in done.stderr and "Traceback" not in done.stderr
