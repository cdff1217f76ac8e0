"""CustomerAdd/Mod/Query as QuickBooks answers them: ids, EditSequence, sub-customers, names, filters, statuses."""

from __future__ import annotations

import re

import pytest

from qbsf.sim.quickbooks import QuickBooksSimulator

ADD = '<CustomerAddRq requestID="{rid}"><CustomerAdd>{body}</CustomerAdd></CustomerAddRq>'
MOD = '<CustomerModRq requestID="{rid}"><CustomerMod>{body}</CustomerMod></CustomerModRq>'


def add(qb, body: str, rid: str = "1"):
    return qb.ok(ADD.format(rid=rid, body=body))


def test_add_returns_the_customer_with_quickbooks_ids_and_times(qb, txt):
    ret = add(qb, "<Name>Acme Corp</Name><CompanyName>Acme Corporation</CompanyName>"
                  "<BillAddress><Addr1>1 Main St</Addr1><City>Springfield</City><State>IL</State>"
                  "<PostalCode>62701</PostalCode></BillAddress><Phone>555-0100</Phone>"
                  "<Email>ap@acme.test</Email><TermsRef><FullName>Net 30</FullName></TermsRef>"
                  "<ExternalGUID>{8f14e45f-ceea-467f-a0e6-1a2b3c4d5e6f}</ExternalGUID>")
    assert re.fullmatch(r"[0-9A-F]{8}-\d{10}", txt(ret, "ListID"))
    assert txt(ret, "TimeCreated") == "2026-03-02T09:00:00-08:00"  # company time zone, one-second resolution
    assert txt(ret, "TimeModified") == txt(ret, "TimeCreated")
    assert txt(ret, "EditSequence").isdigit()
    assert (txt(ret, "Name"), txt(ret, "FullName"), txt(ret, "Sublevel")) == ("Acme Corp", "Acme Corp", "0")
    assert txt(ret, "IsActive") == "true"
    assert txt(ret, "BillAddress/City") == "Springfield"
    assert txt(ret, "TermsRef/FullName") == "Net 30"
    assert txt(ret, "TermsRef/ListID").startswith("8")
    assert txt(ret, "Balance") == "0.00"
    assert txt(ret, "ExternalGUID") == "{8f14e45f-ceea-467f-a0e6-1a2b3c4d5e6f}"


def test_add_and_query_round_trip_in_qbxml_13(qb, txt):
    added = qb.ok(ADD.format(rid="a", body="<Name>Old Version Co</Name>"), "13.0")
    (found,) = qb.one(f'<CustomerQueryRq requestID="q"><ListID>{txt(added, "ListID")}</ListID></CustomerQueryRq>',
                      "13.0")
    assert txt(found, "Name") == "Old Version Co"


def test_sub_customers_have_full_names_and_sublevels(qb, txt):
    parent = add(qb, "<Name>Acme</Name>")
    job = add(qb, f"<Name>Warehouse</Name><ParentRef><ListID>{txt(parent, 'ListID')}</ListID></ParentRef>")
    phase = add(qb, "<Name>Phase 1</Name><ParentRef><FullName>Acme:Warehouse</FullName></ParentRef>")
    assert (txt(job, "FullName"), txt(job, "Sublevel")) == ("Acme:Warehouse", "1")
    assert (txt(phase, "FullName"), txt(phase, "Sublevel")) == ("Acme:Warehouse:Phase 1", "2")
    assert txt(phase, "ParentRef/FullName") == "Acme:Warehouse"
    assert txt(phase, "ParentRef/ListID") == txt(job, "ListID")
    # the same Name under another parent is fine: names are unique by FullName
    other = add(qb, "<Name>Other</Name>")
    add(qb, f"<Name>Warehouse</Name><ParentRef><ListID>{txt(other, 'ListID')}</ListID></ParentRef>")


def test_a_hierarchy_is_at_most_five_sublevels_deep(qb, txt):
    parent = "Top"
    add(qb, "<Name>Top</Name>")
    for level in range(1, 6):
        ret = add(qb, f"<Name>L{level}</Name><ParentRef><FullName>{parent}</FullName></ParentRef>")
        parent = txt(ret, "FullName")
    assert txt(ret, "Sublevel") == "5"
    refused = qb.one(ADD.format(rid="6", body=f"<Name>L6</Name><ParentRef><FullName>{parent}</FullName></ParentRef>"))
    assert refused.get("statusCode") == "3090"


