"""End to end with both emulators: Salesforce records become QuickBooks records, once, with the right values."""

from __future__ import annotations

from decimal import Decimal

from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.bodies import external_guid
from qbsf.sync.state import Direction, Outcome


def _invoice_lines(invoice: dict) -> list[dict]:
    lines = invoice.get("InvoiceLineRet") or []
    return lines if isinstance(lines, list) else [lines]


def test_initial_sync_creates_every_entity_and_writes_ids_back(world) -> None:
    seeded = seed_org(world.sf_state, accounts=4, contacts=3, products=3, opportunities=2, lines=2)
    report = world.engine().run_cycle()
    assert report.ok, report.failures
    assert {name: r.created for name, r in report.entities.items()} == {
        "Account": 4, "Contact": 3, "Product2": 3, "Opportunity": 2, "Order": 0, "Quote": 0}

    account = world.sf_state.get("Account", seeded.accounts[0])
    customer = world.customer_named("Customer 00000")
    assert account["QB_Customer_ID__c"] == customer["ListID"], "the QuickBooks id is written back"
    assert customer["ExternalGUID"] == external_guid(seeded.accounts[0])
    assert customer["BillAddress"]["City"] == account["BillingCity"]
    assert customer["Phone"] == account["Phone"]

    contact = world.sf_state.get("Contact", seeded.contacts[1])
    sub = world.customer_named(f"Customer 00001:{contact['Name']}")
    assert sub["ParentRef"]["ListID"] == world.sf_state.get("Account", seeded.accounts[1])["QB_Customer_ID__c"]
    assert contact["QB_Customer_ID__c"] == sub["ListID"]

    product = world.sf_state.get("Product2", seeded.products[2])
    (item,) = [i for i in world.qb_sim.items() if i["Name"] == product["Name"]]
    assert product["QB_Item_ID__c"] == item["ListID"]
    assert Decimal(item["SalesOrPurchase"]["Price"]) == Decimal(str(product["QB_Sales_Price__c"]))
    assert item["SalesOrPurchase"]["AccountRef"]["FullName"] == "Sales"

    opportunity = world.sf_state.get("Opportunity", seeded.opportunities[0])
    (invoice,) = [i for i in world.qb_sim.invoices() if i["TxnID"] == opportunity["QB_Invoice_ID__c"]]
    assert invoice["CustomerRef"]["FullName"] == "Customer 00000"
    assert invoice["Memo"] == "Opportunity: Deal 00000"
    items = {i["ListID"]: i["Name"] for i in world.qb_sim.items()}
    assert [(items[line["ItemRef"]["ListID"]], Decimal(line["Quantity"])) for line in _invoice_lines(invoice)] == [
        ("Product 0000", Decimal(1)), ("Product 0001", Decimal(2))]

    # The write-backs bumped SystemModstamp, but as the engine's own writes (qbsf.sync.write_back): the next cycle
    # does not even read them again, and sends QuickBooks nothing (no echo).
    again = world.engine().run_cycle()
    assert again.ok and again.qb_messages == 0
    assert again.total("read") == again.total("unchanged") == 0
    assert again.total("created") == again.total("updated") == 0
    assert again.sf_calls <= len(world.engine().entities()), "one query per object, nothing written"


