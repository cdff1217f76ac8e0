"""SalesforceClient against the emulator over real HTTP: paging, collections, composite, change windows, limits."""

from __future__ import annotations

import datetime as dt

import pytest

from qbsf.errors import AfterDependency, NeedsUser, QbsfError, Retriable, Skippable
from qbsf.salesforce import SalesforceClient
from qbsf.salesforce.client import COLLECTION_LIMIT


def test_query_follows_every_page(sf_client, sf_state) -> None:
    for i in range(450):
        sf_state.insert("Account", {"Name": f"Acct {i:03d}"})
    calls = sf_client.calls
    pages = [len(page) for page in sf_client.iter_query("SELECT Id, Name FROM Account ORDER BY Name",
                                                        batch_size=200)]
    assert pages == [200, 200, 50]
    assert sf_client.calls - calls == 3, "one call per page"
    names = [r["Name"] for r in sf_client.query("SELECT Name FROM Account ORDER BY Name", batch_size=200)]
    assert names == [f"Acct {i:03d}" for i in range(450)]
    assert sf_client.count("SELECT COUNT() FROM Account") == 450


def test_query_all_sees_deleted_rows(sf_client, sf_state) -> None:
    keep = sf_state.insert("Account", {"Name": "Keep"})
    gone = sf_state.insert("Account", {"Name": "Gone"})
    sf_state.delete("Account", gone)
    assert [r["Id"] for r in sf_client.query("SELECT Id FROM Account")] == [keep]
    rows = sf_client.query_all("SELECT Id, IsDeleted FROM Account ORDER BY Name")
    assert {r["Id"]: r["IsDeleted"] for r in rows} == {gone: True, keep: False}


def test_malformed_query_is_a_clear_error(sf_client) -> None:
    with pytest.raises(NeedsUser) as caught:
        sf_client.query("SELECT Nope__c FROM Account")
    assert caught.value.error_code in ("INVALID_FIELD", "MALFORMED_QUERY")
    assert caught.value.hint


def test_upsert_many_results_in_input_order_with_partial_failures(sf_client, sf_state) -> None:
    existing = sf_state.insert("Account", {"Name": "Old name", "QB_Customer_ID__c": "QB-7"})
    records = []
    for i in range(COLLECTION_LIMIT + 50):  # two calls
        records.append({"QB_Customer_ID__c": f"QB-{i}", "Name": f"Customer {i}"})
    records[3] = {"QB_Customer_ID__c": "QB-3", "Name": "x" * 300}  # STRING_TOO_LONG
    records[210] = {"Name": "no external id"}  # fails locally, no call
    records[220] = {"QB_Customer_ID__c": "QB-220", "Name": None}  # REQUIRED_FIELD_MISSING
    calls = sf_client.calls
    results = sf_client.upsert_many("Account", "QB_Customer_ID__c", records)
    assert sf_client.calls - calls == 2
    assert [r.index for r in results] == list(range(len(records)))
    failed = {r.index: r.error.error_code for r in results if not r.success}
    assert failed == {3: "STRING_TOO_LONG", 210: "MISSING_EXTERNAL_ID", 220: "REQUIRED_FIELD_MISSING"}
    assert all(isinstance(r.error, NeedsUser) for r in results if not r.success)
    assert results[7].id == existing and results[7].created is False
    assert results[8].created is True
    for result, record in zip(results, records, strict=True):
        if result.success:
            assert sf_state.get("Account", result.id)["QB_Customer_ID__c"] == record["QB_Customer_ID__c"]
    assert sf_state.get("Account", existing)["Name"] == "Customer 7"


def test_create_update_delete_many(sf_client, sf_state) -> None:
    created = sf_client.create_many("Contact", [{"LastName": "Ng"}, {"FirstName": "No last name"},
                                                {"LastName": "Ray", "Id": "003000000000000AAA"}])
    assert [r.success for r in created] == [True, False, True]
    assert created[1].error.error_code == "REQUIRED_FIELD_MISSING"
    updates = [{"Id": created[0].id, "LastName": "Ngo"}, {"LastName": "no id"},
               {"Id": created[2].id, "AccountId": "001000000000000AAA"}]
    updated = sf_client.update_many("Contact", updates)
    assert [r.index for r in updated] == [0, 1, 2]
    assert updated[0].success and sf_state.get("Contact", created[0].id)["LastName"] == "Ngo"
    assert updated[1].error.error_code == "MISSING_ID"
    assert isinstance(updated[2].error, AfterDependency | NeedsUser)
    deleted = sf_client.delete_many([created[0].id, created[0].id[:15] + "XYZ"])
    assert deleted[0].success and not deleted[1].success
    assert sf_state.get("Contact", created[0].id) is None
    again = sf_client.update_many("Contact", [{"Id": created[0].id, "LastName": "late"}])
    assert isinstance(again[0].error, Skippable)