def test_renaming_a_parent_renames_its_sub_customers(qb, txt):
    parent = add(qb, "<Name>Acme</Name>")
    job = add(qb, "<Name>Job</Name><ParentRef><FullName>Acme</FullName></ParentRef>")
    qb.ok(MOD.format(rid="m", body=f"<ListID>{txt(parent, 'ListID')}</ListID>"
                                   f"<EditSequence>{txt(parent, 'EditSequence')}</EditSequence><Name>Acme Inc</Name>"))
    (found,) = qb.one(f'<CustomerQueryRq><ListID>{txt(job, "ListID")}</ListID></CustomerQueryRq>')
    assert txt(found, "FullName") == "Acme Inc:Job"
    assert txt(found, "ParentRef/FullName") == "Acme Inc"


def test_names_are_unique_across_customers_vendors_and_other_names(qb):
    add(qb, "<Name>Shared Name</Name>")
    vendor = qb.one('<VendorAddRq requestID="v"><VendorAdd><Name>shared name</Name></VendorAdd></VendorAddRq>')
    other = qb.one('<OtherNameAddRq requestID="o"><OtherNameAdd><Name>Shared Name</Name></OtherNameAdd>'
                   "</OtherNameAddRq>")
    again = qb.one(ADD.format(rid="c", body="<Name>Shared Name</Name>"))
    for response in (vendor, other, again):
        assert response.get("statusCode") == "3100"
        assert response.get("statusSeverity") == "Error"
        assert "of the list element is already in use." in response.get("statusMessage")
    assert len(response) == 0  # an error carries no Ret
    # an item may share a customer's name: items are another list
    ok = qb.one('<ItemServiceAddRq><ItemServiceAdd><Name>Shared Name</Name><SalesOrPurchase>'
                "<AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd>"
                "</ItemServiceAddRq>")
    assert ok.get("statusCode") == "0"


def test_a_name_cannot_contain_a_colon(qb):
    response = qb.one(ADD.format(rid="1", body="<Name>Acme:Sub</Name>"))
    assert response.get("statusCode") == "3090"
    assert "colon" in response.get("statusMessage")


def test_a_name_longer_than_quickbooks_allows_is_refused_with_3070(sim, qbxml_schemas):
    # The schema refuses a 42-character Name too, so this request goes around the validating transport.
    name = "N" * 42
    response = sim.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                           f"<CustomerAddRq><CustomerAdd><Name>{name}</Name></CustomerAdd></CustomerAddRq>"
                           "</QBXMLMsgsRq></QBXML>")
    qbxml_schemas.validate(response, "response")
    assert 'statusCode="3070"' in response
    assert f'The string "{name}" in the field "Name" is too long.' in response.replace("&quot;", '"')


def test_characters_outside_latin1_are_stored_as_question_marks(qb, txt):
    ret = add(qb, "<Name>Caf\u00e9 \u0141\u00f3d\u017a</Name>")
    assert txt(ret, "Name") == "Caf\u00e9 ?\u00f3d?"


def test_mod_changes_only_what_it_sends_and_moves_edit_sequence(qb, sim, txt):
    ret = add(qb, "<Name>Beta</Name><BillAddress><Addr1>1 A St</Addr1><City>Reno</City></BillAddress>"
                  "<Phone>555-1</Phone>")
    sim.advance(65)
    modded = qb.ok(MOD.format(rid="m", body=f"<ListID>{txt(ret, 'ListID')}</ListID>"
                                            f"<EditSequence>{txt(ret, 'EditSequence')}</EditSequence>"
                                            "<BillAddress><PostalCode>89501</PostalCode></BillAddress>"
                                            "<Email>b@beta.test</Email>"))
    assert txt(modded, "Phone") == "555-1"
    assert [c.tag for c in modded.find("BillAddress")] == ["Addr1", "City", "PostalCode"]
    assert txt(modded, "Email") == "b@beta.test"
    assert txt(modded, "EditSequence") != txt(ret, "EditSequence")
    assert txt(modded, "TimeModified") == "2026-03-02T09:01:05-08:00"
    assert txt(modded, "TimeCreated") == "2026-03-02T09:00:00-08:00"


def test_two_mods_in_the_same_second_still_get_different_edit_sequences(qb, txt):
    ret = add(qb, "<Name>Gamma</Name>")
    first = qb.ok(MOD.format(rid="1", body=f"<ListID>{txt(ret, 'ListID')}</ListID><EditSequence>"
                                           f"{txt(ret, 'EditSequence')}</EditSequence><Phone>1</Phone>"))
    second = qb.ok(MOD.format(rid="2", body=f"<ListID>{txt(ret, 'ListID')}</ListID><EditSequence>"
                                            f"{txt(first, 'EditSequence')}</EditSequence><Phone>2</Phone>"))
    assert len({txt(ret, "EditSequence"), txt(first, "EditSequence"), txt(second, "EditSequence")}) == 3


