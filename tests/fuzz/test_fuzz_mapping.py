"""Fuzz the mapping loader and compiler: any bytes, any chain, any record → a mapping, a MappingFileError with
line numbers, a target record or a RecordError — never another exception, never a hang."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.mapping import LinkPreview, MappingFileError, RecordError, load_mapping_bytes
from qbsf.mapping.loader import HEADER_LINE
from qbsf.sync.entities import CATALOGUE

SHEETS = [kind.sheet for kind in CATALOGUE.kinds]
FIELDS = ["Name", "Id", "Phone", "BillingStreet", "BillingCity", "Amount", "CloseDate", "Description",
          "Account.Name", "QB_Customer_ID__c", "Quantity", "UnitPrice", "TxnDate", "ListID", "FullName",
          "BillAddress.City", "Notes", "Product2.Name", "Memo", "Rate", "", "A" * 300, "1bad", "a.b.c.d",
          "Name\nPhone", 'Na"me']
STEPS = ["Simple", "Trim", "Upper", "Lower", "NumberFormat", "Static", "Left:41", "Right:3", "Mid:2:8", "Mid:0",
         "Left:-1", "Left:99999999999999999999", "Left:x", "DateFormat:MM/DD/YYYY", "DateFormat:YYYY-MM-DD",
         "DateFormat:%Q", "DateFormat:", "AddressSplit:1", "AddressSplit:9", "AddressSplit:0",
         "Link:Account:QB_Customer_ID__c", "Link:Account", "Link::", "Replace:a:b", "Replace:\\::x",
         "Replace:", "Concatenate:Invoice {value}", "Concatenate:none", "Concatenate:{value}{value}", "Nope",
         "left:5", "TRIM", "Static:x", "\\|", ":", "Left:41\\|"]


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


chains = st.lists(st.sampled_from(STEPS), min_size=0, max_size=5).map("|".join) | st.text(max_size=40)
cells_any = st.sampled_from(FIELDS) | st.text(max_size=30)
rows = st.tuples(cells_any, cells_any, st.sampled_from(["Y", "N", "", "maybe", "y"]), chains,
                 st.text(max_size=20) | st.sampled_from(["", "0", "2026-13-45", "Acme"]), st.text(max_size=20))
sheet_files = st.sampled_from(SHEETS).map(lambda sheet: f"QB_SF_Mapping_Template_v3 - {sheet}.csv")
file_names = sheet_files | st.text(max_size=40).map(lambda text: text + ".csv")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


@st.composite
def mapping_csv(draw: st.DrawFn) -> tuple[bytes, str]:
    """A sheet's CSV: the shipped example with a few rows dropped, mutated or made up, in some encoding."""
    sheet = draw(st.sampled_from(SHEETS))
    example = EXAMPLES / f"{sheet}.csv"
    lines = example.read_text(encoding="utf-8-sig").splitlines() if example.is_file() else [HEADER_LINE]
    header, body = lines[0], lines[1:]
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.sampled_from([HEADER_LINE.lower(), "", "a,b,c", HEADER_LINE + ",Extra"]))
    out = [header]
    for line in body:
        action = draw(st.integers(0, 9))
        if action == 0:
            continue  # dropped
        if action == 1:
            cells = line.split(",")
            column = draw(st.integers(0, 5))
            replacement = draw(chains if column == 3 else cells_any)
            line = ",".join([*cells[:column], csv_cell(replacement), *cells[column + 1:]])
        out.append(line)
    for _ in range(draw(st.integers(0, 2))):
        out.append(",".join(csv_cell(cell) for cell in draw(rows)))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(out)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace"), f"QB_SF_Mapping_Template_v3 - {sheet}.csv"


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=60)
           | st.decimals(allow_nan=True) | st.dates().map(dt.date.isoformat)
           | st.sampled_from(["2026-02-30", "  ", "1e999", "-0", "NaN", "12/31/2026", "\x00", "ǅ" * 50]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8),
                                                                                         inner, max_size=3),
                      max_leaves=8)
records = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), values, max_size=10)


def check_apply(mapping: Any, record: dict[str, Any]) -> None:
    result = mapping.apply(record, LinkPreview())
    assert isinstance(result, (dict, RecordError)), type(result)
    batch = mapping.apply_many([record, dict(record)], LinkPreview())
    assert len(batch.results) == 2


@settings(settings.get_profile("qbsf-fuzz-fast"))
@given(data=st.binary(max_size=3000), name=file_names)
def test_any_bytes_load_or_fail_with_line_numbers(data: bytes, name: str, fuzz_case) -> None:
    with fuzz_case("mapping loader: random bytes").case():
        try:
            load_mapping_bytes(data, name)
        except MappingFileError as exc:
            assert exc.problems and all(str(problem) for problem in exc.problems)


@settings(settings.get_profile("qbsf-fuzz-fast"))
@given(sheet=mapping_csv(), record=records)
def test_generated_sheets_compile_and_map_any_record(sheet: tuple[bytes, str], record: dict[str, Any],
                                                     fuzz_case) -> None:
    data, name = sheet
    with fuzz_case("mapping loader + compiler: mutated sheets and records").case():
        try:
            mapping = load_mapping_bytes(data, name)
        except MappingFileError as exc:
            assert exc.problems
            return
        check_apply(mapping, record)


EXAMPLE_ROWS = {
    "Acct_to_Customer": ["Name,Name,Y,Trim|Left:41,,", "BillingStreet,BillAddr1,N,AddressSplit:1,,",
                         "BillingStreet,BillAddr2,N,AddressSplit:2,,", "Phone,Phone,N,Trim|Left:21,,",
                         "Description,Notes,N,Replace:\\::-|Upper,,"],
    "Oppty_to_Invoice": ["Name,RefNumber,Y,Left:11,,", "CloseDate,TxnDate,N,DateFormat:YYYY-MM-DD,,",
                         "AccountId,CustomerRef.ListID,Y,Link:Account:QB_Customer_ID__c,,",
                         "Amount,Memo,N,NumberFormat,,", "Description,Other,N,Concatenate:Opp {value},,"],
}


@settings(settings.get_profile("qbsf-fuzz-fast"))
@given(sheet=st.sampled_from(sorted(EXAMPLE_ROWS)), record=records,
       extra=st.dictionaries(st.sampled_from(["Name", "CloseDate", "Amount", "AccountId", "BillingStreet",
                                              "Phone", "Description"]), scalars, max_size=7))
def test_valid_mappings_map_hostile_records(sheet: str, record: dict[str, Any], extra: dict[str, Any],
                                            fuzz_case) -> None:
    mapping = load_mapping_bytes("\n".join([HEADER_LINE, *EXAMPLE_ROWS[sheet]]).encode(), f"{sheet}.csv")
    with fuzz_case("mapping compiler: hostile records through valid mappings").case():
        check_apply(mapping, {**record, **extra, "Id": "001000000000001AAA"})
