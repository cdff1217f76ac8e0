"""AddressSplit: 41-character QuickBooks address lines."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.mapping import QB_ADDRESS_LINE, split_address
from qbsf.mapping.address import address_line


def test_short_address_is_one_line() -> None:
    assert split_address("1 Market Street") == ["1 Market Street"]


def test_long_line_breaks_at_the_last_space_that_fits() -> None:
    lines = split_address("1234 Northwest Industrial Parkway Boulevard, Building 7, Suite 400")
    assert lines == ["1234 Northwest Industrial Parkway", "Boulevard, Building 7, Suite 400"]
    assert all(len(line) <= 41 for line in lines)


def test_existing_line_breaks_always_start_a_new_line() -> None:
    assert split_address("Suite 1\nBuilding 2\r\nPO Box 3\rFloor 4") == ["Suite 1", "Building 2", "PO Box 3", "Floor 4"]


def test_blank_lines_are_dropped() -> None:
    assert split_address("A\n\n  \nB") == ["A", "B"]


def test_a_word_longer_than_a_line_is_cut() -> None:
    word = "X" * 50
    assert split_address(word) == ["X" * 41, "X" * 9]


def test_exactly_41_characters_fit() -> None:
    text = "A" * 20 + " " + "B" * 20
    assert split_address(text) == [text]


def test_address_line_beyond_the_end_is_empty() -> None:
    assert address_line("One", 2) == ""
    assert address_line("", 1) == ""


_word = st.text(alphabet=st.sampled_from(list("abcXYZ,.#-\u00e91")), min_size=1, max_size=50)
_gap = st.sampled_from([" ", "  ", "\n", "\r\n", " \n ", "\t"])
_text = st.one_of(
    st.lists(st.one_of(_word, _gap), max_size=60).map("".join),
    st.text(max_size=300),  # any Unicode at all, line separators included
)


@settings(max_examples=200, deadline=None)
@given(_text)
def test_lines_never_exceed_41_and_keep_every_word_in_order(text: str) -> None:
    lines = split_address(text)
    assert all(0 < len(line) <= QB_ADDRESS_LINE for line in lines)
    assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)
    # Whole words that fit in a line are never split across two lines.
    words = [w for w in text.split() if len(w) <= QB_ADDRESS_LINE]
    line_words = [w for line in lines for w in line.split()]
    assert all(w in line_words for w in words)
