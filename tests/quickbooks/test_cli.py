"""`qbsf qb parse` and `qbsf bench qb` (the commands live in qbsf.app.commands; their logic in qbsf.quickbooks)."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.qb import format_result, run_qb_bench
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.transports.simulator import LatencyModel

runner = CliRunner()

RESPONSE = """<?xml version="1.0" encoding="windows-1252"?>
<?qbxml version="16.0"?>
<QBXML><QBXMLMsgsRs>
<CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
<CustomerRet><ListID>80000001-1193768012</ListID><Name>Caf\xe9 Ol\xe9</Name><FullName>Caf\xe9 Ol\xe9</FullName>
<BillAddress><Addr1>1 Rue</Addr1></BillAddress><TermsRef><ListID>1-1</ListID><FullName>Net 30</FullName></TermsRef>
<Balance>12.50</Balance><PreferredDeliveryMethod>Mail</PreferredDeliveryMethod><Unheard>of</Unheard></CustomerRet>
</CustomerQueryRs>
<InvoiceQueryRs requestID="2" statusCode="1" statusSeverity="Info"
  statusMessage="A query request did not find a matching object in QuickBooks"/>
<ItemQueryRs requestID="3" statusCode="0" statusSeverity="Info">
<ItemOtherChargeRet><ListID>9</ListID><Name>Fee</Name></ItemOtherChargeRet></ItemQueryRs>
<CustomerAddRs requestID="4" statusCode="3100" statusSeverity="Error"
  statusMessage="The name &quot;Acme&quot; of the list element is already in use."/>
</QBXMLMsgsRs></QBXML>
""".encode("cp1252")


def test_parse_prints_json_lines(tmp_path):
    path = tmp_path / "response.xml"
    path.write_bytes(RESPONSE)
    result = runner.invoke(app, ["qb", "parse", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    status, customer, no_match, item_status, other, failed = lines
    assert status == {"response": "CustomerQueryRs", "requestID": "1", "statusCode": 0, "statusSeverity": "Info",
                      "statusMessage": "Status OK", "rets": 1}
    assert customer["ret"] == "CustomerRet" and customer["fields"]["Name"] == "Café Olé"
    assert customer["fields"]["BillAddress.Addr1"] == "1 Rue" and customer["fields"]["TermsRef.FullName"] == "Net 30"
    assert customer["fields"]["Balance"] == "12.50" and customer["fields"]["PreferredDeliveryMethod"] == "Mail"
    assert customer["extra"] == {"Unheard": "of"}
    assert no_match["statusCode"] == 1 and no_match["rets"] == 0
    assert other == {"ret": "ItemOtherChargeRet", "requestID": "3", "data": {"ListID": "9", "Name": "Fee"}}
    assert failed["statusCode"] == 3100 and "already in use" in failed["statusMessage"]
    assert item_status["rets"] == 1


def test_parse_reads_standard_input():
    result = runner.invoke(app, ["qb", "parse", "-"], input=RESPONSE)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[1])["fields"]["Name"] == "Café Olé"


def test_parse_reads_ansi_and_utf16_files(tmp_path):
    body = RESPONSE.decode("cp1252").split("\n", 1)[1]  # drop the encoding declaration, as hand-saved files do
    for name, data in (("ansi.xml", body.encode("cp1252")), ("utf16.xml", body.encode("utf-16"))):
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(app, ["qb", "parse", str(path)])
        assert result.exit_code == 0, (name, result.output)
        assert json.loads(result.output.splitlines()[1])["fields"]["Name"] == "Café Olé"


def test_parse_errors_are_messages_not_tracebacks(tmp_path, monkeypatch, capsys):
    import pytest

    from qbsf.app.cli import main

    bad = tmp_path / "bad.xml"
    bad.write_text("<QBXML><QBXMLMsgsRs>")
    for path, expected in ((bad, "bad.xml is not well-formed XML"), (tmp_path / "missing.xml", "no such file")):
        monkeypatch.setattr("sys.argv", ["qbsf", "qb", "parse", str(path)])
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 2
        err = " ".join(capsys.readouterr().err.split())
        assert expected in err and "Traceback" not in err


def test_parse_a_response_from_the_simulator(tmp_path, qb_client, qb_sim):
    invoice_customer = qb_client.add(rec.Customer(Name="Parse Me"))
    item = qb_client.add(rec.ItemService(Name="Thing", SalesPrice=Decimal("3")))
    qb_client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=invoice_customer.ListID),
                              lines=[rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=2)]))
    xml = qb_sim.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                         '<InvoiceQueryRq requestID="1"><IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>'
                         '</QBXMLMsgsRq></QBXML>')
    path = tmp_path / "invoices.xml"
    path.write_text(xml, encoding="utf-8")
    result = runner.invoke(app, ["qb", "parse", str(path)])
    invoice = json.loads(result.output.splitlines()[1])
    assert invoice["fields"]["CustomerRef.FullName"] == "Parse Me" and invoice["fields"]["Subtotal"] == "6.00"
    assert invoice["lines"][0]["ItemRef.FullName"] == "Thing"


def test_bench_runs_small_and_reports():
    latency = LatencyModel(sleep=False)
    result = run_qb_bench(300, batch_size=100, page_size=100, latency=latency)
    assert (result.added, result.read_back, result.messages, result.read_messages) == (300, 300, 3, 3)
    assert abs(result.latency_seconds - (3 * 0.040 + 300 * 0.002)) < 1e-9
    line = format_result(result, latency)
    assert "300/300 customers" in line and "records/s over 3 messages" in line
    cli = runner.invoke(app, ["bench", "qb", "--customers", "50", "--per-message-ms", "0", "--per-request-ms", "0"])
    assert cli.exit_code == 0 and "50/50 customers" in cli.output


def test_host_reports_the_connection(tmp_path):
    from qbsf.sim.quickbooks import QuickBooksSimulator

    path = tmp_path / "company.sqlite"
    QuickBooksSimulator(path, company_name="Rock Castle Construction").close()
    result = runner.invoke(app, ["qb", "host", "--simulator-path", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["company"] == "Rock Castle Construction" and report["qbxml_used"] == "16.0"
    assert "13.0" in report["supported_qbxml"] and report["messages"] == 2
    bad = runner.invoke(app, ["qb", "host", "--transport", "carrier-pigeon"])
    assert bad.exit_code != 0 and "unknown QuickBooks transport" in str(bad.exception)


REPORT = """<?xml version="1.0" ?>
<?qbxml version="13.0"?>
<QBXML><QBXMLMsgsRs>
<CustomerQueryRs requestID="p" statusCode="0" statusSeverity="Info" statusMessage="Status OK" retCount="1"
  iteratorRemainingCount="41" iteratorID="{eb05f701-e727-472f-8ade-6753c4f67a46}">
