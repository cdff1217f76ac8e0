"""Record ids: checksum suffix, 15 → 18 conversion, key prefixes."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.sim.salesforce.ids import checksum, make_id, to18


def test_checksum_matches_a_documented_salesforce_id():
    # From Salesforce's REST docs: 001R00000064wdtIAA.
    assert checksum("001R00000064wdt") == "IAA"
    assert to18("001R00000064wdt") == "001R00000064wdtIAA"


def test_18_char_ids_are_accepted_and_a_mangled_suffix_is_not():
    assert to18("001R00000064wdtIAA") == "001R00000064wdtIAA"
    assert to18("001r00000064wdtIAA") is None  # case-folded body no longer matches its suffix
    assert to18("not-an-id") is None
    assert to18("001R00000064wd") is None


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=62 ** 10 - 1))
def test_made_ids_are_valid_18_char_ids_with_the_prefix(sequence):
    made = make_id("006", sequence)
    assert len(made) == 18 and made.startswith("006")
    assert to18(made[:15]) == made


def test_made_ids_sort_by_creation_order():
    assert make_id("001", 9) < make_id("001", 10) < make_id("001", 61) < make_id("001", 62)
