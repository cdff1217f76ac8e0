"""One record never stops a pass: values qbXML cannot carry, NaN amounts and mapping exceptions fail one record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbsf.errors import NeedsUser
from qbsf.quickbooks.errors import FieldValueError
from qbsf.quickbooks.messages import format_value, request
from qbsf.sync.record_guard import refuse_non_numbers, refuse_unsendable


@pytest.mark.parametrize("name", ["Bad\x01Name", "Esc\x1bape", "Nul\x00Co", "Form\x0cfeed"])
def test_a_control_character_in_an_account_name_fails_that_account_alone(world, name) -> None:
    bad = world.sf_state.insert("Account", {"Name": name})
    good = world.sf_state.insert("Account", {"Name": "Good Co", "Phone": "555-0100"})
    engine = world.engine()
    report = engine.run_cycle()
    assert report.error is None, report.error
    ((entity, sf_id, _label, message),) = report.failures
    assert (entity, sf_id) == ("Account", bad)
    assert "Name (QuickBooks Name) contains a control character" in message and "remove the character" in message
    assert world.sf_state.get("Account", good)["QB_Customer_ID__c"], "the other Account synced"
    assert [c["Name"] for c in world.customers()] == ["Good Co"]
    # The next cycles go on: the bad record keeps failing alone, everything else keeps syncing.
    other = world.sf_state.insert("Account", {"Name": "Later Co"})
    again = engine.run_cycle()
    assert again.error is None and world.sf_state.get("Account", other)["QB_Customer_ID__c"]
    assert world.state.failures()[0].record_key == bad


def test_tabs_and_newlines_in_a_name_become_spaces(world) -> None:
    account = world.sf_state.insert("Account", {"Name": "Acme\nWest\t\tCo", "Phone": "555-0100"})
    report = world.engine().run_cycle()
    assert report.ok, report.failures
    customer = world.qb_sim.get(world.sf_state.get("Account", account)["QB_Customer_ID__c"])
    assert (customer["Name"], customer["CompanyName"]) == ("Acme West Co", "Acme West Co")
    # The next cycle finds it unchanged (the hash is of what was sent): no Mod, no duplicate.
    again = world.engine().run_cycle()
    assert again.total("updated") == again.total("created") == 0 and len(world.customers()) == 1


def test_an_exception_mapping_one_record_fails_that_record_alone(world, monkeypatch) -> None:
    mapping = world.mappings["Acct_to_Customer"]
    real = mapping.apply

    def apply(record, lookups=None):
        if record.get("Name") == "Explodes":
            raise RuntimeError("unexpected value")
        return real(record, lookups)

    def apply_many(records, lookups=None, resolver=None):
        raise RuntimeError("unexpected value")

    monkeypatch.setattr(mapping, "apply", apply)
    monkeypatch.setattr(mapping, "apply_many", apply_many)
    world.sf_state.insert("Account", {"Name": "Explodes"})
    fine = world.sf_state.insert("Account", {"Name": "Fine"})
    report = world.engine().run_cycle()
    assert report.error is None
    ((_entity, _id, name, message),) = report.failures
    assert name == "Explodes" and "the mapping could not be applied (unexpected value)" in message
    assert world.sf_state.get("Account", fine)["QB_Customer_ID__c"]


def test_an_exception_mapping_one_quickbooks_record_fails_it_alone(world, monkeypatch) -> None:
    mapping = world.mappings["Customer_to_Acct"]
    real = mapping.apply

    def apply(record, lookups=None):
        if record.get("Name") == "Explodes":
            raise RuntimeError("unexpected value")
        return real(record, lookups)

    def apply_many(records, lookups=None, resolver=None):
        raise RuntimeError("unexpected value")

    monkeypatch.setattr(mapping, "apply", apply)
    monkeypatch.setattr(mapping, "apply_many", apply_many)
    world.qb_sim.add("Customer", {"Name": "Explodes"})
    world.qb_sim.add("Customer", {"Name": "Fine"})
    report = world.engine().sync_qb_to_sf(["Customer"])
    assert report.error is None
    ((_entity, _id, name, message),) = report.failures
    assert name == "Explodes" and "could not be applied" in message
    assert [a["Name"] for a in world.sf_state.records("Account")] == ["Fine"]


def test_a_nan_or_infinite_amount_fails_its_record_alone(world) -> None:
    from qbsf.mapping import load_mapping_bytes
    from qbsf.sync.entities import CATALOGUE

    # A mapping that passes a text field into an amount as it is (no NumberFormat to catch it).
    csv = (b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
           b"Name,Name,Y,Trim|Left:31,,\nProductCode,SalesPrice,N,Simple,,\n")
    world.mappings["Product_to_Item"] = load_mapping_bytes(csv, "Product_to_Item.csv",
                                                       CATALOGUE.kind_by_sheet("Product_to_Item"))
    ids = {name: world.sf_state.insert("Product2", {"Name": name, "IsActive": True, "ProductCode": code})
           for name, code in (("Odd NaN", "NaN"), ("Odd Infinity", "-Infinity"), ("Widget", "12.5"))}
    report = world.engine().run_cycle()
    assert report.error is None, report.error
    failed = {name: message for _entity, _id, name, message in report.failures}
    assert set(failed) == {"Odd NaN", "Odd Infinity"}
    assert all("Price is" in m and "not an amount" in m for m in failed.values()), failed
    assert world.sf_state.get("Product2", ids["Widget"])["QB_Item_ID__c"]
    assert [(i["Name"], i["SalesOrPurchase"]["Price"]) for i in world.qb_sim.items()] == [("Widget", "12.5")]


def test_the_guard_names_the_field_and_leaves_good_values_alone() -> None:
    target = {"Name": "Two\r\nLines", "Phone": "555", "lines": [{"Rate": Decimal("NaN")}]}
    error = refuse_unsendable("Opportunity 'X'", target, {"Name": "Name"}, {"Rate": "UnitPrice"})
    assert isinstance(error, NeedsUser) and "Opportunity 'X' line 1: UnitPrice (QuickBooks Rate) is NaN" in str(error)
    assert target["Name"] == "Two Lines"
    assert refuse_unsendable("Account 'Y'", {"Notes": "tab\tand\nnewline kept"}) is None
    assert refuse_non_numbers("Invoice 7", {"Balance__c": float("inf")}, {"Balance__c": "BalanceRemaining"}) \
        is not None
    assert refuse_non_numbers("Invoice 7", {"Balance__c": 12.5}) is None


def test_qbxml_building_refuses_what_xml_cannot_carry_with_a_field_error() -> None:
    with pytest.raises(FieldValueError, match="FullName contains a control character"):
        request("CustomerQueryRq", "q0", {"FullName": ["Bad\x01Name"]})
    with pytest.raises(FieldValueError, match="Amount is Infinity"):
        format_value(Decimal("Infinity"), "Amount")


def test_the_field_policy_never_drops_a_control_character_silently() -> None:
    from qbsf.quickbooks.limits import enforce

    with pytest.raises(FieldValueError, match=r"Customer 'X': Phone contains a control character \(\\x07\)"):
        enforce("Customer", {"Phone": "555\x070100"}, record="Customer 'X'", policy="transliterate")
    clean, _issues = enforce("Customer", {"Name": "Two\nLines", "Notes": "kept\nas is"}, record="Customer 'X'",
                             policy="transliterate")
    assert clean == {"Name": "Two Lines", "Notes": "kept\nas is"}


class _ControlCharacterInQuickBooks:
    """QuickBooks answering with a customer name that holds a control character (typed or imported there)."""

    def __init__(self, inner, name: str, written: str) -> None:
        self.inner, self.name, self.written = inner, name, written

    def send(self, xml: str) -> str:
        return self.inner.send(xml).replace(self.name, self.written)

    def __getattr__(self, attribute: str):
        return getattr(self.inner, attribute)


@pytest.mark.parametrize("written", ["Bad&#1;Name", "Bad\x1bName"])
def test_a_control_character_quickbooks_sends_fails_that_customer_alone(world, written) -> None:
    from qbsf.quickbooks.client import QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sync.engine import SyncEngine

    world.qb_sim.add("Customer", {"Name": "BadXName", "Phone": "555-0100"})
    world.qb_sim.add("Customer", {"Name": "Good Name", "Phone": "555-0101"})
    qb = QuickBooksClient(_ControlCharacterInQuickBooks(SimulatorTransport(world.qb_sim), "BadXName", written))
    report = SyncEngine(world.config, world.sf, qb, world.state, world.mappings).sync_qb_to_sf(["Customer"])
    assert report.error is None, report.error
    ((_entity, _id, _name, message),) = report.failures
    assert "QuickBooks Name holds a control character that XML cannot carry" in message
    assert "remove the character from Name in QuickBooks" in message
    assert [a["Name"] for a in world.sf_state.records("Account")] == ["Good Name"]
