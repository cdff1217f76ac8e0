import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.app.context import AppContext
from qbsf.app.settings import (
    MASK,
    ChartAccount,
    QBAccounts,
    Settings,
    check_default_accounts,
    config_path,
    load_settings,
    masked_view,
    save_settings,
    set_setting,
    setting_keys,
)
from qbsf.errors import ConfigError


def test_defaults_match_the_manual(config_file: Path) -> None:
    loaded = load_settings()
    assert loaded.path == config_file
    assert not loaded.file_exists
    s = loaded.settings
    assert s.sync.polling_interval == 30
    assert s.sync.inbound_every == 1
    assert s.quickbooks.transport == "", "no transport is assumed: the user chooses com or webconnector"
    assert s.dashboard.host == "127.0.0.1"
    assert s.resolved_state_url().startswith("sqlite:///")


def test_explicit_path_beats_env(config_file: Path, tmp_path: Path) -> None:
    assert config_path(tmp_path / "other.toml") == tmp_path / "other.toml"
    assert config_path() == config_file


def test_env_beats_file_and_file_beats_defaults(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[sync]\npolling_interval = 45\nconflict_policy = "quickbooks"\n')
    assert load_settings().settings.sync.polling_interval == 45
    monkeypatch.setenv("QBSF_SYNC__POLLING_INTERVAL", "7")
    s = load_settings().settings
    assert s.sync.polling_interval == 7
    assert s.sync.conflict_policy == "quickbooks"  # untouched by env: nested merge, not replace


def test_secrets_come_from_the_store_and_env_overrides_them(config_file: Path, memory_secrets,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    memory_secrets.set("salesforce.client_secret", "store-secret")
    s = load_settings(secrets=memory_secrets).settings
    assert s.salesforce.client_secret is not None
    assert s.salesforce.client_secret.get_secret_value() == "store-secret"
    monkeypatch.setenv("QBSF_SALESFORCE__CLIENT_SECRET", "env-secret")
    s = load_settings(secrets=memory_secrets).settings
    assert s.salesforce.client_secret.get_secret_value() == "env-secret"


def test_a_secret_in_the_toml_file_is_refused_with_the_fix(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[salesforce]\nclient_secret = "oops"\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "salesforce.client_secret" in str(err.value)
    assert "qbsf config set salesforce.client_secret" in str(err.value)


def test_bad_values_name_the_setting_the_source_and_the_fix(config_file: Path, monkeypatch) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[quickbooks]\ntransport = "carrier-pigeon"\n[sync]\npolling_interval = 0\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    text = str(err.value)
    assert "quickbooks.transport = 'carrier-pigeon'" in text
    assert "'simulator', 'com' or 'webconnector'" in text
    assert "sync.polling_interval" in text
    assert str(config_file) in text
    config_file.write_text("")
    monkeypatch.setenv("QBSF_DASHBOARD__PORT", "99999")
    with pytest.raises(ConfigError, match="environment QBSF_DASHBOARD__PORT"):
        load_settings()


def test_unknown_key_and_broken_toml_are_explained(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[sync]\npoling_interval = 5\n")
    with pytest.raises(ConfigError, match=r"sync.poling_interval: unknown setting"):
        load_settings()
    config_file.write_text("[sync\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_instance_url_must_be_https_except_loopback(config_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("QBSF_SALESFORCE__INSTANCE_URL", "http://evil.example.com")
    with pytest.raises(ConfigError, match="https://"):
        load_settings()
    monkeypatch.setenv("QBSF_SALESFORCE__INSTANCE_URL", "http://127.0.0.1:5555/")
    assert load_settings().settings.salesforce.instance_url == "http://127.0.0.1:5555"


def test_eligibility_conditions_are_checked(config_file: Path) -> None:
    set_setting("sync.eligibility.Account", "Type = 'Customer'")
    assert load_settings().settings.sync.eligibility == {"Account": "Type = 'Customer'"}
    with pytest.raises(ConfigError, match="balanced quotes"):
        set_setting("sync.eligibility.Opportunity", "StageName = 'Closed Won")


def test_set_setting_coerces_writes_and_keeps_other_keys(config_file: Path) -> None:
    assert set_setting("sync.polling_interval", "60") == "60"
    assert set_setting("quickbooks.default_accounts.income", "Sales") == "Sales"
    data = tomllib.loads(config_file.read_text())
    assert data["sync"]["polling_interval"] == 60  # an int in TOML, not the string typed on the command line
    assert data["quickbooks"]["default_accounts"]["income"] == "Sales"
    assert load_settings().settings.sync.polling_interval == 60


def test_set_setting_refuses_bad_value_and_writes_nothing(config_file: Path) -> None:
    set_setting("sync.polling_interval", "60")
    before = config_file.read_bytes()
    with pytest.raises(ConfigError, match=r"sync.polling_interval = 'soon'"):
        set_setting("sync.polling_interval", "soon")
    assert config_file.read_bytes() == before


def test_set_setting_never_copies_env_overrides_into_the_file(config_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("QBSF_SYNC__POLLING_INTERVAL", "5")
    set_setting("sync.inbound_every", "10")
    assert tomllib.loads(config_file.read_text()) == {"sync": {"inbound_every": 10}}


def test_unknown_setting_suggests_the_closest(config_file: Path) -> None:
    with pytest.raises(ConfigError) as err:
        set_setting("quickbooks.transprt", "com")
    assert "quickbooks.transport" in str(err.value)


def test_secrets_go_to_the_store_never_to_the_file(config_file: Path, memory_secrets) -> None:
    assert set_setting("salesforce.refresh_token", "5Aep861-refresh", secrets=memory_secrets) == MASK
    assert memory_secrets.get("salesforce.refresh_token") == "5Aep861-refresh"
    assert not config_file.exists() or "5Aep861" not in config_file.read_text()
    set_setting("salesforce.refresh_token", "", secrets=memory_secrets)
    assert memory_secrets.get("salesforce.refresh_token") is None
    with pytest.raises(ConfigError, match="QBSF_SALESFORCE__REFRESH_TOKEN"):
        set_setting("salesforce.refresh_token", "x", secrets=None)


def test_save_settings_round_trips_without_secrets(config_file: Path, memory_secrets) -> None:
    memory_secrets.set("salesforce.client_secret", "topsecret")
    s = load_settings(secrets=memory_secrets).settings
    s.sync.conflict_policy = "salesforce"
    s.license_key = "QBSF-ABC"
    save_settings(s)
    text = config_file.read_text()
    assert "topsecret" not in text and "client_secret" not in text
    again = load_settings(secrets=memory_secrets).settings
    assert again.sync.conflict_policy == "salesforce"
    assert again.license_key == "QBSF-ABC"
    assert again.salesforce.client_secret.get_secret_value() == "topsecret"


def test_masked_view_hides_secrets() -> None:
    s = Settings.model_validate({"salesforce": {"access_token": "00Dxx0000001gPL!AR8AQJXg"}})
    view = masked_view(s)
    assert view["salesforce"]["access_token"] == MASK
    assert view["salesforce"]["refresh_token"] == ""
    assert "00Dxx" not in repr(view)


def test_every_key_is_settable_or_secret() -> None:
    keys = setting_keys()
    assert "quickbooks.default_accounts.inventory_asset" in keys
    assert "dashboard.port" in keys and "state_url" in keys and "license_key" in keys


CHART = [
    ChartAccount("Sales", "Income"),
    ChartAccount("Sales:Hardware", "Income"),
    ChartAccount("Cost of Goods Sold", "CostOfGoodsSold"),
    ChartAccount("Inventory Asset", "OtherCurrentAsset"),
    ChartAccount("Accounts Receivable", "AccountsReceivable"),
    ChartAccount("Office Supplies", "Expense"),
    ChartAccount("Old Sales", "Income", is_active=False),
    ChartAccount("Checking", "Bank"),
]


def test_accounts_that_exist_and_fit_are_accepted_in_quickbooks_spelling() -> None:
    fixed = check_default_accounts(
        QBAccounts(income="sales:hardware", cogs="Cost of Goods Sold", inventory_asset="Inventory Asset",
                   ar="Accounts Receivable"), CHART)
    assert fixed.income == "Sales:Hardware"
    assert fixed.expense == ""


def test_missing_account_is_refused_with_closest_matches() -> None:
    with pytest.raises(ConfigError) as err:
        check_default_accounts(QBAccounts(income="Sale", cogs="Cost of Goods"), CHART)
    text = str(err.value)
    assert "Income / Sales Account: no account named 'Sale'" in text
    assert "'Sales'" in text
    assert "'Cost of Goods Sold'" in text


def test_wrong_type_and_inactive_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        check_default_accounts(QBAccounts(income="Checking", inventory_asset="Sales", expense="Old Sales"), CHART)
    text = str(err.value)
    assert "'Checking' is a Bank account, needs Income or OtherIncome" in text
    assert "Inventory Asset Account: 'Sales' is a Income account, needs OtherCurrentAsset" in text
    assert "'Inventory Asset'" in text  # suggests an account that fits
    assert "Expense Account" in text
    with pytest.raises(ConfigError, match="inactive"):
        check_default_accounts(QBAccounts(income="Old Sales"), CHART)


def test_cli_config_path_show_and_set(config_file: Path, memory_secrets) -> None:
    runner = CliRunner()
    ctx = AppContext(secrets=memory_secrets)
    result = runner.invoke(app, ["config", "path"])
    assert result.exit_code == 0 and result.stdout.strip() == str(config_file)
    result = runner.invoke(app, ["config", "set", "salesforce.client_secret", "s3cr3t-value"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value" not in result.output
    result = runner.invoke(app, ["config", "set", "dashboard.port", "9999"], obj=ctx)
    assert result.exit_code == 0 and "dashboard.port = 9999" in result.stdout
    result = runner.invoke(app, ["config", "show", "--json"], obj=ctx)
    assert result.exit_code == 0
    assert '"port": 9999' in result.stdout
    assert "s3cr3t-value" not in result.stdout and MASK in result.stdout
    result = runner.invoke(app, ["config", "show"], obj=ctx)
    assert "dashboard.port" in result.stdout and "s3cr3t-value" not in result.stdout


def test_cli_config_set_bad_value_exits_2_with_message(config_file: Path, monkeypatch, capsys) -> None:
    from qbsf.app.cli import main

    monkeypatch.setattr("sys.argv", ["qbsf", "config", "set", "sync.conflict_policy", "coin"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "sync.conflict_policy" in err and "Traceback" not in err


def test_sources_say_where_each_value_comes_from(config_file: Path, memory_secrets, monkeypatch) -> None:
    from qbsf.app.settings import setting_sources

    set_setting("sync.inbound_every", "4")
    memory_secrets.set("salesforce.client_secret", "x" * 10)
    monkeypatch.setenv("QBSF_DASHBOARD__PORT", "9000")
    sources = setting_sources(secrets=memory_secrets)
    assert sources["sync.inbound_every"] == "file"
    assert sources["dashboard.port"] == "environment"
    assert sources["salesforce.client_secret"] == "secret store"
    assert sources["sync.polling_interval"] == "default"
    result = CliRunner().invoke(app, ["config", "show"], obj=AppContext(secrets=memory_secrets))
    row = next(line for line in result.stdout.splitlines() if "dashboard.port" in line)
    assert "9000" in row and "environment" in row


def test_login_url_for_sandboxes_is_checked_like_the_instance_url(config_file: Path) -> None:
    assert set_setting("salesforce.login_url", "https://test.salesforce.com/") == "https://test.salesforce.com"
    with pytest.raises(ConfigError, match=r"salesforce\.login_url"):
        set_setting("salesforce.login_url", "ftp://test.salesforce.com")