def test_modifications_of_each_entity_reach_quickbooks(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2, contacts=1, products=2, opportunities=1, lines=1)
    assert world.engine().run_cycle().ok
    world.sf_state.update("Account", seeded.accounts[0], {"BillingCity": "Oakland", "Phone": "(510) 555-0000"})
    world.sf_state.update("Contact", seeded.contacts[0], {"Email": "NEW@Example.com", "LastName": "Renamed"})
    world.sf_state.update("Product2", seeded.products[1], {"QB_Sales_Price__c": 99.5, "Description": "Better"})
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"Name": "Deal renamed"})
    report = world.engine().run_cycle()
    assert report.ok, report.failures
    assert {name: r.updated for name, r in report.entities.items()} == {
        "Account": 1, "Contact": 1, "Product2": 1, "Opportunity": 1, "Order": 0, "Quote": 0}
    customer = world.customer_named("Customer 00000")
    assert (customer["BillAddress"]["City"], customer["Phone"]) == ("Oakland", "(510) 555-0000")
    contact = world.sf_state.get("Contact", seeded.contacts[0])
    sub = world.customer_named(f"Customer 00000:{contact['Name']}")
    assert sub["Email"] == "new@example.com", "the mapping lower-cases email"
    assert sub["ListID"] == contact["QB_Customer_ID__c"], "renamed in place, not re-created"
    item = world.qb_sim.get(world.sf_state.get("Product2", seeded.products[1])["QB_Item_ID__c"])
    assert Decimal(item["SalesOrPurchase"]["Price"]) == Decimal("99.5")
    assert item["SalesOrPurchase"]["Desc"] == "Better"
    invoice = world.qb_sim.get(world.sf_state.get("Opportunity", seeded.opportunities[0])["QB_Invoice_ID__c"])
    assert invoice["Memo"] == "Opportunity: Deal renamed"
    assert len(world.customers()) == 3 and len(world.qb_sim.invoices()) == 1, "nothing duplicated"
    updates = [a for a in world.state.recent(100) if a.outcome is Outcome.UPDATED]
    assert {a.entity for a in updates} == {"Account", "Contact", "Product2", "Opportunity"}


def test_invoice_lines_added_changed_and_removed(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1, products=3, opportunities=1, lines=2)
    assert world.engine().run_cycle().ok
    opportunity_id = seeded.opportunities[0]
    first, second = seeded.lines
    world.sf_state.update("OpportunityLineItem", first, {"Quantity": 7})
    world.sf_state.delete("OpportunityLineItem", second)
    entry = next(e["Id"] for e in world.sf_state.records("PricebookEntry") if e["Product2Id"] == seeded.products[2])
    world.sf_state.insert("OpportunityLineItem", {"OpportunityId": opportunity_id, "PricebookEntryId": entry,
                                                  "Quantity": 3, "UnitPrice": 12})
    report = world.engine().run_cycle()
    assert report.ok and report.entities["Opportunity"].updated == 1
    invoice = world.qb_sim.get(world.sf_state.get("Opportunity", opportunity_id)["QB_Invoice_ID__c"])
    items = {i["ListID"]: i["Name"] for i in world.qb_sim.items()}
    lines = sorted((items[line["ItemRef"]["ListID"]], Decimal(line["Quantity"]), Decimal(line["Rate"]))
                   for line in _invoice_lines(invoice))
    assert lines == [("Product 0000", Decimal(7), Decimal(10)), ("Product 0002", Decimal(3), Decimal(12))]
    assert len(world.qb_sim.invoices()) == 1


def test_missing_parents_sync_first_in_the_same_cycle(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2, products=2, opportunities=1, lines=2)
    report = world.engine().sync_sf_to_qb(["Opportunity"])
    assert report.ok, report.failures
    assert report.entities["Opportunity"].created == 1
    assert report.entities["Account"].created == 1, "only the Account the Opportunity needs"
    assert report.entities["Product2"].created == 2
    opportunity = world.sf_state.get("Opportunity", seeded.opportunities[0])
    invoice = world.qb_sim.get(opportunity["QB_Invoice_ID__c"])
    assert invoice["CustomerRef"]["ListID"] == world.sf_state.get("Account", seeded.accounts[0])["QB_Customer_ID__c"]
    assert world.sf_state.get("Account", seeded.accounts[1]).get("QB_Customer_ID__c") is None


def test_a_failed_parent_fails_its_children_with_the_manuals_message(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2, contacts=2, products=1, opportunities=2, lines=1)
    # QuickBooks names are unique across customers and vendors: this Account cannot become a customer.
    world.qb_sim.add("Vendor", {"Name": "Customer 00001"})
    report = world.engine().run_cycle()
    assert report.entities["Account"].created == 1 and report.entities["Account"].failed == 1
    failures = {sf_id: message for _entity, sf_id, _name, message in report.failures}
    assert "3100" in failures[seeded.accounts[1]] or "name" in failures[seeded.accounts[1]].lower()
    child_messages = [failures[seeded.contacts[1]], failures[seeded.opportunities[1]]]
    for message in child_messages:
        assert message.startswith("Link: No Account found in QuickBooks"), message
        assert "sync the Account first" in message
    assert report.entities["Opportunity"].created == 1 and report.entities["Contact"].created == 1
    failed = world.state.recent(50, failed_only=True)
    assert {a.sf_id for a in failed} == {seeded.accounts[1], seeded.contacts[1], seeded.opportunities[1]}


