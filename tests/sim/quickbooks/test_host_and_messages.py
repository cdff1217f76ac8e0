"""HostQuery, CompanyQuery, PreferencesQuery and the message envelope: versions, requestIDs, onError."""

from __future__ import annotations

import pytest
from lxml import etree

from qbsf.sim.quickbooks import QbxmlParseError, QuickBooksSimulator


@pytest.mark.parametrize("version", ["13.0", "16.0"])
def test_host_query_reports_the_versions_the_host_supports(qb, txt, version):
    host = qb.ok('<HostQueryRq requestID="h1"/>', version)
    assert host.tag == "HostRet"
    assert [e.text for e in host.findall("SupportedQBXMLVersion")] == ["13.0", "16.0"]
    assert txt(host, "Country") == "US"
    assert txt(host, "ProductName").startswith("QuickBooks")


def test_host_of_an_older_quickbooks_offers_only_13(validating):
    old = QuickBooksSimulator(qbxml_versions=("13.0",))
    try:
        response = validating(old).send('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML>'
                                        '<QBXMLMsgsRq onError="stopOnError"><HostQueryRq/></QBXMLMsgsRq></QBXML>')
        root = etree.fromstring(response.split("\n", 2)[2].encode())
        assert [e.text for e in root.iter("SupportedQBXMLVersion")] == ["13.0"]
        with pytest.raises(QbxmlParseError, match="not supported"):
            old.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                        "<HostQueryRq/></QBXMLMsgsRq></QBXML>")
    finally:
        old.close()


def test_company_and_preferences(qb, txt):
    company, preferences = qb.call("<CompanyQueryRq requestID=\"c\"/>", "<PreferencesQueryRq requestID=\"p\"/>")
    assert txt(company[0], "CompanyName") == "Demo Company"
    assert txt(preferences[0], "MultiCurrencyPreferences/IsMultiCurrencyOn") == "false"
    assert txt(preferences[0], "PurchasesAndVendorsPreferences/IsUsingInventory") == "true"


def test_every_request_is_answered_with_its_request_id_in_order(qb):
    responses = qb.call('<CustomerQueryRq requestID="b"/>', '<HostQueryRq requestID="a"/>',
                        '<AccountQueryRq requestID="z9"/>')
    assert [(r.tag, r.get("requestID")) for r in responses] == [
        ("CustomerQueryRs", "b"), ("HostQueryRs", "a"), ("AccountQueryRs", "z9")]
    assert responses[0].get("statusCode") == "1"  # no customers yet: "no match" is Info, not an error
    assert responses[0].get("statusSeverity") == "Info"


def test_stop_on_error_leaves_later_requests_unanswered(qb, sim):
    add = '<CustomerAddRq requestID="{id}"><CustomerAdd><Name>{name}</Name></CustomerAdd></CustomerAddRq>'
    responses = qb.call(add.format(id=1, name="Ann"), add.format(id=2, name="Ann"), add.format(id=3, name="Bob"),
                        on_error="stopOnError")
    assert [r.get("statusCode") for r in responses] == ["0", "3100"]
    assert sim.count("Customer") == 1


def test_continue_on_error_answers_every_request(qb, sim):
    add = '<CustomerAddRq requestID="{id}"><CustomerAdd><Name>{name}</Name></CustomerAdd></CustomerAddRq>'
    responses = qb.call(add.format(id=1, name="Ann"), add.format(id=2, name="Ann"), add.format(id=3, name="Bob"))
    assert [(r.get("requestID"), r.get("statusCode")) for r in responses] == [("1", "0"), ("2", "3100"), ("3", "0")]
    assert sim.count("Customer") == 2


def test_warnings_do_not_stop_a_stop_on_error_message(qb):
    responses = qb.call('<CustomerQueryRq requestID="1"><ListID>80000999-1</ListID></CustomerQueryRq>',
                        '<HostQueryRq requestID="2"/>', on_error="stopOnError")
    assert [r.get("statusSeverity") for r in responses] == ["Warn", "Info"]