def test_single_upsert_strips_the_external_id_from_the_body(sf_client, sf_state, sent) -> None:
    first = sf_client.upsert("Account", "QB_Customer_ID__c", "80000001-1", {"QB_Customer_ID__c": "80000001-1",
                                                                          "Name": "Acme"})
    assert first.success and first.created is True
    second = sf_client.upsert("Account", "QB_Customer_ID__c", "80000001-1", {"qb_customer_id__c": "80000001-1",
                                                                           "Name": "Acme Ltd"})
    assert second.success and second.created is False and second.id == first.id
    assert sf_state.get("Account", first.id)["Name"] == "Acme Ltd"
    bad = sf_client.upsert("Account", "QB_Customer_ID__c", "80000001-2", {"Name": "y" * 300})
    assert not bad.success and bad.error.error_code == "STRING_TOO_LONG"
    assert all("QB_Customer_ID__c" not in str(url).split("?")[0] or method == "PATCH" for method, url, _ in sent)


def test_every_request_carries_call_options_and_usage_is_tracked(sf_client, sent) -> None:
    sf_client.create_many("Account", [{"Name": "A"}])
    sf_client.query("SELECT Id FROM Account")
    data = [(method, url, h) for method, url, h in sent if "/services/data/" in url]
    assert len(data) == 2 and all(h.get("sforce-call-options") == "client=qbsf" for _, _, h in data)
    assert all(h.get("authorization", "").startswith("Bearer ") for _, _, h in data)
    assert sf_client.api_usage is not None and sf_client.api_usage.used == 2
    assert sf_client.api_usage.limit == 15000 and sf_client.api_usage.remaining == 14998
    assert sf_client.calls == 2
    limits = sf_client.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000


