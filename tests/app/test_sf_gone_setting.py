"""sync.on_sf_gone is checked against each object's declaration: an action that would do nothing is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from qbsf.app.settings import SyncSettings


def test_each_object_takes_the_actions_its_quickbooks_record_allows() -> None:
    chosen = {"Account": "inactivate", "Product2": "report", "Opportunity": "memo"}
    assert SyncSettings(on_sf_gone=chosen).on_sf_gone == chosen


@pytest.mark.parametrize(("name", "action", "words"), [
    ("Opportunity", "inactivate", "'inactivate' does nothing to a QuickBooks invoice; choose report, memo or void"),
    ("Contact", "memo", "'memo' does nothing to a QuickBooks customer; choose report or inactivate"),
    ("Lead", "report", "no synced entity is called 'Lead'"),
])
def test_an_action_that_would_do_nothing_is_refused_saying_which_do(name: str, action: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        SyncSettings(on_sf_gone={name: action})
