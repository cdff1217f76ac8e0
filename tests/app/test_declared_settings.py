"""Settings are declared once: the engine reads nothing else, and every setting the README documents can be set.

The README's settings are found by reading it: the Settings table's first column (``sync.polling_interval``,
``inbound_every`` — a bare name belongs to the section of the first), its secrets (``client_secret``…), and
every backticked ``section.key`` anywhere (``sync.on_qb_delete = {…}``). Each is set with ``qbsf config set`` and
read back; the dashboard's Settings form lists each one a person sets there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.app.context import AppContext
from qbsf.app.dashboard.app import SETTINGS_FORM
from qbsf.app.settings import DICT_SETTINGS, SECRET_KEYS, Settings, load_settings, setting_keys
from qbsf.sync.engine import SyncConfig
from qbsf.sync.inbound import InboundConfig

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("salesforce", "quickbooks", "sync", "dashboard")
TOP_LEVEL = ("state_url", "mappings_dir", "log_dir", "license_key")
# Written by qbsf itself when it logs in, never typed by a person.
LOGIN_TOKENS = ("salesforce.access_token", "salesforce.refresh_token")


def _expand(name: str) -> list[str]:
    match = re.fullmatch(r"(.*)\.\{([^}]*)\}", name)
    return [f"{match.group(1)}.{part.strip()}" for part in match.group(2).split(",")] if match else [name]


def _dict_table(name: str) -> str | None:
    return next((table for table in DICT_SETTINGS if name == table or name.startswith(f"{table}.")), None)


def readme_settings() -> list[str]:
    """Every setting name the README documents (dict settings by their table name)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Settings"):]
    section = section[:section.index("\n## ", 1)]
    found: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        prefix = ""
        for name in re.findall(r"`([^`]+)`", cells[0]):
            if "." in name and name.split(".", 1)[0] not in SECTIONS:
                name = f"{prefix}.{name}"  # `on_sf_gone.<object>` after `sync.…`: a table of the same section
            if "." in name:
                prefix = name.split(".", 1)[0]  # a bare name after it belongs to the same section
                found.extend(_expand(name))
            elif name in TOP_LEVEL:
                found.append(name)
            else:
                found.append(f"{prefix}.{name}")
        if "secrets:" in cells[-1]:
            found.extend(f"{prefix}.{name}" for name in re.findall(r"`([a-z_]+)`", cells[-1].split("secrets:")[1]))
    pattern = r"`((?:" + "|".join(SECTIONS) + r")\.[a-z_]+(?:\.[A-Za-z0-9_]+)?)[^`]*`"
    found.extend(match.group(1) for match in re.finditer(pattern, text))
    keys = setting_keys()
    names = set()
    for name in found:
        if name not in keys and any(key.startswith(f"{name}.") for key in keys):
            continue  # a section (`quickbooks.default_accounts.{…}`): its settings are listed one by one
        names.add(_dict_table(name) or name)
    return sorted(names)


def test_the_readme_documents_settings_this_test_can_find() -> None:
    documented = readme_settings()
    assert {"sync.polling_interval", "sync.inbound_every", "sync.on_qb_delete", "sync.eligibility",
            "quickbooks.default_accounts.income", "salesforce.client_secret", "state_url"} <= set(documented)
    assert len(documented) >= 25


SAMPLES = {
    "salesforce.instance_url": "https://acme.my.salesforce.com", "salesforce.login_url": "https://test.salesforce.com",
    "salesforce.api_version": "61.0", "sync.integration_user_id": "005000000000001AAA",
    "state_url": "sqlite:////tmp/qbsf-state.db", "license_key": "", "dashboard.port": "9876",
    "quickbooks.webconnector_port": "8091", "sync.company_utc_offset_minutes": "120",
    "quickbooks.time_zone": "America/Los_Angeles",
}
DICT_SAMPLES = {"sync.eligibility": ("sync.eligibility.Account", "Type = 'Customer'"),
                "sync.on_qb_delete": ("sync.on_qb_delete.Item", "set:IsActive=false"),
                "sync.line_owner": ("sync.line_owner.Opportunity", "salesforce"),
                "sync.on_sf_gone": ("sync.on_sf_gone.Account", "inactivate")}