def test_a_product_without_income_account_fails_clearly_while_the_rest_syncs(world) -> None:
    seed_org(world.sf_state, accounts=2, products=2, opportunities=1, lines=1)
    world.config.income_account = ""
    world.qb.default_accounts = type(world.qb.default_accounts)()
    report = world.engine().run_cycle()
    assert report.entities["Account"].created == 2
    assert report.entities["Product2"].failed == 2 and report.entities["Product2"].created == 0
    product_messages = [m for entity, _id, _name, m in report.failures if entity == "Product2"]
    assert all("income account required" in m and "QB Accounts settings" in m for m in product_messages)
    (opportunity_message,) = [m for entity, _id, _name, m in report.failures if entity == "Opportunity"]
    assert "Product2" in opportunity_message and "QuickBooks" in opportunity_message
    assert world.qb_sim.items() == [] or all(i["kind"] != "ItemService" for i in world.qb_sim.items())


def test_dry_run_writes_nothing_anywhere(world) -> None:
    seed_org(world.sf_state, accounts=2, products=1, opportunities=1, lines=1)
    before = len(world.customers())
    report = world.engine().sync_sf_to_qb(dry_run=True)
    assert report.dry_run and report.error is None
    planned = {(name, op) for name, r in report.entities.items() for op, *_ in r.planned}
    assert planned == {("Account", "create"), ("Product2", "create"), ("Opportunity", "create")}
    (invoice,) = report.entities["Opportunity"].planned
    assert invoice[3]["CustomerRef.ListID"].startswith("(new Account ")
    assert report.total("failed") == 0
    assert len(world.customers()) == before
    assert world.state.count_links() == {} and world.state.recent() == [] and world.state.watermarks() == {}
    assert all(a.get("QB_Customer_ID__c") is None for a in world.sf_state.records("Account"))


def test_full_sync_twice_is_safe(world) -> None:
    seed_org(world.sf_state, accounts=3, contacts=2, products=2, opportunities=2, lines=2)
    first = world.engine().sync_sf_to_qb(full=True)
    second = world.engine().sync_sf_to_qb(full=True)
    assert first.ok and second.ok
    assert second.total("created") == 0 and second.qb_messages == 0
    assert len(world.customers()) == 5 and len(world.qb_sim.invoices()) == 2