<CustomerRet><ListID>80000001-1</ListID><Name>Acme</Name></CustomerRet></CustomerQueryRs>
<CustomerAddRs requestID="w" statusCode="530" statusSeverity="Warn" statusMessage="The field is not supported."/>
<GeneralSummaryReportQueryRs requestID="r" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
<ReportRet><ReportTitle>Profit &amp; Loss</ReportTitle><ReportBasis>Accrual</ReportBasis><NumRows>1</NumRows>
<NumColumns>2</NumColumns><NumColTitleRows>1</NumColTitleRows>
<ColDesc colID="1" dataType="STRTYPE"><ColTitle titleRow="1" value=""/><ColType>Label</ColType></ColDesc>
<ColDesc colID="2" dataType="AMTTYPE"><ColTitle titleRow="1" value="TOTAL"/><ColType>Amount</ColType></ColDesc>
<ReportData><DataRow rowNumber="1"><RowData rowType="account" value="Sales"/><ColData colID="1" value="Sales"/>
<ColData colID="2" value="1250.00"/></DataRow></ReportData></ReportRet></GeneralSummaryReportQueryRs>
</QBXMLMsgsRs></QBXML>
"""


def test_parse_keeps_attributes_of_responses_and_report_rows():
    result = runner.invoke(app, ["qb", "parse", "-"], input=REPORT)
    assert result.exit_code == 0, result.output
    page, customer, warning, report_status, report = [json.loads(line) for line in result.output.splitlines()]
    assert page["iteratorID"] == "{eb05f701-e727-472f-8ade-6753c4f67a46}" and page["iteratorRemainingCount"] == 41
    assert page["retCount"] == 1 and customer["fields"]["Name"] == "Acme"
    assert (warning["statusCode"], warning["statusSeverity"]) == (530, "Warn")
    assert report_status["rets"] == 1 and report["ret"] == "ReportRet"
    data = report["data"]
    assert data["ReportTitle"] == "Profit & Loss"
    assert data["ColDesc"][1] == {"@colID": "2", "@dataType": "AMTTYPE",
                                  "ColTitle": {"@titleRow": "1", "@value": "TOTAL"}, "ColType": "Amount"}
    row = data["ReportData"]["DataRow"]
    assert row["@rowNumber"] == "1" and row["RowData"] == {"@rowType": "account", "@value": "Sales"}
    assert row["ColData"] == [{"@colID": "1", "@value": "Sales"}, {"@colID": "2", "@value": "1250.00"}]
