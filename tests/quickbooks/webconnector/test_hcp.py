"""strHCPResponse: QuickBooks' host, company and preferences, read from the first sendRequestXML."""

from __future__ import annotations

from qbsf.quickbooks.webconnector.hcp import parse_hcp_response
from qbsf.sim.quickbooks import QuickBooksSimulator

HCP_QUERY = ('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
             '<HostQueryRq requestID="0"/><CompanyQueryRq requestID="1"/><PreferencesQueryRq requestID="2"/>'
             "</QBXMLMsgsRq></QBXML>")


def test_reads_versions_and_settings_from_the_simulators_answer() -> None:
    quickbooks = QuickBooksSimulator(company_name="Acme Supplies", qbxml_versions=("13.0", "16.0"))
    hcp = parse_hcp_response(quickbooks.process(HCP_QUERY))
    assert hcp.problems == ()
    assert hcp.host.supported_versions == ("13.0", "16.0")
    assert hcp.host.best_version() == "16.0"
    assert hcp.host.best_version(("13.0",)) == "13.0"
    assert hcp.company.company_name == "Acme Supplies"
    assert hcp.company.preferences, "preferences flattened to paths"
    assert all("/" in path for path in hcp.company.preferences)


def test_a_quickbooks_2014_offers_only_old_versions() -> None:
    text = ('<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><HostQueryRs statusCode="0"><HostRet>'
            "<ProductName>QuickBooks Pro 2014</ProductName><MajorVersion>24</MajorVersion>"
            "<SupportedQBXMLVersion>12.0</SupportedQBXMLVersion><SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>"
            "</HostRet></HostQueryRs><PreferencesQueryRs statusCode='0'><PreferencesRet><AccountingPreferences>"
            "<IsUsingClassTracking>true</IsUsingClassTracking></AccountingPreferences><MultiCurrencyPreferences>"
            "<IsMultiCurrencyOn>false</IsMultiCurrencyOn></MultiCurrencyPreferences></PreferencesRet>"
            "</PreferencesQueryRs></QBXMLMsgsRs></QBXML>")
    hcp = parse_hcp_response(text)
    assert hcp.host.best_version() == "13.0"
    assert hcp.host.highest_version == "13.0"
    assert hcp.company.is_using_class_tracking and not hcp.company.is_multicurrency_on


def test_odd_input_is_reported_not_raised() -> None:
    assert parse_hcp_response("").problems == ("strHCPResponse is empty",)
    broken = parse_hcp_response("<QBXML><unclosed>")
    assert broken.host is None and "not well-formed" in broken.problems[0]
    entity = parse_hcp_response('<!DOCTYPE q [<!ENTITY e "x">]><QBXML>&e;</QBXML>')
    assert entity.host is None and "DOCTYPE" in entity.problems[0]
    refused = parse_hcp_response('<QBXML><QBXMLMsgsRs><HostQueryRs statusCode="3100" statusMessage="nope"/>'
                                 "</QBXMLMsgsRs></QBXML>")
    assert any("3100" in p for p in refused.problems)