def test_existing_quickbooks_record_with_the_same_name_is_linked_not_duplicated(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    existing = world.qb_sim.add("Customer", {"Name": "Customer 00000", "Phone": "old"})
    report = world.engine().run_cycle()
    assert report.entities["Account"].linked == 1 and report.entities["Account"].created == 1
    assert world.customer_named("Customer 00000")["ListID"] == existing["ListID"]
    assert world.customer_named("Customer 00000")["Phone"] == "(415) 555-0000", "Salesforce's values win"
    assert world.sf_state.get("Account", seeded.accounts[0])["QB_Customer_ID__c"] == existing["ListID"]


def test_existing_name_reported_as_conflict_when_configured(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    world.qb_sim.add("Customer", {"Name": "Customer 00000"})
    report = world.engine(on_existing_name="report").run_cycle()
    (failure,) = report.failures
    assert failure[1] == seeded.accounts[0]
    assert "already has a Customer named 'Customer 00000'" in failure[3] and "qbsf link" in failure[3]
    assert len(world.customers()) == 1


def test_busy_failures_retry_with_backoff_then_park(world) -> None:
    """Retriable (QuickBooks busy, 3170): tried again each cycle (no backoff here), parked after max_attempts."""
    seeded = seed_org(world.sf_state, accounts=1)
    world.qb_sim.fail_next(3170, times=3, request_type="CustomerAdd")
    engine = world.engine(max_attempts=3)
    for attempt in (1, 2):
        report = engine.run_cycle()
        assert report.entities["Account"].failed == 1 and report.entities["Account"].parked == 0, attempt
    third = engine.run_cycle()
    assert third.entities["Account"].parked == 1
    fourth = engine.run_cycle()
    assert fourth.entities["Account"].failed == 0 and fourth.qb_messages == 0, "parked: not tried again"
    (parked,) = world.state.failures(parked=True)
    assert parked.record_key == seeded.accounts[0] and parked.attempts == 3 and parked.kind == "RecordBusy"
    # Changing the record un-parks it; QuickBooks is no longer busy.
    world.sf_state.update("Account", seeded.accounts[0], {"Phone": "555-0101"})
    fifth = engine.run_cycle()
    assert fifth.ok and fifth.entities["Account"].created == 1
    assert world.state.failures() == []


def test_a_name_in_use_is_parked_at_once_until_the_record_changes(world) -> None:
    """NeedsUser (3100, the name is a Vendor's): parked at the first failure, with its message; not retried."""
    seeded = seed_org(world.sf_state, accounts=2)
    world.qb_sim.add("Vendor", {"Name": "Customer 00001"})
    engine = world.engine(max_attempts=3)
    first = engine.run_cycle()
    assert first.entities["Account"].failed == 1 and first.entities["Account"].parked == 1
    (parked,) = world.state.failures(parked=True)
    assert parked.record_key == seeded.accounts[1] and parked.attempts == 1 and parked.kind == "NameInUse"
    assert "names are unique" in parked.message
    logged = world.state.recent(failed_only=True)[0]
    assert logged.outcome == "parked" and "parked: fix it" in (logged.message or "")
    second = engine.run_cycle()
    assert second.entities["Account"].failed == 0 and second.qb_messages == 0, "parked: not tried again"
    # Changing the record un-parks it; renaming it lets it through.
    world.sf_state.update("Account", seeded.accounts[1], {"Name": "Customer 00001 (renamed)"})
    third = engine.run_cycle()
    assert third.ok and third.entities["Account"].created == 1
    assert world.state.failures() == []


def test_queue_source_marks_rows_done_or_failed(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2, products=1)
    world.qb_sim.add("Vendor", {"Name": "Customer 00001"})
    report = world.engine(change_source="queue").run_cycle()
    assert report.entities["Account"].created == 1 and report.entities["Product2"].created == 1
    rows = {row["Record_Id__c"]: row for row in world.sf_state.records("QBSync_Queue__c")}
    assert rows[seeded.accounts[0]]["Status__c"] == "Done"
    assert rows[seeded.accounts[1]]["Status__c"] == "Failed" and "3100" in rows[seeded.accounts[1]]["Error__c"]
    assert rows[seeded.products[0]]["Status__c"] == "Done"
    assert all(row["Attempts__c"] == 1 for row in rows.values())


def test_activity_log_records_each_attempt(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    world.engine().run_cycle()
    (created,) = world.state.recent(10, entity="Account")
    assert created.outcome is Outcome.CREATED and created.direction is Direction.SF_TO_QB
    assert created.sf_id == seeded.accounts[0] and created.qb_id and "Customer 00000" in created.message
    assert world.state.totals() == {"Account": {"created": 1}}


def test_write_back_to_a_deleted_record_gives_up_with_a_logged_failure(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    engine = world.engine()
    outbound_state = world.state
    from qbsf.sync.state import Link

    # A link recorded locally whose Salesforce record was deleted before the write-back.
    world.sf_state.delete("Account", seeded.accounts[1])
    outbound_state.record_many([Link("Account", seeded.accounts[1], "80000099-1")])
    report = engine.run_cycle()
    assert report.ok and report.entities["Account"].created == 1
    assert outbound_state.pending_write_backs("Account") == []
    (gave_up,) = outbound_state.recent(20, failed_only=True)
    assert gave_up.operation == "write_back" and gave_up.sf_id == seeded.accounts[1]
    assert "QB_Customer_ID__c" in gave_up.message
    again = engine.run_cycle()
    # one change poll per synced Salesforce object, and nothing more: no write-back is retried
    assert again.sf_calls <= len(engine.entities()), "no write-back is retried for the deleted record"
