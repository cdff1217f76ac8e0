"""Engine configuration from qbsf's settings, and mapping folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbsf.app.settings import Settings
from qbsf.bench.outbound import EXAMPLE_MAPPINGS
from qbsf.errors import ConfigError
from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
from qbsf.sync.state import StateStore


def test_config_from_settings() -> None:
    settings = Settings()
    settings.sync.change_source = "queue"
    settings.sync.eligibility = {"Opportunity": "StageName = 'Invoiced'"}
    settings.quickbooks.default_accounts.income = "Sales"
    settings.quickbooks.default_accounts.inventory_asset = "Inventory Asset"
    config = SyncConfig.from_settings(settings)
    assert config.change_source == "queue"
    assert config.eligibility == {"Opportunity": "StageName = 'Invoiced'"}
    assert (config.income_account, config.asset_account, config.cogs_account) == ("Sales", "Inventory Asset", "")
    assert config.retry_policy.max_attempts == 5


def test_load_mappings_by_file_name(tmp_path: Path) -> None:
    mappings = load_mappings(EXAMPLE_MAPPINGS)
    assert {"Acct_to_Customer", "Contact_to_SubCustomer", "Product_to_Item", "Oppty_to_Invoice",
            "OpptyLines_CHILD_Oppty"} <= set(mappings)
    with pytest.raises(ConfigError, match="does not exist"):
        load_mappings(tmp_path / "missing")
    (tmp_path / "notes.csv").write_text("SF_Field_API_Name,QB_Field_Name\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notes\.csv") as info:
        load_mappings(tmp_path)
    assert "sheet name" in str(info.value)


def test_an_entity_without_a_mapping_is_refused_by_name(sf_client, qb_client, tmp_path: Path) -> None:
    mappings = {k: v for k, v in load_mappings(EXAMPLE_MAPPINGS).items() if k != "Product_to_Item"}
    with StateStore(tmp_path / "s.db") as state:
        engine = SyncEngine(SyncConfig(), sf_client, qb_client, state, mappings)
        assert [spec.name for spec in engine.entities()] == ["Account", "Contact", "Opportunity", "Order", "Quote"]
        with pytest.raises(ConfigError, match="no mapping for Product_to_Item"):
            engine.sync_sf_to_qb(["Product2"])


def test_integration_user_on_existing_name_and_max_attempts_reach_the_engine(sf_client, qb_client,
                                                                            tmp_path: Path) -> None:
    settings = Settings.model_validate({"sync": {"integration_user_id": "005000000000001AAA",
                                                 "on_existing_name": "report", "max_attempts": 2}})
    with StateStore(tmp_path / "s.db") as state:
        engine = SyncEngine(settings, sf_client, qb_client, state, load_mappings(EXAMPLE_MAPPINGS))
        assert engine.config.on_existing_name == "report"
        assert state.retry_policy.max_attempts == 2
        # the integration user's own edits are not polled back
        assert all("LastModifiedById != '005000000000001AAA'" in soql for soql in engine.cycle_reads().values())


@pytest.mark.parametrize(("key", "value", "message"), [
    ("integration_user_id", "001000000000001AAA", "not a Salesforce User Id"),
    ("on_existing_name", "merge", "'link' or 'report'"),
    ("max_attempts", 0, "greater than or equal to 1"),
])
def test_bad_engine_settings_are_refused(key: str, value: object, message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        Settings.model_validate({"sync": {key: value}})
