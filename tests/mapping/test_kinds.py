import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.mapping import Direction, UnknownKind, catalogue, kind_by_sheet, kind_from_filename


@pytest.mark.parametrize(
    ("name", "sheet"),
    [
        ("Acct_to_Customer.csv", "Acct_to_Customer"),
        ("QB_SF_Mapping_Template_v3 - Customer_to_Acct.csv", "Customer_to_Acct"),
        ("qb_sf_mapping_template_v3 - customer_to_acct.CSV", "Customer_to_Acct"),
        ("/some/dir/Product_to_Item (1).csv", "Product_to_Item"),
        ("C:\\Users\\me\\Item_to_Product.csv", "Item_to_Product"),
        ("OPPTY_TO_INVOICE.csv", "Oppty_to_Invoice"),
        ("my Invoice_to_SF copy.csv", "Invoice_to_SF"),
        ("OpptyLines_CHILD_Oppty.csv", "OpptyLines_CHILD_Oppty"),
        ("Contact_to_SubCustomer.csv", "Contact_to_SubCustomer"),
        # The manual's older rule: the entity word alone.
        ("Acct.csv", "Acct_to_Customer"),
        ("Product mapping.csv", "Product_to_Item"),
        ("Oppty.csv", "Oppty_to_Invoice"),
        ("Invoice.csv", "Invoice_to_SF"),
        ("Oppty_CHILD_lines.csv", "OpptyLines_CHILD_Oppty"),
    ],
)
def test_file_name_selects_the_sheet(name: str, sheet: str) -> None:
    assert kind_from_filename(name).sheet == sheet


def test_inbound_customer_sheet_wins_over_the_acct_word() -> None:
    kind = kind_from_filename("QB_SF_Mapping_Template_v3 - Customer_to_Acct.csv")
    assert kind.direction is Direction.QB_TO_SF
    assert (kind.source_object, kind.target_object) == ("Customer", "Account")


def test_every_kind_knows_direction_objects_and_child() -> None:
    by_sheet = {kind.sheet: kind for kind in catalogue().kinds}
    assert len(by_sheet) == 19
    assert by_sheet["Invoice_to_SF"].sf_object == "QB_Invoice__c"
    assert by_sheet["Invoice_to_SF"].direction is Direction.QB_TO_SF
    lines = by_sheet["OpptyLines_CHILD_Oppty"]
    assert lines.child and lines.parent_sheet == "Oppty_to_Invoice" and lines.qb_entity == "InvoiceLine"
    assert [k.sheet for k in catalogue().kinds if k.child] == ["OpptyLines_CHILD_Oppty", "OrderLines_CHILD_Order",
                                                              "QuoteLines_CHILD_Quote"]
    assert by_sheet["Contact_to_SubCustomer"].qb_entity == "Customer"


def test_unknown_name_lists_the_sheet_names() -> None:
    with pytest.raises(UnknownKind, match="Acct_to_Customer, Customer_to_Acct"):
        kind_from_filename("fields.csv")


def test_two_different_sheet_names_are_ambiguous() -> None:
    with pytest.raises(UnknownKind, match="both Acct_to_Customer and Customer_to_Acct"):
        kind_from_filename("Acct_to_Customer or Customer_to_Acct.csv")


def test_child_marker_without_a_child_parent_is_refused() -> None:
    with pytest.raises(UnknownKind, match=r"the child sheets are OpptyLines_CHILD_Oppty .* or OrderLines_CHILD_Order"):
        kind_from_filename("Acct_CHILD_x.csv")


def test_kind_by_sheet() -> None:
    assert kind_by_sheet(" item_to_product ").sheet == "Item_to_Product"
    with pytest.raises(UnknownKind):
        kind_by_sheet("Deposit_to_SF")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_file_name_gives_a_kind_or_unknown_kind(name: str) -> None:
    try:
        kind = kind_from_filename(name)
    except UnknownKind as exc:
        assert str(exc)
    else:
        assert kind in catalogue().kinds


@pytest.mark.parametrize(("name", "candidates"), [
    ("Oppty_Invoice.csv", "Invoice_to_SF or Oppty_to_Invoice"),
    ("Contact Product.csv", "Contact_to_SubCustomer or Product_to_Item"),
])
def test_entity_words_of_two_sheets_are_refused_with_the_candidates(name: str, candidates: str) -> None:
    with pytest.raises(UnknownKind, match=f"could mean {candidates}; rename it to the one sheet it is"):
        kind_from_filename(name)


def test_a_sheet_name_still_wins_over_entity_words_inside_it() -> None:
    assert kind_from_filename("Oppty_to_Invoice.csv").sheet == "Oppty_to_Invoice"
    assert kind_from_filename("Invoice_to_SF (Oppty export).csv").sheet == "Invoice_to_SF"