def test_mod_with_a_stale_edit_sequence_is_refused_with_3200(qb, txt):
    ret = add(qb, "<Name>Delta</Name>")
    qb.ok(MOD.format(rid="1", body=f"<ListID>{txt(ret, 'ListID')}</ListID><EditSequence>"
                                   f"{txt(ret, 'EditSequence')}</EditSequence><Phone>1</Phone>"))
    stale = qb.one(MOD.format(rid="2", body=f"<ListID>{txt(ret, 'ListID')}</ListID><EditSequence>"
                                            f"{txt(ret, 'EditSequence')}</EditSequence><Phone>2</Phone>"))
    assert stale.get("statusCode") == "3200"
    assert stale.get("statusMessage") == f'The provided edit sequence "{txt(ret, "EditSequence")}" is out-of-date.'


def test_mod_of_an_unknown_list_id_is_3120(qb):
    response = qb.one(MOD.format(rid="1", body="<ListID>80000999-1111111111</ListID><EditSequence>1</EditSequence>"
                                               "<Phone>1</Phone>"))
    assert response.get("statusCode") == "3120"
    assert response.get("statusMessage") == 'Object "80000999-1111111111" specified in the request cannot be found.'


def test_a_reference_to_nothing_is_3140_and_a_missing_parent_3130(qb):
    response = qb.one(ADD.format(rid="1", body="<Name>Eps</Name><TermsRef><FullName>Net 99</FullName></TermsRef>"))
    assert response.get("statusCode") == "3140"
    assert 'invalid reference to QuickBooks Terms "Net 99"' in response.get("statusMessage")
    # OSR: a ParentRef to nothing is 3130 "There is an invalid reference to a parent", by FullName or by ListID.
    parent = qb.one(ADD.format(rid="2", body="<Name>Eps</Name><ParentRef><FullName>Nobody</FullName></ParentRef>"))
    assert parent.get("statusCode") == "3130" and parent.get("statusSeverity") == "Error"
    assert parent.get("statusMessage") == 'There is an invalid reference to a parent "Nobody" in the Customer list.'
    by_id = qb.one(ADD.format(rid="3", body="<Name>Eps</Name><ParentRef><ListID>80000999-1</ListID></ParentRef>"))
    assert by_id.get("statusCode") == "3130" and '"80000999-1"' in by_id.get("statusMessage")


def test_query_by_unknown_list_id_is_warning_500_with_the_found_ones(qb, txt):
    ret = add(qb, "<Name>Zeta</Name>")
    response = qb.one(f"<CustomerQueryRq><ListID>{txt(ret, 'ListID')}</ListID><ListID>80000999-1</ListID>"
                      "</CustomerQueryRq>")
    assert (response.get("statusCode"), response.get("statusSeverity")) == ("500", "Warn")
    assert response.get("statusMessage") == ("The query request has not been fully completed. There was a required "
                                             'element ("80000999-1") that could not be found in QuickBooks.')
    assert [txt(r, "Name") for r in response] == ["Zeta"]


def test_query_filters(qb, sim, txt):
    for name in ("Alpha", "Alphabet", "Beta", "Gamma Alpha"):
        add(qb, f"<Name>{name}</Name>")
    sim.advance(3600)
    late = add(qb, "<Name>Late</Name>")
    qb.ok(MOD.format(rid="i", body=f"<ListID>{txt(late, 'ListID')}</ListID><EditSequence>"
                                   f"{txt(late, 'EditSequence')}</EditSequence><IsActive>false</IsActive>"))

    def names(body: str) -> list[str]:
        response = qb.one(f"<CustomerQueryRq>{body}</CustomerQueryRq>")
        return [txt(r, "FullName") for r in response]

    assert names("") == ["Alpha", "Alphabet", "Beta", "Gamma Alpha"]  # ActiveOnly by default
    assert names("<ActiveStatus>All</ActiveStatus>") == ["Alpha", "Alphabet", "Beta", "Gamma Alpha", "Late"]
    assert names("<ActiveStatus>InactiveOnly</ActiveStatus>") == ["Late"]
    assert names("<MaxReturned>2</MaxReturned>") == ["Alpha", "Alphabet"]
    assert names("<NameFilter><MatchCriterion>StartsWith</MatchCriterion><Name>alpha</Name></NameFilter>") == [
        "Alpha", "Alphabet"]
    assert names("<NameFilter><MatchCriterion>Contains</MatchCriterion><Name>ALPHA</Name></NameFilter>") == [
        "Alpha", "Alphabet", "Gamma Alpha"]
    assert names("<NameFilter><MatchCriterion>EndsWith</MatchCriterion><Name>bet</Name></NameFilter>") == [
        "Alphabet"]
    assert names("<NameRangeFilter><FromName>B</FromName><ToName>H</ToName></NameRangeFilter>") == [
        "Beta", "Gamma Alpha"]
    assert names("<FullName>Beta</FullName>") == ["Beta"]
    # FromModifiedDate is inclusive and read in the company's time zone when it carries no offset
    assert names("<ActiveStatus>All</ActiveStatus><FromModifiedDate>2026-03-02T10:00:00</FromModifiedDate>") == [
        "Late"]
    assert names("<ActiveStatus>All</ActiveStatus><FromModifiedDate>2026-03-02T18:00:00+00:00</FromModifiedDate>"
                 ) == ["Late"]
    assert names("<ToModifiedDate>2026-03-02T09:00:00-08:00</ToModifiedDate>") == [
        "Alpha", "Alphabet", "Beta", "Gamma Alpha"]
    assert names("<ActiveStatus>All</ActiveStatus><FromModifiedDate>2026-03-02</FromModifiedDate>"
                 "<ToModifiedDate>2026-03-02</ToModifiedDate>") == ["Alpha", "Alphabet", "Beta", "Gamma Alpha", "Late"]