@pytest.mark.parametrize("document", [
    "<QBXML><QBXMLMsgsRq onError='stopOnError'><HostQueryRq/></QBXMLMsgsRq></QBXML>",  # no version instruction
    '<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><HostQueryRq>',
    '<?xml version="1.0"?><?qbxml version="16.0"?><Other/>',
    '<?xml version="1.0"?><?qbxml version="16.0"?><!DOCTYPE QBXML [<!ENTITY x "y">]><QBXML/>',
])
def test_malformed_messages_are_refused_whole_like_hresult_0x80040400(sim, document):
    with pytest.raises(QbxmlParseError) as refused:
        sim.process(document)
    assert refused.value.hresult == 0x80040400
    assert "parsing" in refused.value.message or "version" in refused.value.message


def test_a_request_quickbooks_does_not_know_is_refused_whole(sim):
    with pytest.raises(QbxmlParseError):
        sim.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                    "<NotAThing/></QBXMLMsgsRq></QBXML>")


def test_a_valid_request_the_simulator_does_not_model_says_so(qb):
    response = qb.one('<VehicleQueryRq requestID="v"/>')
    assert response.get("statusCode") == "3250"
    assert "does not model VehicleQuery" in response.get("statusMessage")


def test_stats_count_messages_and_requests(qb, sim):
    qb.call('<HostQueryRq/>', '<CompanyQueryRq/>')
    qb.call('<HostQueryRq/>')
    assert (sim.stats.messages, sim.stats.requests) == (2, 3)
    assert sim.stats.requests_by_type["HostQuery"] == 2


def test_fail_next_injects_quickbooks_busy_statuses(qb, sim):
    sim.fail_next(status_code=3175, times=2, request_type="CustomerAdd")
    add = '<CustomerAddRq requestID="{id}"><CustomerAdd><Name>C{id}</Name></CustomerAdd></CustomerAddRq>'
    responses = qb.call('<HostQueryRq requestID="h"/>', add.format(id=1), add.format(id=2), add.format(id=3))
    assert [r.get("statusCode") for r in responses] == ["0", "3175", "3175", "0"]
    assert "could not be locked. It is in use by another user." in responses[1].get("statusMessage")
    assert sim.count("Customer") == 1


def test_fault_rate_is_reproducible_with_a_seed(sim):
    def run(seed: int) -> list[str]:
        simulator = QuickBooksSimulator()
        simulator.set_fault_rate(0.3, seed=seed)
        codes = []
        for n in range(40):
            response = simulator.process(
                '<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
                f"<CustomerAddRq><CustomerAdd><Name>N{n}</Name></CustomerAdd></CustomerAddRq>"
                "<HostQueryRq/></QBXMLMsgsRq></QBXML>")
            codes.append(response.split('statusCode="')[1].split('"')[0])
            assert 'HostQueryRs statusCode="0"' in response  # queries are never failed by the rate
        simulator.close()
        return codes

    first = run(7)
    assert first == run(7)
    assert {"3170", "3175", "3180"} & set(first)
    assert 5 < sum(code != "0" for code in first) < 25


def test_rollback_on_error_is_refused_as_quickbooks_desktop_documents(sim):
    with pytest.raises(QbxmlParseError, match="rollbackOnError"):
        sim.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="rollbackOnError">'
                    "<CustomerAddRq><CustomerAdd><Name>R</Name></CustomerAdd></CustomerAddRq></QBXMLMsgsRq></QBXML>")
    assert sim.count("Customer") == 0


def test_a_closed_simulator_says_so(sim):
    from qbsf.errors import QbsfError

    sim.close()
    sim.close()  # closing twice is harmless
    with pytest.raises(QbsfError, match="closed"):
        sim.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                    "<HostQueryRq/></QBXMLMsgsRq></QBXML>")


def test_response_data_include_none_returns_statuses_only(validating, sim):
    transport = validating(sim)
    response = transport.send('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq '
                              'onError="continueOnError" responseData="includeNone"><CustomerAddRq requestID="1">'
                              "<CustomerAdd><Name>Quiet</Name></CustomerAdd></CustomerAddRq></QBXMLMsgsRq></QBXML>")
    assert 'statusCode="0"' in response and "<CustomerRet>" not in response
    assert sim.count("Customer") == 1


def test_single_quoted_version_instruction_is_read(sim, qbxml_schemas):
    response = sim.process("<?xml version='1.0'?>\n<?qbxml version='13.0'?>\n<QBXML><QBXMLMsgsRq onError='stopOnError'>"
                           "<HostQueryRq requestID='q'/></QBXMLMsgsRq></QBXML>")
    assert response.splitlines()[1] == '<?qbxml version="13.0"?>'
    qbxml_schemas.validate(response, "response")
