"""Status codes → typed errors, classified by what the engine does next."""

from __future__ import annotations

import pytest

from qbsf.errors import AfterDependency, NeedsUser, Retriable, Skippable
from qbsf.quickbooks.errors import STATUS_TABLE, InvalidSetupReference, QuickBooksError, error_for_status


@pytest.mark.parametrize(("code", "category"), [
    (3170, Retriable), (3175, Retriable), (3180, Retriable), (3200, Retriable), (3231, Retriable),
    (3130, AfterDependency), (3140, AfterDependency), (3100, NeedsUser), (3210, NeedsUser), (500, Skippable),
    (3120, Skippable),
    (9999, NeedsUser),
])
def test_each_code_has_one_category(code, category):
    error = error_for_status(code, "QuickBooks says no", request="CustomerAdd", request_id="4", record="Customer 'A'")
    assert isinstance(error, QuickBooksError) and isinstance(error, category)
    others = {Retriable, AfterDependency, NeedsUser, Skippable} - {category}
    assert not any(isinstance(error, other) for other in others)
    assert error.code == code and error.status_message == "QuickBooks says no" and error.request_id == "4"
    assert f"status {code}" in str(error) and "Customer 'A'" in str(error) and error.hint


def test_reference_hint_names_what_to_sync_first():
    item = error_for_status(3140, 'There is an invalid reference to QuickBooks Item "Gizmo" in the Invoice line.',
                            request="InvoiceAdd")
    customer = error_for_status(3140, 'There is an invalid reference to QuickBooks Customer "Acme" in the Invoice.',
                                request="InvoiceAdd")
    assert "Sync Product2 to QB before syncing Opportunity" in item.hint
    assert "Sync the Account to QB" in customer.hint
    terms = error_for_status(3140, 'There is an invalid reference to QuickBooks Terms "Net 99" in the Customer.',
                             request="CustomerAdd")
    assert isinstance(terms, InvalidSetupReference) and isinstance(terms, NeedsUser)
    assert not isinstance(terms, AfterDependency) and "Terms List" in terms.hint


def test_every_table_entry_is_a_categorised_error():
    for code, rule in STATUS_TABLE.items():
        assert issubclass(rule.error, Retriable | AfterDependency | NeedsUser | Skippable), code