def test_include_ret_element_limits_the_answer(qb):
    add(qb, "<Name>Eta</Name><Phone>555</Phone>")
    (ret,) = qb.one("<CustomerQueryRq><IncludeRetElement>ListID</IncludeRetElement>"
                    "<IncludeRetElement>Name</IncludeRetElement></CustomerQueryRq>")
    assert [c.tag for c in ret] == ["ListID", "Name"]


def test_unsupported_elements_are_a_warning_not_silent(qb, txt):
    response = qb.one(ADD.format(rid="1", body="<Name>Theta</Name><OpenBalance>10.00</OpenBalance>"))
    assert (response.get("statusCode"), response.get("statusSeverity")) == ("530", "Warn")
    assert '"OpenBalance"' in response.get("statusMessage")
    assert txt(response[0], "Name") == "Theta"


def test_contacts_and_notes_come_back_as_their_ret_aggregates(qb, txt):
    ret = add(qb, "<Name>Iota</Name><Contacts><FirstName>Ann</FirstName><LastName>Lee</LastName></Contacts>"
                  "<AdditionalNotes><Note>VIP</Note></AdditionalNotes>")
    assert txt(ret, "ContactsRet/FirstName") == "Ann"
    assert txt(ret, "ContactsRet/ListID")
    assert (txt(ret, "AdditionalNotesRet/NoteID"), txt(ret, "AdditionalNotesRet/Note")) == ("1", "VIP")


@pytest.mark.parametrize("offset, expected", [(-5, "-05:00"), (1, "+01:00"), (0, "+00:00")])
def test_times_carry_the_company_utc_offset(offset, expected):
    simulator = QuickBooksSimulator(utc_offset_hours=offset)
    try:
        customer = simulator.add("Customer", {"Name": "Kappa"})
        assert customer["TimeCreated"].endswith(expected)
    finally:
        simulator.close()


def test_the_simulator_works_with_an_iana_zone():
    from zoneinfo import ZoneInfo

    simulator = QuickBooksSimulator(utc_offset_hours=ZoneInfo("America/Chicago"))
    try:
        assert simulator.add("Customer", {"Name": "Lambda"})["TimeCreated"][-6:] in ("-06:00", "-05:00")
    finally:
        simulator.close()


def test_a_field_sent_empty_in_a_mod_is_cleared_and_left_out_of_the_answer(qb, txt):
    added = add(qb, "<Name>Clear Co</Name><BillAddress><Addr1>1 Main St</Addr1><Addr2>Suite 4</Addr2></BillAddress>"
                    "<Phone>555-0100</Phone>")
    ret = qb.ok(MOD.format(rid="m", body=f"<ListID>{txt(added, 'ListID')}</ListID>"
                                         f"<EditSequence>{txt(added, 'EditSequence')}</EditSequence>"
                                         "<BillAddress><Addr1>2 Oak Ave</Addr1><Addr2></Addr2></BillAddress>"
                                         "<Phone></Phone>"))
    assert txt(ret, "BillAddress/Addr1") == "2 Oak Ave"
    assert ret.find("BillAddress/Addr2") is None
    assert ret.find("Phone") is None
    (again,) = qb.one(f'<CustomerQueryRq requestID="q"><ListID>{txt(added, "ListID")}</ListID></CustomerQueryRq>')
    assert again[0].find("Phone") is None
