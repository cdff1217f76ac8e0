"""Loading mapping CSVs as spreadsheets write them, and rejecting bad ones with every problem listed."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import ConfigError
from qbsf.mapping import MappingFileError, load_mapping, load_mapping_bytes
from qbsf.mapping.loader import HEADER_LINE

NAME = "QB_SF_Mapping_Template_v3 - Acct_to_Customer.csv"


def problems_of(data: bytes, name: str = NAME) -> list[str]:
    with pytest.raises(MappingFileError) as caught:
        load_mapping_bytes(data, name)
    return [str(p) for p in caught.value.problems]


def test_manual_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "Invoice_to_SF.csv"
    path.write_text(
        "SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
        "Name,Name,Y,Simple,,Customer name\n"
        "BillingStreet,BillAddr1,N,AddressSplit:1,,First 41 chars of address\n"
        "BillingStreet,BillAddr2,N,AddressSplit:2,,Address overflow\n"
        "CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Customer_ID__c,,Links to SF Account\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.kind.sheet == "Invoice_to_SF"
    assert mapping.target_fields == ["Name", "BillAddr1", "BillAddr2", "Linked_Account__c"]
    assert mapping.source_fields == ["Name", "BillingStreet", "CustomerRef.ListID"]
    assert [str(k) for k in mapping.links] == ["Account.QB_Customer_ID__c"]
    assert mapping.rules[0].required and not mapping.rules[1].required
    assert mapping.rules[3].line == 5 and mapping.rules[3].notes == "Links to SF Account"


def test_spreadsheet_output_is_accepted() -> None:
    text = (
        "\ufeffSF_Field_API_Name , QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\r\n"
        "  Name  , Name , y ,  Trim ,,\r\n"
        'Description,Notes,n,"Concatenate:Note, {value}",,"a note, with a comma"\r\n'
        "Phone,Phone,YES,,,\r\n"
        "Fax,Fax,No,,,\r\n"
        "Website,AltPhone,,,,\r\n"
        ",,,,,\r\n"
        "\r\n"
        ",,,,,\r\n"
    )
    mapping = load_mapping_bytes(text.encode("utf-8"), NAME)
    assert [r.required for r in mapping.rules] == [True, False, True, False, False]
    assert mapping.apply({"Name": " Acme ", "Description": "x", "Phone": "1"})["Notes"] == "Note, x"


def test_windows_1252_and_semicolons() -> None:
    text = HEADER_LINE.replace(",", ";") + "\r\nName;Name;Y;;Café;Défaut\r\n"
    mapping = load_mapping_bytes(text.encode("cp1252"), NAME)
    assert mapping.rules[0].default == "Café" and mapping.rules[0].notes == "Défaut"


def test_utf16_with_bom_tab_separated() -> None:
    text = HEADER_LINE.replace(",", "\t") + "\r\nName\tName\tY\tTrim\t\t\r\n"
    mapping = load_mapping_bytes(text.encode("utf-16"), NAME)
    assert mapping.target_fields == ["Name"]


def test_quoted_cell_with_line_break_counts_lines_right() -> None:
    text = f'{HEADER_LINE}\nName,Name,Y,,,"two\nlines"\nPhone,Phone,maybe,,,\n'
    assert problems_of(text.encode()) == [f"{NAME}:4: Required (Y/N) must be Y or N, got 'maybe'"]


def test_every_problem_is_listed_with_file_line_and_fix() -> None:
    text = "\n".join([
        HEADER_LINE,
        "Name,Name,Y,Simpel,,",
        "Phone,Phone,N,Left:abc,,",
        "Fax,Fax,X,,,",
        "Name,name,N,,,",
        "BillingStreet,BillAddr1,N,AddressSplit:1,,",
        "BillingStreet,BillAddress.Addr1,N,AddressSplit:2,,",
        ",Static1,N,Static,,",
        "Billing Street,Street,N,,,",
        "Website,,N,,,",
        "Description,Memo,N,Mid:1:2:3|,,",
        ",Memo2,N,Trim,,",
        "Amount,Total,N,NumberFormat:2,,",
        "Close,Date,N,DateFormat:'yyyy,,",
        "Acc,Link1,N,Link:Account,,",
        "X,Y,N,Replace:a:b:c,,",
        "X,Z,N,Concatenate:no placeholder,,",
        "X,W,N,AddressSplit:9,,",
    ]).encode()
    found = problems_of(text)
    expected_fragments = [
        (2, "unknown transformation 'Simpel'; valid ones are Simple, Trim, Concatenate:TEMPLATE, Left:N"),
        (3, "Left needs the number of characters as a whole number, e.g. Left:41 (got 'abc')"),
        (4, "Required (Y/N) must be Y or N, got 'X'"),
        (5, "name is already written by line 2"),
        (7, "BillAddress.Addr1 is already written by line 6"),
        (8, "Static writes the Default_Value, which is empty on this row"),
        (9, "column 1 'Billing Street' is not a field name"),
        (10, "QB_Field_Name (column 2, the field written) is empty"),
        (11, "Mid takes START and LEN"),
        (11, "empty step"),
        (12, "SF_Field_API_Name (column 1, the field read) is empty"),
        (13, "NumberFormat takes no argument"),
        (14, "the quote ' at position 1 is never closed"),
        (15, "Link needs a Salesforce object and field, e.g. Link:Account:QB_Customer_ID__c"),
        (16, "Replace takes OLD and NEW"),
        (17, "has no {value}"),
        (18, "AddressSplit line must be 1 to 5"),
    ]
    for line, fragment in expected_fragments:
        prefix = f"{NAME}:{line}: "
        assert any(p.startswith(prefix) and fragment in p for p in found), (line, fragment, found)
    assert len(found) == len(expected_fragments)


def test_missing_header() -> None:
    assert problems_of(b"Name,Name,Y,,,\n") == [
        f"{NAME}:1: missing header; the first row must be {HEADER_LINE}"
    ]


def test_header_only_and_empty_files() -> None:
    assert "no mapping rows under the header" in problems_of(HEADER_LINE.encode())[0]
    assert "the file is empty" in problems_of(b"\r\n,,,\r\n")[0]


def test_unknown_file_name_is_reported_with_the_other_problems() -> None:
    found = problems_of(f"{HEADER_LINE}\nName,Name,Q,,,\n".encode(), name="fields.csv")
    assert found[0].startswith("fields.csv:1: the file name does not say which mapping this is")
    assert found[1] == "fields.csv:2: Required (Y/N) must be Y or N, got 'Q'"


def test_binary_garbage_is_refused_clearly() -> None:
    assert "NUL" in problems_of(b"\x00\x01\x02PK\x03\x04")[0]
    assert "neither UTF-8 nor Windows-1252" in problems_of(b"SF,QB\n\x81\x8d\n")[0]


def test_missing_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match="cannot read the file"):
        load_mapping(tmp_path / "Acct_to_Customer.csv")


def test_mapping_file_error_is_a_config_error_with_all_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping_bytes(f"{HEADER_LINE}\nA,B,Z,,,\nC,D,Z,,,\n".encode(), NAME)
    assert str(caught.value).count("\n") == 1


def test_explicit_kind_overrides_the_name() -> None:
    from qbsf.mapping import kind_by_sheet

    mapping = load_mapping_bytes(f"{HEADER_LINE}\nName,Name,Y,,,\n".encode(), "upload.csv",
                                 kind_by_sheet("Item_to_Product"))
    assert mapping.kind.sheet == "Item_to_Product"


def test_notes_only_rows_are_comments() -> None:
    mapping = load_mapping_bytes(f"{HEADER_LINE}\n,,,,,--- addresses ---\nName,Name,Y,,,\n".encode(), NAME)
    assert mapping.target_fields == ["Name"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_a_mapping_error(data: bytes) -> None:
    try:
        load_mapping_bytes(data, NAME)
    except MappingFileError as exc:
        assert exc.problems and all(str(p).startswith(f"{NAME}:") for p in exc.problems)


_cell = st.one_of(
    st.sampled_from(["Name", "Phone", "BillAddr1", "Y", "n", "Trim", "Left:3", "Mid:1:2", "Link:A:B", "Static",
                     "Replace:a\\:b:c", "DateFormat:yyyy", "NumberFormat|Upper", '"q,x"', "", " "]),
    st.text(max_size=12),
)
_row = st.lists(_cell, max_size=7).map(",".join)


@settings(max_examples=120, deadline=None)
@given(st.lists(_row, max_size=8))
def test_arbitrary_csv_rows_never_raise_anything_but_a_mapping_error(rows: list[str]) -> None:
    data = "\r\n".join([HEADER_LINE, *rows]).encode("utf-8")
    try:
        mapping = load_mapping_bytes(data, NAME)
    except MappingFileError:
        return
    mapping.apply({"Name": "x", "Phone": "2024-01-01"}, {})


def test_space_before_a_quoted_cell_is_a_stray_space() -> None:
    mapping = load_mapping_bytes(f'{HEADER_LINE}\nName, Name, Y, "Trim|Left:3", , "a, b"\n'.encode(), NAME)
    assert mapping.rules[0].transformation == "Trim|Left:3" and mapping.rules[0].notes == "a, b"


def test_unquoted_comma_spilling_into_extra_cells_is_refused() -> None:
    found = problems_of(f"{HEADER_LINE}\n,TermsRef.FullName,N,Static,Net 30, Days,note\n".encode())
    assert found == [f"{NAME}:2: this row has more than 6 cells (extra: 'note'); put quotes around a cell that "
                     f"contains a comma"]


def test_second_header_row_is_reported() -> None:
    found = problems_of(f"{HEADER_LINE}\nName,Name,Y,,,\n{HEADER_LINE}\n".encode())
    assert found == [f"{NAME}:3: a second header row; delete it (one header, at the top)"]


def test_absurdly_many_rows_are_refused() -> None:
    rows = "\n".join(f"F{n},T{n},N,,," for n in range(1_001))
    found = problems_of(f"{HEADER_LINE}\n{rows}\n".encode())
    assert found == [f"{NAME}:1002: more than 1,000 mapping rows; a mapping has one row per field — is this the "
                     f"right file?"]


def test_excel_sep_line_sets_the_delimiter() -> None:
    text = "sep=;\r\n" + HEADER_LINE.replace(",", ";") + "\r\nName;Name;Y;Trim;;\r\nPhone;Phone;n;;;\r\n"
    mapping = load_mapping_bytes(text.encode(), NAME)
    assert mapping.target_fields == ["Name", "Phone"] and mapping.rules[1].line == 4
    assert load_mapping_bytes(f"sep=,\n{HEADER_LINE}\nName,Name,Y,,,\n".encode(), NAME).target_fields == ["Name"]


def test_a_field_whose_name_starts_like_the_header_is_data() -> None:
    mapping = load_mapping_bytes(f"{HEADER_LINE}\nSFField_Code__c,Name,Y,,,\n".encode(), NAME)
    assert mapping.source_fields == ["SFField_Code__c"]


def test_a_file_whose_columns_are_another_objects_fields_is_refused_naming_the_line() -> None:
    account_rows = (b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\r\n"
                    b"Name,Name,Y,Trim,,\r\nPhone,Phone,N,,,\r\nBillingStreet,BillAddr1,N,AddressSplit:1,,\r\n")
    with pytest.raises(MappingFileError) as refused:
        load_mapping_bytes(account_rows, "Product.csv")
    (problem,) = refused.value.problems
    assert problem.line == 4
    assert "'BillingStreet' is a field of Account, not of Product2" in str(problem)
    assert "Acct_to_Customer" in str(problem)
    contact_rows = (b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
                    b"TxnID,QB_Invoice_ID__c,Y,,,\nFirstName,FirstName,N,,,\n")
    with pytest.raises(MappingFileError, match=r"Invoice_to_SF.csv:3: column 2 'FirstName' is a field of Contact"):
        load_mapping_bytes(contact_rows, "Invoice_to_SF.csv")
    assert load_mapping_bytes(account_rows, "Acct_to_Customer.csv").kind.sheet == "Acct_to_Customer"
