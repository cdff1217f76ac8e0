"""The QB Default Accounts setting reaches every QuickBooks record that takes an account: new invoices post to
``quickbooks.default_accounts.ar`` (QuickBooks' own Accounts Receivable when it is unset)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from qbsf.bench.outbound import seed_org
from qbsf.sync.engine import SyncConfig, SyncEngine


def _settings(**accounts: str) -> SimpleNamespace:
    return SimpleNamespace(sync=None, quickbooks=SimpleNamespace(default_accounts=SimpleNamespace(**accounts)))


def test_new_invoices_use_the_ar_account_setting(world) -> None:
    world.qb_sim.add("Account", {"Name": "Trade Receivables", "AccountType": "AccountsReceivable"})
    seed_org(world.sf_state, accounts=1, contacts=0, products=1, opportunities=1, lines=1)
    config = SyncConfig.from_settings(_settings(income="Sales", ar="Trade Receivables"))
    config.retry_base = config.retry_cap = timedelta(0)
    assert config.ar_account == "Trade Receivables"
    report = SyncEngine(config, world.sf, world.qb, world.state, world.mappings).run_cycle()
    assert report.ok, report.failures
    (invoice,) = world.qb_sim.invoices()
    assert invoice["ARAccountRef"]["FullName"] == "Trade Receivables"


def test_without_the_setting_quickbooks_picks_its_own_receivables_account(world) -> None:
    seed_org(world.sf_state, accounts=1, contacts=0, products=1, opportunities=1, lines=1)
    report = world.engine().run_cycle()
    assert report.ok, report.failures
    (invoice,) = world.qb_sim.invoices()
    assert invoice["ARAccountRef"]["FullName"] == "Accounts Receivable"
