"""`qbsf qwc`: the .qwc file, stable OwnerID/FileID, hashed users; `qbsf qbwc users/serve` refusals."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from lxml import etree
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry, check_app_url, qwc_document

GUID = r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$"


def _qwc(runner: CliRunner, tmp_path, *args: str):
    result = runner.invoke(app, ["qwc", "--registry", str(tmp_path / "reg.json"), *args])
    assert result.exit_code == 0, result.output
    return result


def test_writes_a_qwc_file_with_every_required_field(tmp_path) -> None:
    out = tmp_path / "acme.qwc"
    result = _qwc(CliRunner(), tmp_path, "--company", "acme", "--url", "https://qbsf.example.com/qbwc",
                  "--every", "10", "--out", str(out))
    assert "password (shown once" in result.output
    root = etree.fromstring(out.read_bytes())
    assert root.tag == "QBWCXML"
    fields = {child.tag: (child.text or "") for child in root}
    assert [child.tag for child in root] == ["AppName", "AppID", "AppURL", "AppDescription", "AppSupport",
                                             "UserName", "OwnerID", "FileID", "QBType", "Scheduler", "IsReadOnly"]
    assert fields["AppURL"] == "https://qbsf.example.com/qbwc" and fields["AppSupport"].startswith("https://")
    import re

    assert re.fullmatch(r"acme-qbwc-[0-9a-f]{12}", fields["UserName"]), "a user name nobody can guess"
    assert f"user {fields['UserName']}" in result.output
    assert fields["QBType"] == "QBFS" and fields["IsReadOnly"] == "false"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "10"

    assert re.match(GUID, fields["OwnerID"]) and re.match(GUID, fields["FileID"])


def test_owner_and_file_ids_are_stable_and_distinct_per_company(tmp_path) -> None:
    runner = CliRunner()

    def ids(company: str) -> tuple[str, str]:
        out = tmp_path / f"{company}.qwc"
        _qwc(runner, tmp_path, "--company", company, "--url", "https://h.example/qbwc", "--out", str(out))
        root = etree.fromstring(out.read_bytes())
        return root.findtext("OwnerID"), root.findtext("FileID")

    acme, globex, acme_again = ids("acme"), ids("globex"), ids("acme")
    assert acme == acme_again, "rewriting the file must not change the ids (QBWC1039)"
    assert acme[0] == globex[0] and acme[1] != globex[1]


def test_registry_keeps_only_a_password_hash_readable_by_its_owner(tmp_path) -> None:
    _qwc(CliRunner(), tmp_path, "--company", "acme", "--url", "https://h.example/qbwc", "--password",
         "correct horse battery", "--out", str(tmp_path / "a.qwc"), "--company-file", r"C:\QB\Acme.QBW",
         "--user", "acme-qbwc")  # an explicit user name is kept as given
    registry_file = tmp_path / "reg.json"
    text = registry_file.read_text()
    assert "correct horse" not in text
    if os.name == "posix":
        assert stat.S_IMODE(registry_file.stat().st_mode) == 0o600
    entry = json.loads(text)["companies"]["acme"]
    assert entry["company_file"] == r"C:\QB\Acme.QBW"
    users = WebConnectorRegistry.load(registry_file).users()
    assert users.authenticate("acme-qbwc", "correct horse battery").company == "acme"
    listing = CliRunner().invoke(app, ["qbwc", "users", "--registry", str(registry_file)])
    assert "acme: user acme-qbwc" in listing.output and "password set" in listing.output


@pytest.mark.parametrize("url, ok", [
    ("https://qbsf.example.com/qbwc", True), ("http://localhost:8090/qbwc", True), ("http://127.0.0.1/qbwc", True),
    ("http://qbsf.example.com/qbwc", False), ("ftp://x/qbwc", False), ("qbsf.example.com", False),
])
def test_plain_http_is_refused_unless_localhost(url: str, ok: bool) -> None:
    if ok:
        assert check_app_url(url) == url
    else:
        with pytest.raises(ConfigError):
            check_app_url(url)


@pytest.mark.parametrize("args, message", [
    (["--company", "../etc", "--url", "https://h.example/qbwc"], "not usable"),
    (["--company", "acme", "--url", "https://h.example/qbwc", "--password", "short"], "shorter than 8"),
    (["--company", "acme", "--url", "https://h.example/qbwc", "--every", "0"], "out of range"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["qwc", "--registry", str(tmp_path / "r.json"), "--out",
                                      str(tmp_path / "x.qwc"), *args])
    assert isinstance(result.exception, ConfigError) and message in str(result.exception)
    assert not (tmp_path / "x.qwc").exists() and not (tmp_path / "r.json").exists()


def test_the_console_script_prints_the_refusal_and_exits_2(tmp_path, monkeypatch, capsys) -> None:
    from qbsf.app.cli import main

    monkeypatch.setattr(sys, "argv", ["qbsf", "qwc", "--registry", str(tmp_path / "r.json"), "--out",
                                      str(tmp_path / "x.qwc"), "--company", "acme", "--url",
                                      "http://public.example/qbwc"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "plain http" in err and "Traceback" not in err
    assert not (tmp_path / "x.qwc").exists()


def test_generated_user_names_differ_and_a_registered_company_keeps_its_own(tmp_path) -> None:
    runner = CliRunner()

    def user_of(company: str, *extra: str) -> str:
        out = tmp_path / f"{company}.qwc"
        _qwc(runner, tmp_path, "--company", company, "--url", "https://h.example/qbwc", "--out", str(out), *extra)
        return etree.fromstring(out.read_bytes()).findtext("UserName")

    first = user_of("acme")
    assert user_of("acme") == first, "rewriting the .qwc must not change the user the Web Connector knows"
    assert user_of("acme", "--every", "15") == first
    other = user_of("globex")
    assert other.startswith("globex-qbwc-") and other[-12:] != first[-12:]
    assert user_of("acme", "--user", "acme-sync") == "acme-sync"


def test_a_user_name_serves_one_company(tmp_path) -> None:
    registry = WebConnectorRegistry.load(tmp_path / "reg.json")
    registry.register("acme", username="shared", password="password-1")
    with pytest.raises(ConfigError, match="already serves company 'acme'"):
        registry.register("globex", username="shared", password="password-2")


def test_an_unreadable_registry_is_reported_not_replaced(tmp_path) -> None:
    broken = tmp_path / "reg.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        WebConnectorRegistry.load(broken)
    assert broken.read_text() == "{not json"


def test_serve_refuses_to_start_without_users_or_with_half_tls(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["qbwc", "serve", "--registry", str(tmp_path / "none.json"), "--port", "0"])
    assert isinstance(result.exception, ConfigError) and "no Web Connector user" in str(result.exception)
    registry = WebConnectorRegistry.load(tmp_path / "reg.json")
    registry.register("acme", password="password-1")
    registry.save()
    result = runner.invoke(app, ["qbwc", "serve", "--registry", str(tmp_path / "reg.json"), "--port", "0",
                                 "--cert", str(tmp_path / "c.pem")])
    assert isinstance(result.exception, ConfigError) and "both a certificate and its key" in str(result.exception)


def test_qwc_document_escapes_and_checks_urls() -> None:
    doc = qwc_document(app_name="qbsf - A&B", app_url="https://h.example/qbwc", app_support="https://h.example/",
                       username="a<b", owner_id="{O}", file_id="{F}", run_every_minutes=5)
    root = etree.fromstring(doc)
    assert root.findtext("AppName") == "qbsf - A&B" and root.findtext("UserName") == "a<b"
    with pytest.raises(ConfigError):
        qwc_document(app_name="x", app_url="https://h.example/qbwc", app_support="http://evil.example/",
                     username="u", owner_id="{O}", file_id="{F}", run_every_minutes=5)


def test_serve_runs_the_endpoint_until_interrupted(tmp_path, quickbooks) -> None:
    import re
    import signal

    import httpx

    from qbsf.sim.webconnector import WebConnectorStandIn

    registry = WebConnectorRegistry.load(tmp_path / "reg.json")
    registry.register("acme", password="password-acme")
    registry.save()
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "qbwc", "serve", "--no-engine", "--port", "0",
                             "--registry", str(tmp_path / "reg.json")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/qbwc)", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        url = match.group(1)
        assert "no sync engine" in line
        assert httpx.get(url + "?wsdl").status_code == 200
        with WebConnectorStandIn(url, "acme-qbwc", "password-acme", quickbooks) as wc:
            assert wc.run_session().auth_status == "none"
        with WebConnectorStandIn(url, "acme-qbwc", "wrong-password", quickbooks) as wc:
            assert wc.run_session().auth_status == "nvu"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr.read()
