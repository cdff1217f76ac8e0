"""Property tests: whatever names and operations arrive, answers validate and the name rules hold."""

from __future__ import annotations

from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbsf.sim.quickbooks import QuickBooksSimulator

# Latin-1 letters, a few outside it, the colon, spaces and XML specials: the interesting cases for names.
_NAME = st.text(alphabet=st.sampled_from(list("abcAB xyz:&<'\"\u00e9\u00df\u0141\u4e2d")), min_size=1, max_size=12)
_OPERATION = st.tuples(st.sampled_from(["add", "sub", "rename", "vendor"]), _NAME, st.integers(0, 20))
_ALLOWED = {"0", "3090", "3100", "3120", "3140", "3150"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(_OPERATION, min_size=1, max_size=25))
def test_any_sequence_of_name_operations_keeps_quickbooks_rules(validating, operations):
    sim = QuickBooksSimulator()
    try:
        transport = validating(sim)
        for operation, name, pick in operations:
            existing = sim.customers()
            target = existing[pick % len(existing)] if existing else None
            if operation == "add" or target is None:
                request = f"<CustomerAddRq><CustomerAdd><Name>{escape(name)}</Name></CustomerAdd></CustomerAddRq>"
            elif operation == "sub":
                request = (f"<CustomerAddRq><CustomerAdd><Name>{escape(name)}</Name><ParentRef><ListID>"
                           f"{target['ListID']}</ListID></ParentRef></CustomerAdd></CustomerAddRq>")
            elif operation == "rename":
                request = (f"<CustomerModRq><CustomerMod><ListID>{target['ListID']}</ListID><EditSequence>"
                           f"{target['EditSequence']}</EditSequence><Name>{escape(name)}</Name></CustomerMod>"
                           "</CustomerModRq>")
            else:
                request = f"<VendorAddRq><VendorAdd><Name>{escape(name)}</Name></VendorAdd></VendorAddRq>"
            response = transport.send('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq '
                                      f'onError="stopOnError">{request}</QBXMLMsgsRq></QBXML>')
            code = response.split('statusCode="')[1].split('"')[0]
            assert code in _ALLOWED, response
            if ":" in name:
                assert code in ("3090", "3140", "3120"), response
        customers, vendors = sim.customers(), sim.vendors()
        full_names = [c["FullName"].upper() for c in customers] + [v["Name"].upper() for v in vendors]
        assert len(full_names) == len(set(full_names))  # one namespace for customers and vendors
        for customer in customers:
            assert ":" not in customer["Name"]
            assert customer["FullName"].count(":") == int(customer["Sublevel"]) <= 5
            assert all(ord(ch) < 256 for ch in customer["FullName"])  # Latin-1 only, others became '?'
    finally:
        sim.close()