def _field(dotted: str) -> Any:
    model: type[BaseModel] = Settings
    parts = dotted.split(".")
    for part in parts[:-1]:
        model = model.model_fields[part].annotation  # type: ignore[assignment]
    return model.model_fields[parts[-1]]


def _sample(dotted: str) -> str:
    if dotted in SAMPLES:
        return SAMPLES[dotted]
    field = _field(dotted)
    choices = getattr(field.annotation, "__args__", ())
    if choices and all(isinstance(choice, str) for choice in choices):
        return choices[-1]  # a Literal: a value other than the default
    if field.annotation is bool:
        return "false" if field.default else "true"
    if field.annotation in (int, float):
        return str(int(field.default) + 1)
    return f"example {dotted.rsplit('.', 1)[-1]}"


@pytest.mark.parametrize("name", readme_settings())
def test_every_setting_the_readme_documents_can_be_set(name: str, config_file: Path, memory_secrets) -> None:
    key, value = DICT_SAMPLES.get(name) or (name, _sample(name))
    result = CliRunner().invoke(app, ["config", "set", key, value], obj=AppContext(secrets=memory_secrets))
    assert result.exit_code == 0, f"qbsf config set {key} {value!r}: {result.output}"
    if key in SECRET_KEYS:
        assert memory_secrets.get(key) == value
        return
    stored = load_settings(config_file).settings
    node: Any = stored
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part)
    assert str(node).casefold() == value.casefold() or node == float(value), (key, node)


def test_the_dashboard_lists_every_documented_setting_a_person_sets_there() -> None:
    # Set elsewhere on the page or outside it: QB Default Accounts have their own form (checked against the chart of
    # accounts), the license its own; where the dashboard, the Web Connector endpoint, the state and the logs live
    # is read once at start (qbsf config set).
    elsewhere = ("quickbooks.default_accounts.", "license_key", "dashboard.", "quickbooks.webconnector_", "state_url",
                 "mappings_dir", "log_dir", *LOGIN_TOKENS)
    form = {key for key, *_rest in SETTINGS_FORM}
    tables = {table for table in DICT_SETTINGS if any(key.startswith(f"{table}.") for key in form)}
    missing = [name for name in readme_settings() if not name.startswith(elsewhere) and name not in form | tables]
    assert missing == [], f"documented in the README but not on the dashboard's Settings form: {missing}"


class _Recorder:
    """Wraps settings and remembers every attribute read through it, as dotted names."""

    def __init__(self, target: Any, prefix: str, seen: set[str]) -> None:
        self._target, self._prefix, self._seen = target, prefix, seen

    def __getattr__(self, name: str) -> Any:
        dotted = f"{self._prefix}{name}"
        self._seen.add(dotted)
        value = getattr(self._target, name)
        return _Recorder(value, f"{dotted}.", self._seen) if isinstance(value, BaseModel) else value


def test_the_engine_reads_only_declared_settings() -> None:
    seen: set[str] = set()
    settings = _Recorder(Settings.model_validate({}), "", seen)
    SyncConfig.from_settings(settings)
    InboundConfig.from_settings(settings)
    declared = set(setting_keys())
    sections = {key.rsplit(".", 1)[0] for key in declared if "." in key}
    undeclared = sorted(name for name in seen if name not in declared and name not in sections)
    assert undeclared == [], f"the engine reads settings the settings model does not declare: {undeclared}"
    assert {"sync.on_qb_delete", "sync.batch_size", "sync.max_attempts"} <= seen


def test_the_running_connector_applies_the_qb_to_sf_settings(tmp_path: Path) -> None:
    """`qbsf run` builds its engine from the settings, so QB → SF settings (deletions, time zone, overlap) apply."""
    from qbsf.app.wiring import EngineServices
    from qbsf.sync.state import StateStore

    settings = Settings.model_validate({
        "quickbooks": {"time_zone": "America/Los_Angeles"},
        "sync": {"on_qb_delete": {"Item": "set:IsActive=false"}, "inbound_overlap_seconds": 30},
        "mappings_dir": str(tmp_path)})
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(settings, None, state)
    try:
        inbound = services._build_engine().inbound.config
        assert inbound.deletion_action("Item").field == "IsActive" and inbound.deletion_action("Item").value is False
        assert inbound.company_tz is not None and str(inbound.company_tz) == "America/Los_Angeles"
        assert inbound.overlap.total_seconds() == 30
    finally:
        services.close()
        state.close()