def test_composite_references_and_statuses(sf_client, sf_state) -> None:
    results = sf_client.composite([
        {"method": "POST", "url": "sobjects/Account", "referenceId": "acct", "body": {"Name": "Parent"}},
        {"method": "POST", "url": "sobjects/Contact", "referenceId": "ct",
         "body": {"LastName": "Child", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "sobjects/Account/@{acct.id}?fields=Name", "referenceId": "read"},
        {"method": "POST", "url": "sobjects/Contact", "referenceId": "bad", "body": {"FirstName": "x"}},
    ])
    assert [r.reference_id for r in results] == ["acct", "ct", "read", "bad"]
    assert [r.status for r in results][:3] == [201, 201, 200]
    assert sf_state.get("Contact", results[1].body["id"])["AccountId"] == results[0].body["id"]
    assert results[2].body["Name"] == "Parent"
    assert not results[3].ok and results[3].error.error_code == "REQUIRED_FIELD_MISSING"


def test_composite_chunks_by_25_and_refuses_cross_chunk_references(sf_client) -> None:
    subrequests = [{"method": "POST", "url": "sobjects/Account", "referenceId": f"a{i}", "body": {"Name": f"A{i}"}}
                   for i in range(30)]
    calls = sf_client.calls
    results = sf_client.composite(subrequests)
    assert len(results) == 30 and all(r.status == 201 for r in results) and sf_client.calls - calls == 2
    late = {"method": "PATCH", "url": "sobjects/Account/@{a0.id}", "referenceId": "late", "body": {"Name": "x"}}
    crossing = [*subrequests, late]
    with pytest.raises(QbsfError, match="another composite call"):
        sf_client.composite(crossing)
    with pytest.raises(NeedsUser, match="all-or-none"):
        sf_client.composite(subrequests, all_or_none=True)
    with pytest.raises(QbsfError, match="needs method, url and referenceId"):
        sf_client.composite([{"method": "GET", "url": "limits"}])


def test_composite_sends_at_most_five_queries_a_call(sf_client, sf_state) -> None:
    sf_state.insert("Account", {"Name": "Acme"})
    reads = [{"method": "GET", "url": "query?q=SELECT+Name+FROM+Account", "referenceId": f"q{i}"} for i in range(12)]
    writes = [{"method": "POST", "url": "sobjects/Account", "referenceId": f"a{i}", "body": {"Name": f"A{i}"}}
              for i in range(3)]
    calls = sf_client.calls
    results = sf_client.composite([*reads, *writes])
    assert sf_client.calls - calls == 3, "12 queries: 5 + 5 + 2, the writes ride along"
    assert [r.reference_id for r in results] == [f"q{i}" for i in range(12)] + [f"a{i}" for i in range(3)]
    assert all(r.ok for r in results) and results[11].body["records"][0]["Name"] == "Acme"
    with pytest.raises(NeedsUser, match="5 of them collections or queries"):
        sf_client.composite(reads, all_or_none=True)


def test_composite_all_or_none_rolls_back(sf_client, sf_state) -> None:
    results = sf_client.composite([
        {"method": "POST", "url": "sobjects/Account", "referenceId": "ok", "body": {"Name": "Rolled back"}},
        {"method": "POST", "url": "sobjects/Account", "referenceId": "bad", "body": {"Name": None}},
    ], all_or_none=True)
    assert results[0].error.error_code == "PROCESSING_HALTED" and isinstance(results[0].error, Retriable)
    assert results[1].error.error_code == "REQUIRED_FIELD_MISSING"
    assert sf_state.records("Account") == []


def test_updated_and_deleted_windows(sf_client, sf_state) -> None:
    now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    sf_state.clock = lambda: now
    changed = sf_state.insert("Account", {"Name": "Changed"})
    gone = sf_state.insert("Account", {"Name": "Gone"})
    sf_state.delete("Account", gone)
    now = dt.datetime(2026, 11, 24, 12, 5, tzinfo=dt.UTC)
    start, end = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC), dt.datetime(2026, 11, 24, 12, 5, tzinfo=dt.UTC)
    window = sf_client.updated("Account", start, end)
    assert window.ids == [changed] and window.latest_date_covered.startswith("2026-11-24T12:05")
    deleted = sf_client.deleted("Account", start, end)
    assert [r["id"] for r in deleted.records] == [gone] and deleted.earliest_date_available
    with pytest.raises(QbsfError, match="naive datetime"):
        sf_client.updated("Account", dt.datetime(2026, 1, 1), end)


def test_describe_is_cached(sf_client) -> None:
    first = sf_client.describe("QB_Invoice__c")
    calls = sf_client.calls
    assert sf_client.describe("QB_Invoice__c") is first and sf_client.calls == calls
    assert {"QB_Invoice_ID__c", "Linked_Account__c", "Status__c"} <= sf_client.field_names("QB_Invoice__c")
    with pytest.raises(NeedsUser) as caught:
        sf_client.describe("Nope__c")
    assert caught.value.error_code == "NOT_FOUND" or "package" in caught.value.hint


def test_get_one_record(sf_client, sf_state) -> None:
    record_id = sf_state.insert("Account", {"Name": "One", "QB_Customer_ID__c": "Q1"})
    record = sf_client.get("Account", record_id, ["Name", "QB_Customer_ID__c"])
    assert record["Name"] == "One" and record["QB_Customer_ID__c"] == "Q1"


def test_bad_api_version() -> None:
    from qbsf.salesforce import StaticTokenAuth

    with pytest.raises(QbsfError, match="API version"):
        SalesforceClient("http://127.0.0.1:1", StaticTokenAuth("x", "http://127.0.0.1:1"), api_version="v62")


