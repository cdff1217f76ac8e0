"""Property: any storable customer goes to QuickBooks and comes back unchanged (schema-checked both ways)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import QuickBooksClient

# Latin-1 text QuickBooks keeps as typed: no control characters, no surrounding spaces (QuickBooks trims them).
_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters=":\x7f")


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_CHARS, min_size=1, max_size=max_size).map(str.strip).filter(bool)


customers = st.fixed_dictionaries({
    "CompanyName": _text(41), "Phone": _text(21), "Email": _text(60), "Notes": _text(200),
    "BillAddress.Addr1": _text(41), "BillAddress.City": _text(31), "BillAddress.State": _text(21),
    "BillAddress.PostalCode": _text(13), "CreditLimit": st.decimals(min_value=0, max_value=10**9, places=2),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=customers, number=st.integers(min_value=0, max_value=10**9))
def test_customer_fields_survive_the_round_trip(qb_sim, validating, values, number):
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    client = QuickBooksClient(validating(SimulatorTransport(qb_sim)), qbxml_version="16.0", field_policy="fail")
    sent = rec.customer_from_flat({"Name": f"Prop {number} <&>", **values})
    added = client.add(sent)
    [read] = list(client.query_customers(list_ids=[added.ListID]))
    got = rec.to_flat(read)
    for path, value in values.items():
        assert got[path] == (Decimal(value) if path == "CreditLimit" else value), path
    assert read.Name == f"Prop {number} <&>"
    qb_sim.delete(added.ListID)
