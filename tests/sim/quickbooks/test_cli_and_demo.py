"""`qbsf sim quickbooks seed/show/send` and the demo company."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qbsf.errors import ConfigError, QbsfError
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.quickbooks.cli import app
from qbsf.sim.quickbooks.demo import seed_demo_company


def test_demo_company_has_open_paid_and_overdue_invoices(sim):
    added = seed_demo_company(sim, customers=13, invoices_per_customer=3, seed=4)
    assert added["customers"] == 13 and added["invoices"] == 39
    invoices = sim.invoices()
    today = sim.now().astimezone(sim.tz).date().isoformat()
    paid = [i for i in invoices if i["IsPaid"] == "true"]
    overdue = [i for i in invoices if i["IsPaid"] == "false" and i["DueDate"] < today]
    current = [i for i in invoices if i["IsPaid"] == "false" and i["DueDate"] >= today]
    assert paid and overdue and current
    assert len(paid) == added["payments"]
    assert any(c["Sublevel"] == "1" for c in sim.customers())
    assert {i["kind"] for i in sim.items()} == {"ItemService", "ItemNonInventory", "ItemInventory"}
    again = seed_demo_company(sim, customers=13)
    assert again["customers"] == 0  # seeding twice adds nobody twice


def test_seed_show_and_send_on_a_company_file(tmp_path):
    company = tmp_path / "demo.qbsim"
    runner = CliRunner()
    seeded = runner.invoke(app, ["seed", str(company), "--customers", "4", "--invoices", "1"])
    assert seeded.exit_code == 0, seeded.output
    assert "added 4 customers, 4 invoices" in seeded.output
    shown = runner.invoke(app, ["show", str(company), "--kind", "Invoice"])
    assert shown.exit_code == 0, shown.output
    invoices = [json.loads(line) for line in shown.output.splitlines()]
    assert len(invoices) == 4 and all(i["InvoiceLineRet"] for i in invoices)
    request = tmp_path / "query.xml"
    request.write_text('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                       '<CustomerQueryRq requestID="cli" metaData="MetaDataOnly"/></QBXMLMsgsRq></QBXML>')
    sent = runner.invoke(app, ["send", str(company), str(request)])
    assert sent.exit_code == 0, sent.output
    assert 'requestID="cli"' in sent.output and 'retCount="5"' in sent.output  # 4 customers and one job
    piped = runner.invoke(app, ["send", str(company), "-"], input=request.read_text())
    assert piped.output == sent.output


def test_cli_errors_name_the_file_and_the_fix(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["show", str(tmp_path / "none.qbsim")])
    assert isinstance(missing.exception, ConfigError)
    assert "qbsf sim quickbooks seed" in str(missing.exception)
    QuickBooksSimulator(tmp_path / "c.qbsim").close()
    unknown = runner.invoke(app, ["show", str(tmp_path / "c.qbsim"), "--kind", "Widget"])
    assert isinstance(unknown.exception, ConfigError)
    bad = tmp_path / "bad.xml"
    bad.write_text("<QBXML>")
    broken = runner.invoke(app, ["send", str(tmp_path / "c.qbsim"), str(bad)])
    assert isinstance(broken.exception, QbsfError) and "parsing" in str(broken.exception)
    with pytest.raises(ValueError):
        seed_demo_company(QuickBooksSimulator(), customers=-1)
