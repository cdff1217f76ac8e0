"""The connector's settings: environment → TOML file → secret store, validated by pydantic.

Layering, highest priority first:

1. environment variables ``QBSF_…``, nested with ``__`` (``QBSF_SYNC__POLLING_INTERVAL=10``);
2. the TOML file (``--config PATH``, else ``$QBSF_CONFIG``, else ``config.toml`` in the user's config dir);
3. secrets (client secret, tokens, password) from the OS keyring via a ``SecretStore``.

Secrets are never read from nor written to the TOML file; the license key is not a secret and lives there.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import platformdirs
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_serializer,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

APP_NAME = "qbsf"
ENV_PREFIX = "QBSF_"
CONFIG_ENV = "QBSF_CONFIG"

#: Dotted setting names whose values live in the secret store, never in the TOML file.
SECRET_KEYS: tuple[str, ...] = (
    "salesforce.client_secret",
    "salesforce.password",
    "salesforce.access_token",
    "salesforce.refresh_token",
)

MASK = "********"

#: Settings holding a table (one entry per Salesforce object / QuickBooks entity): set one entry with
#: ``qbsf config set sync.eligibility.Account "…"``; an empty value removes the entry.
DICT_SETTINGS: tuple[str, ...] = ("sync.eligibility", "sync.on_qb_delete", "sync.line_owner", "sync.on_sf_gone")


class SecretStoreLike(Protocol):
    """What settings need from ``qbsf.secrets.SecretStore``: get/set/delete by name."""

    def get(self, name: str) -> str | None:
        """Return the stored secret or None."""
        ...

    def set(self, name: str, value: str) -> None:
        """Store a secret."""
        ...

    def delete(self, name: str) -> None:
        """Forget a secret (no error if absent)."""
        ...


def default_config_dir() -> Path:
    """The user's qbsf config directory (platformdirs)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    """The user's qbsf data directory (state database lives here)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_log_dir() -> Path:
    """The user's qbsf log directory."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Which TOML file to use: ``explicit`` (``--config``), else ``$QBSF_CONFIG``, else the user's config dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return default_config_dir() / "config.toml"


class _Section(BaseModel):
    # Unknown keys are almost always typos; refusing them names the bad key instead of silently ignoring it.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SalesforceSettings(_Section):
    """How to reach and authenticate to Salesforce."""

    instance_url: str = Field("", description="Your Salesforce org URL, e.g. https://myorg.my.salesforce.com")
    login_url: str = Field("", description="OAuth login server; blank = the instance URL (e.g. https://test.salesforce.com)")
    client_id: str = Field("", description="Connected App consumer key")
    auth_flow: Literal["client_credentials", "jwt", "password", "web"] = Field(
        "client_credentials", description="OAuth flow used to obtain tokens")
    username: str = Field("", description="Salesforce username (jwt and password flows)")
    jwt_key_file: str = Field("", description="PEM private key file for the jwt flow (or the secret store)")
    api_version: str = Field("62.0", description="REST API version, e.g. 62.0")
    client_secret: SecretStr | None = Field(None, description="Connected App consumer secret (secret store)")
    password: SecretStr | None = Field(None, description="Password + security token (password flow; secret store)")
    access_token: SecretStr | None = Field(None, description="Current access token (secret store)")
    refresh_token: SecretStr | None = Field(None, description="Refresh token (secret store)")

    @field_validator("instance_url", "login_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        # Loopback http is allowed so the demo and tests can talk to the emulator.
        loopback = value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if value and not (value.startswith("https://") or loopback):
            raise ValueError("must start with https:// (e.g. https://myorg.my.salesforce.com)")
        return value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        value = value.strip().lstrip("vV")
        major, _, minor = value.partition(".")
        if not (major.isdigit() and minor.isdigit()):
            raise ValueError("must look like 62.0")
        return value


class QBAccounts(_Section):
    """QB Default Accounts: chart-of-accounts names used when qbsf creates Items in QuickBooks."""

    income: str = Field("", description="Income / Sales account (required for every item type)")
    cogs: str = Field("", description="Cost of Goods Sold account (inventory items)")
    inventory_asset: str = Field("", description="Inventory Asset account (inventory items)")
    expense: str = Field("", description="Default purchase-side account (optional)")
    ar: str = Field("", description="Accounts Receivable account (optional)")


class QuickBooksSettings(_Section):
    """How to reach QuickBooks Desktop."""

    app_name: str = Field("qbsf", description="Application name registered with QuickBooks")
    company_file: str = Field("", description="Full path to the .QBW file; blank = the file open in QuickBooks")
    transport: Literal["", "simulator", "com", "webconnector"] = Field(
        "", description="com (Windows) or webconnector; no default (simulator: tests and the demo only)")
    simulator_path: str = Field("", description="Simulator company file (transport = simulator); blank = in memory")
    webconnector_host: str = Field("127.0.0.1", description="Web Connector SOAP listener host")
    webconnector_port: int = Field(8090, ge=0, le=65535, description="Web Connector SOAP listener port")
    webconnector_cert: str = Field("", description="TLS certificate (PEM) for the Web Connector endpoint; blank = "
                                                   "plain http, allowed on 127.0.0.1 only")
    webconnector_key: str = Field("", description="TLS private key (PEM) for the Web Connector endpoint")
    connect_attempts: int = Field(3, ge=1, le=20, description="Attempts to open a session before giving up")
    time_zone: str = Field("", description="IANA time zone of the computer QuickBooks runs on, e.g. "
                                           "America/Los_Angeles: QuickBooks stamps changes in its local time; "
                                           "blank = this computer's zone with the com transport (QuickBooks runs "
                                           "here); with the Web Connector blank = qbsf reads an extra two hours of "
                                           "changes each pass to be safe")
    default_accounts: QBAccounts = Field(default_factory=QBAccounts)

    @field_validator("time_zone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        from qbsf.quickbooks.timestamps import zone_named

        try:
            zone_named(value)
        except ConfigError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from None
        return value.strip()


class SyncSettings(_Section):
    """How the sync engine runs."""

    polling_interval: float = Field(30, gt=0, le=86400, description="Seconds between sync cycles")
    conflict_policy: Literal["newest", "salesforce", "quickbooks"] = Field(
        "newest", description="Who wins when both sides changed: newest, salesforce or quickbooks")
    change_source: Literal["poll", "queue"] = Field(
        "poll", description="poll (SystemModstamp) or queue (QBSync_Queue__c, needs the Salesforce package)")
    inbound_every: int = Field(1, ge=1, le=10000, description="Run QB → SF every N cycles")
    salesforce_heartbeat: bool = Field(
        True, description="Write the heartbeat and read sync requests in Salesforce (needs the qbsf package)")
    eligibility: dict[str, str] = Field(
        default_factory=dict,
        description="Per Salesforce object, a SOQL WHERE condition a record must meet to sync, "
                    "e.g. Account = \"Type = 'Customer'\"")
    line_owner: dict[str, Literal["both", "salesforce"]] = Field(
        default_factory=dict,
        description="Per Salesforce object with lines (Opportunity): both (default) merges invoice lines line by "
                    "line and keeps lines added in QuickBooks (reported once); salesforce = Salesforce owns the "
                    "lines: lines added in QuickBooks are removed, each with a warning naming line and amount")
    on_sf_gone: dict[str, Literal["report", "inactivate", "memo", "void"]] = Field(
        default_factory=dict,
        description="Per Salesforce object: what qbsf does in QuickBooks when a synced record is deleted, merged "
                    "away or no longer eligible in Salesforce. report (default) tells you only; inactivate marks "
                    "the QuickBooks customer or item inactive; memo notes it on an unpaid invoice (Opportunity); "
                    "void voids an unpaid invoice (a paid one is reported, never voided)")
    lifecycle_check_minutes: float = Field(
        60, ge=0, le=10080, description="Minutes between checks for synced Salesforce records deleted, merged or "
                                        "no longer eligible (0 = every cycle; each check costs a query per object)")
    integration_user_id: str = Field(
        "", description="Salesforce User Id of a dedicated integration user whose own edits are not synced back "
                        "(15 or 18 characters, starts with 005); blank = poll every user's changes")
    on_existing_name: Literal["link", "report"] = Field(
        "link", description="An unlinked QuickBooks record already has the name: link to it, or report a conflict")
    max_attempts: int = Field(5, ge=1, le=100, description="Attempts for a failing record before it is parked "
                                                           "for a person to fix")
    on_qb_delete: dict[str, str] = Field(
        default_factory=dict,
        description="Per QuickBooks entity (Customer, Item, Invoice), what deleting or inactivating it in QuickBooks "
                    "does in Salesforce: record (the activity log only, default) or set:Field=value, "
                    "e.g. Item = \"set:IsActive=false\"")
    default_item_type: Literal["Service", "NonInventory", "Inventory"] = Field(
        "Service", description="QuickBooks item type for a Product2 whose QB_Item_Type__c is blank")
    batch_size: int = Field(1000, ge=1, le=10000, description="Records per batch, each direction (one transaction "
                                                              "of bookkeeping per batch)")
    qb_batch_size: int = Field(200, ge=1, le=1000, description="QuickBooks Add/Mod requests per qbXML message")
    inbound_overlap_seconds: float = Field(
        10, ge=0, le=3600, description="How far the QB → SF delta query reaches back before its watermark (records "
                                       "seen already are skipped)")
    company_utc_offset_minutes: int | None = Field(
        None, ge=-720, le=840, description="The QuickBooks company's UTC offset in minutes; blank = learned from "
                                           "QuickBooks' own time stamps")

    @field_serializer("polling_interval")
    def _whole_seconds(self, value: float) -> float | int:
        # 30, not 30.0, in the TOML file and `config show`
        return int(value) if float(value).is_integer() else value

    @field_validator("integration_user_id")
    @classmethod
    def _salesforce_user_id(cls, value: str) -> str:
        value = value.strip()
        if value and not (len(value) in (15, 18) and value.isalnum() and value.startswith("005")):
            raise ValueError(f"{value!r} is not a Salesforce User Id (15 or 18 letters and digits starting with "
                             f"005; Setup → Users → the user's record URL shows it)")
        return value

    @field_validator("company_utc_offset_minutes", mode="before")
    @classmethod
    def _blank_is_learned(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("on_qb_delete")
    @classmethod
    def _deletion_actions(cls, value: dict[str, str]) -> dict[str, str]:
        from qbsf.sync.inbound import DeletionAction, inbound_spec

        for entity, action in value.items():
            try:
                inbound_spec(entity)
                DeletionAction.parse(action)
            except ConfigError as exc:
                raise ValueError(f"{entity}: {exc}") from None
        return value

    @field_validator("on_sf_gone")
    @classmethod
    def _gone_actions(cls, value: dict[str, str]) -> dict[str, str]:
        """Each object is one qbsf sends to QuickBooks, and its action means something for what it became there
        (a customer can be made inactive, an invoice cannot; an invoice takes a memo): its declaration says."""
        from qbsf.sync.entities import entity, say

        for name, action in value.items():
            try:
                declared = entity(name).declared
            except ConfigError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if action not in declared.sf_gone_actions:
                raise ValueError(f"{name}: {action!r} does nothing to a QuickBooks {declared.qb_word.lower()}; "
                                 f"choose {say(declared.sf_gone_actions)}")
        return value

    @field_validator("eligibility")
    @classmethod
    def _soql_conditions(cls, value: dict[str, str]) -> dict[str, str]:
        for obj, condition in value.items():
            if not obj.replace("_", "").isalnum():
                raise ValueError(f"{obj!r} is not a Salesforce object API name")
            if ";" in condition or condition.count("'") % 2:
                raise ValueError(f"condition for {obj} must be one SOQL WHERE expression with balanced quotes")
        return value


class DashboardSettings(_Section):
    """Where the local dashboard listens."""

    host: str = Field("127.0.0.1", description="Interface to bind; keep 127.0.0.1 unless you know why")
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0 = any free port)")


class Settings(BaseSettings):
    """Every setting of the connector; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_assignment=True,
        case_sensitive=False,
    )

    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
    quickbooks: QuickBooksSettings = Field(default_factory=QuickBooksSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    state_url: str = Field("", description="SQLAlchemy URL of the state database; blank = SQLite in the data dir")
    mappings_dir: str = Field("", description="Folder of mapping CSVs; blank = mappings/ in the config dir")
    log_dir: str = Field("", description="Folder for the JSON log; blank = the user's log dir")
    license_key: str = Field("", description="License key QBSF-…; blank = free edition")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment beats the file + secret-store values, which arrive as init kwargs."""
        return env_settings, init_settings

    def resolved_state_url(self) -> str:
        """The state database URL, defaulting to SQLite in the user's data dir."""
        return self.state_url or f"sqlite:///{default_data_dir() / 'state.db'}"

    def resolved_mappings_dir(self) -> Path:
        """The mappings folder, defaulting to ``mappings/`` in the config dir."""
        return Path(self.mappings_dir).expanduser() if self.mappings_dir else default_config_dir() / "mappings"

    def resolved_log_dir(self) -> Path:
        """The log folder, defaulting to the user's log dir."""
        return Path(self.log_dir).expanduser() if self.log_dir else default_log_dir()


# The same fields as a plain model: validates file contents alone, with no environment layered in.
_FileSettings = create_model(
    "FileSettings", __base__=_Section,
    **{name: (field.annotation, field) for name, field in Settings.model_fields.items()},  # type: ignore[call-overload]
)


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus where they came from (for messages and for saving back)."""

    settings: Settings
    path: Path
    file_exists: bool


def _env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "__").upper()


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the line shown, or delete the file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", hint="check the path and its permissions") from exc


def _get_path(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _del_path(data: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def _explain(exc: ValidationError, path: Path, origin_override: str | None = None) -> ConfigError:
    lines = []
    for err in exc.errors():
        dotted = ".".join(str(p) for p in err["loc"])
        origin = origin_override or (f"environment {_env_name(dotted)}" if _env_name(dotted) in os.environ
                                     else str(path))
        fix = f"qbsf config set {dotted} VALUE" if dotted not in ("", "__root__") else "edit the file"
        if err["type"] == "extra_forbidden":
            lines.append(f"{dotted}: unknown setting (in {origin}); remove it or check the spelling "
                         f"(`qbsf config show` lists every setting)")
        else:
            lines.append(f"{dotted} = {err.get('input')!r}: {err['msg']} (in {origin}); fix with `{fix}`")
    return ConfigError("invalid settings:\n  " + "\n  ".join(lines))


def load_settings(path: str | os.PathLike[str] | None = None, secrets: SecretStoreLike | None = None,
                  ) -> LoadedSettings:
    """Load settings: env → TOML at ``path`` (see :func:`config_path`) → ``secrets``. Raises ConfigError."""
    resolved = config_path(path)
    data = _read_toml(resolved)
    for key in SECRET_KEYS:
        if _get_path(data, key) is not None:
            raise ConfigError(f"{resolved}: {key} must not be stored in the settings file",
                              hint=f"remove it from the file and run `qbsf config set {key} VALUE` "
                                   "(it goes to the OS keyring)")
    if secrets is not None:
        for key in SECRET_KEYS:
            value = secrets.get(key)
            if value:
                _set_path(data, key, value)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise _explain(exc, resolved) from None
    return LoadedSettings(settings=settings, path=resolved, file_exists=resolved.exists())


def _to_toml_data(settings: Settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json", exclude_none=True)
    for key in SECRET_KEYS:
        _del_path(data, key)
    return data


def save_settings(settings: Settings, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``settings`` to TOML (no secrets), atomically, creating the folder; return the path."""
    target = config_path(path)
    _write_toml(target, _to_toml_data(settings))
    return target


def _write_toml(target: Path, data: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(tomli_w.dumps(data).encode("utf-8"))
    os.replace(tmp, target)  # atomic on POSIX and Windows: a crash never leaves half a settings file


def setting_keys() -> list[str]:
    """Every dotted setting name (``sync.polling_interval``…), secrets included, dict-valued ones as a whole."""
    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
            else:
                keys.append(prefix + name)

    walk(Settings, "")
    return keys


def _check_key(key: str, known: list[str]) -> None:
    is_dict_entry = any(key.startswith(f"{table}.") and key.count(".") == table.count(".") + 1
                        for table in DICT_SETTINGS)
    if key not in known and not is_dict_entry:
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run `qbsf config show` for the list"
        raise ConfigError(f"unknown setting {key!r}", hint=hint)


def update_settings(changes: Mapping[str, str], path: str | os.PathLike[str] | None = None,
                    secrets: SecretStoreLike | None = None) -> dict[str, str]:
    """Set several settings at once, all or nothing: validate every change together, then write the TOML file once
    and the secrets. Returns each key's value as stored (secrets masked). An empty secret value deletes it."""
    known = setting_keys()
    for key in changes:
        _check_key(key, known)
    secret_changes = {k: v for k, v in changes.items() if k in SECRET_KEYS}
    if secret_changes and secrets is None:
        key = next(iter(secret_changes))
        raise ConfigError(f"{key} is a secret and no secret store is available",
                          hint=f"set environment variable {_env_name(key)} instead")
    target = config_path(path)
    data = _read_toml(target)
    stored: dict[str, str] = {}
    plain = {k: v for k, v in changes.items() if k not in SECRET_KEYS}
    if plain:
        candidate = tomllib.loads(tomli_w.dumps(data))  # deep copy through the same format we write
        for key, value in plain.items():
            if key.startswith(tuple(f"{table}." for table in DICT_SETTINGS)) and not value.strip():
                _del_path(candidate, key)  # an empty entry means the default (e.g. "every record"): drop it
            else:
                _set_path(candidate, key, value)
        try:
            # model_validate skips the environment: an env override must never be copied into the file
            validated = _FileSettings.model_validate(candidate)
        except ValidationError as exc:
            raise _explain(exc, target, origin_override=f"value given for {target}") from None
        dumped = validated.model_dump(mode="json")
        for key in plain:
            value = _get_path(dumped, key)
            if value is None:
                _del_path(data, key)
                stored[key] = ""
                continue
            _set_path(data, key, value)
            stored[key] = str(value)
        _write_toml(target, data)
        log.info("settings %s changed in %s", ", ".join(plain), target)
    for key, value in secret_changes.items():
        assert secrets is not None  # checked above
        if value:
            secrets.set(key, value)
        else:
            secrets.delete(key)
        stored[key] = MASK if value else ""
    return stored


def set_setting(key: str, value: str, path: str | os.PathLike[str] | None = None,
                secrets: SecretStoreLike | None = None) -> str:
    """Set one setting by dotted name and persist it (secrets to ``secrets``, the rest to TOML).

    Returns the value as stored (masked for secrets). The whole file is re-validated first, so a bad value is refused
    with the setting's name and nothing is written. ``sync.eligibility.Account`` sets one object's condition.
    """
    return update_settings({key: value}, path, secrets)[key]


def setting_sources(path: str | os.PathLike[str] | None = None, secrets: SecretStoreLike | None = None,
                    ) -> dict[str, str]:
    """Where each setting's value comes from: ``environment``, ``file``, ``secret store`` or ``default``."""
    data = _read_toml(config_path(path))
    sources: dict[str, str] = {}
    for key in setting_keys():
        if _env_name(key) in os.environ:
            sources[key] = "environment"
        elif key in SECRET_KEYS:
            sources[key] = "secret store" if secrets is not None and secrets.get(key) else "default"
        elif _get_path(data, key) is not None:
            sources[key] = "file"
        else:
            sources[key] = "default"
    return sources


def masked_view(settings: Settings) -> dict[str, Any]:
    """The settings as a nested dict with every secret masked (set → ``********``, unset → empty)."""
    data = settings.model_dump(mode="json")
    for key in SECRET_KEYS:
        value = _get_path(data, key)
        _set_path(data, key, MASK if value else "")
    return data


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict → ``{"a.b": value}``; dict-valued leaves that are not sections stay whole."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and key not in DICT_SETTINGS:
            out.update(flatten(value, key + "."))
        else:
            out[key] = value
    return out


# ---- QB Default Accounts check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartAccount:
    """One row of the company's chart of accounts: QuickBooks FullName and AccountType."""

    full_name: str
    account_type: str
    is_active: bool = True


def chart_from_records(records: Iterable[Any]) -> list[ChartAccount]:
    """Chart rows from AccountRet data: dicts (the simulator's) or ``qbsf.quickbooks.records.Account`` objects,
    read by qbXML names ``FullName``, ``AccountType``, ``IsActive``."""
    rows = []
    for record in records:
        get = record.get if isinstance(record, Mapping) else (lambda name, default=None, r=record: getattr(
            r, name, default))
        name = get("FullName") or get("Name")
        if not name:
            continue
        active = get("IsActive", True)
        rows.append(ChartAccount(str(name), str(get("AccountType", "") or ""),
                                 is_active=active is None or str(active).lower() not in ("false", "0")))
    return rows


#: Which QuickBooks AccountType values fit each default-account slot.
ACCOUNT_TYPES_FOR: dict[str, tuple[str, ...]] = {
    "income": ("Income", "OtherIncome"),
    "cogs": ("CostOfGoodsSold",),
    "inventory_asset": ("OtherCurrentAsset",),
    "expense": ("Expense", "OtherExpense", "CostOfGoodsSold"),
    "ar": ("AccountsReceivable",),
}

SLOT_LABELS: dict[str, str] = {
    "income": "Income / Sales Account",
    "cogs": "COGS Account",
    "inventory_asset": "Inventory Asset Account",
    "expense": "Expense Account",
    "ar": "AR Account",
}


def check_default_accounts(accounts: QBAccounts, chart: Iterable[ChartAccount | tuple[str, str]]) -> QBAccounts:
    """Check every non-blank default account against the company's chart of accounts.

    Returns the accounts with names normalised to QuickBooks' own spelling (QuickBooks matches names without regard
    to case). Raises ConfigError listing each slot whose name does not exist (with the closest matches) or whose
    account has the wrong type or is inactive.
    """
    rows = [row if isinstance(row, ChartAccount) else ChartAccount(row[0], row[1]) for row in chart]
    by_lower = {row.full_name.casefold(): row for row in rows}
    names = [row.full_name for row in rows]
    problems: list[str] = []
    fixed: dict[str, str] = {}
    for slot, wanted in ACCOUNT_TYPES_FOR.items():
        name = getattr(accounts, slot).strip()
        if not name:
            fixed[slot] = ""
            continue
        label = SLOT_LABELS[slot]
        row = by_lower.get(name.casefold())
        if row is None:
            fitting = [r.full_name for r in rows if r.account_type in wanted]
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5) or fitting[:3]
            suggestion = f"closest: {', '.join(repr(c) for c in close)}" if close else "the chart of accounts is empty"
            problems.append(f"{label}: no account named {name!r} in QuickBooks ({suggestion})")
            continue
        if row.account_type not in wanted:
            fitting = [r.full_name for r in rows if r.account_type in wanted][:3]
            alt = f"; accounts that fit: {', '.join(repr(f) for f in fitting)}" if fitting else ""
            problems.append(f"{label}: {row.full_name!r} is a {row.account_type} account, "
                            f"needs {' or '.join(wanted)}{alt}")
            continue
        if not row.is_active:
            problems.append(f"{label}: {row.full_name!r} is inactive in QuickBooks; make it active or pick another")
            continue
        fixed[slot] = row.full_name
    if problems:
        raise ConfigError("QB Default Accounts refused:\n  " + "\n  ".join(problems),
                          hint="enter names exactly as in QuickBooks → Lists → Chart of Accounts")
    return QBAccounts(**fixed)