def test_repeated_external_ids_go_in_later_calls_and_the_last_wins(sf_client, sf_state, sent) -> None:
    records = [{"QB_Customer_ID__c": "K1", "Name": "first"}, {"QB_Customer_ID__c": "K2", "Name": "other"},
               {"QB_Customer_ID__c": "k1", "Name": "second"}, {"QB_Customer_ID__c": "K1", "Name": "third"}]
    results = sf_client.upsert_many("Account", "QB_Customer_ID__c", records)
    patches = [url for method, url, _ in sent if method == "PATCH"]
    assert len(patches) == 3, "one call per repetition of a key, never a key twice in a call"
    assert [r.index for r in results] == [0, 1, 2, 3] and all(r.success for r in results)
    assert [r.created for r in results] == [True, True, False, False]
    assert len({results[0].id, results[2].id, results[3].id}) == 1
    assert sf_state.get("Account", results[0].id)["Name"] == "third"


def test_repeated_ids_in_update_many(sf_client, sf_state, sent) -> None:
    record_id = sf_state.insert("Account", {"Name": "v0"})
    results = sf_client.update_many("Account", [{"Id": record_id, "Name": "v1"}, {"Id": record_id[:15], "Name": "v2"}])
    assert [r.success for r in results] == [True, True]
    assert len([1 for method, _, _ in sent if method == "PATCH"]) == 2
    assert sf_state.get("Account", record_id)["Name"] == "v2"


def test_single_upsert_with_several_matches_changes_nothing(tmp_path) -> None:
    from qbsf.salesforce import ClientCredentialsAuth
    from qbsf.sim.salesforce import SalesforceState, start_emulator

    field = tmp_path / "objects" / "Account" / "fields" / "Legacy_Key__c.field-meta.xml"
    field.parent.mkdir(parents=True)
    field.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata"><fullName>Legacy_Key__c'
                     '</fullName><externalId>true</externalId><label>Legacy Key</label><length>20</length>'
                     '<type>Text</type><unique>false</unique></CustomField>\n')
    state = SalesforceState(metadata_dir=tmp_path / "objects")
    first = state.insert("Account", {"Name": "One", "Legacy_Key__c": "L-1"})
    state.insert("Account", {"Name": "Two", "Legacy_Key__c": "L-1"})
    with start_emulator(state) as emulator:
        auth = ClientCredentialsAuth(emulator.url, emulator.client_id, emulator.client_secret)
        with SalesforceClient(emulator.url, auth) as client:
            result = client.upsert("Account", "Legacy_Key__c", "L-1", {"Name": "Changed"})
    assert not result.success and result.error.error_code == "DUPLICATE_EXTERNAL_ID"
    assert isinstance(result.error, NeedsUser) and "2 Account records" in str(result.error)
    assert state.get("Account", first)["Name"] == "One"


def test_foreign_urls_and_bad_batch_sizes_are_refused(sf_client) -> None:
    with pytest.raises(QbsfError, match="refusing to send the Salesforce token"):
        sf_client.request("GET", "https://evil.example/services/data/v62.0/limits")
    with pytest.raises(QbsfError, match="outside Salesforce's 200–2,000"):
        sf_client.query("SELECT Id FROM Account", batch_size=50)


def test_missing_fields_follows_parent_paths(sf_client) -> None:
    paths = ["Name", "qb_customer_id__c", "Account.QB_Customer_ID__c", "Account.Owner.Name", "Nope__c",
             "Account.Nope__c", "Nobody.Name"]
    assert sf_client.missing_fields("Contact", paths) == ["Nope__c", "Account.Nope__c", "Nobody.Name"]
    calls = sf_client.calls
    assert sf_client.missing_fields("QB_Invoice__c", ["Linked_Account__r.Name", "Opportunity__r.StageName"]) == []
    assert sf_client.calls - calls == 2, "QB_Invoice__c and Opportunity described; Account was cached"


def test_clients_share_one_tls_context_per_verify_setting() -> None:
    # Each client once read the CA bundle into a context of its own (≈25 ms of a core): a hosted worker builds a
    # client for every company that moves to it.
    from qbsf.salesforce.auth import StaticTokenAuth

    url = "https://acme.my.salesforce.com"

    def context(client: SalesforceClient):
        return client.http._transport._pool._ssl_context

    clients = [SalesforceClient(url, StaticTokenAuth("t", url)) for _ in range(3)]
    unverified = SalesforceClient(url, StaticTokenAuth("t", url), verify=False)
    try:
        assert context(clients[0]) is context(clients[1]) is context(clients[2])
        assert context(clients[0]).check_hostname and not context(unverified).check_hostname
    finally:
        for client in [*clients, unverified]:
            client.close()
