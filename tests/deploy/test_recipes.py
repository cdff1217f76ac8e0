"""deploy/: the compose file, the nginx site and the systemd units parse, and every command, option, port and
endpoint they name is one qbsf really has."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from qbsf.app import cli
from qbsf.app.workers import HEALTH_PATH, METRICS_PATH, READY_PATH

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SAMPLE = {"POSTGRES_PASSWORD": "secret", "QBSF_HOST": "qbsf.example.com",
          "QBSF_DATABASE_URL": "postgresql+psycopg://qbsf:secret@127.0.0.1/qbsf"}


def _substitute(text: str) -> str:
    """${NAME}, ${NAME:?message} → a sample value, as compose and systemd would from the env file."""
    return re.sub(r"\$\{([A-Z_]+)(?::\?[^}]*)?\}", lambda m: SAMPLE[m.group(1)], text)


def _serve_options(args: list[str]) -> dict[str, object]:
    """Parse ``args`` (after ``qbsf``) with qbsf's own command line; fails on an unknown command or option."""
    group = typer.main.get_command(cli.app)
    assert args[0] == "serve"
    command = group.commands["serve"]  # type: ignore[attr-defined]
    context = command.make_context("serve", list(args[1:]))
    return dict(context.params)


def _nginx() -> str:
    return (DEPLOY / "nginx" / "qbsf.conf").read_text(encoding="utf-8")


def test_compose_runs_qbsf_serve_behind_nginx_with_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "qbsf", "nginx"}
    qbsf = services["qbsf"]
    command = [_substitute(str(part)) for part in qbsf["command"]]
    assert command[0] == "qbsf"
    options = _serve_options(command[1:])
    assert options["workers"] == 4 and options["host"] == "127.0.0.1"
    assert str(options["database"]).startswith("postgresql+psycopg://") and "@postgres/" in str(options["database"])
    assert options["public_url"] == "https://qbsf.example.com/qbwc"
    assert (DEPLOY / qbsf["build"]["dockerfile"].removeprefix("deploy/")).is_file()
    assert f"127.0.0.1:{options['port']}{READY_PATH}" in " ".join(qbsf["healthcheck"]["test"])
    assert services["nginx"]["network_mode"] == "service:qbsf", "nginx reaches qbsf on its loopback address"
    mounted = [volume.split(":")[0] for volume in services["nginx"]["volumes"]]
    assert "./nginx/qbsf.conf" in mounted and (DEPLOY / "nginx" / "qbsf.conf").is_file()
    assert services["qbsf"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert re.search(rf"server 127\.0\.0\.1:{options['port']};", _nginx())


def test_nginx_site_is_well_formed_and_proxies_every_endpoint() -> None:
    site = _nginx()
    depth = 0
    for char in re.sub(r"#.*", "", site):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0, "braces balance"
    for statement in re.findall(r"^\s*([a-z_0-9]+)\s[^;{]*;", re.sub(r"#.*", "", site), flags=re.M):
        assert statement in {"server", "keepalive", "listen", "http2", "server_name", "ssl_certificate",
                             "ssl_certificate_key", "ssl_protocols", "client_max_body_size", "proxy_pass",
                             "proxy_http_version", "proxy_set_header", "proxy_read_timeout", "proxy_next_upstream",
                             "allow", "deny", "return"}, statement
    locations = re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{", site)
    assert {"/qbwc", HEALTH_PATH, READY_PATH, METRICS_PATH} <= set(locations)
    assert "listen 443 ssl;" in site


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def test_systemd_unit_runs_qbsf_serve() -> None:
    unit = _unit("qbsf.service")
    assert "postgresql.service" in unit["Unit"]["After"]
    args = shlex.split(_substitute(unit["Service"]["ExecStart"]))
    assert args[0].endswith("/bin/qbsf")
    options = _serve_options(args[1:])
    assert options["workers"] == 4 and options["host"] == "127.0.0.1"
    assert re.search(rf"server 127\.0\.0\.1:{options['port']};", _nginx()), "nginx proxies to the unit's port"
    assert unit["Service"]["User"] == "qbsf" and unit["Install"]["WantedBy"] == "multi-user.target"
    probe = _unit("qbsf-readiness.service")["Service"]["ExecStart"]
    assert f"127.0.0.1:{options['port']}{READY_PATH}" in probe
    assert _unit("qbsf-readiness.timer")["Timer"]["OnUnitActiveSec"]


@pytest.mark.parametrize("path", ["compose.yaml", "systemd/qbsf.service", "qbsf.env.example"])
def test_recipes_hold_no_real_secret(path: str) -> None:
    text = (DEPLOY / path).read_text(encoding="utf-8")
    assert "BEGIN PRIVATE KEY" not in text
    assert not re.search(r"PASSWORD=(?!change-me\b)\S", text), "placeholders only"
