"""Property tests: slicing transformations never raise, whatever the value and arguments."""

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.mapping.support import mapping_from_rows

_values = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.floats(allow_nan=False), st.booleans())
_n = st.integers(min_value=0, max_value=200)


@settings(max_examples=150, deadline=None)
@given(value=_values, left=_n, right=_n, start=_n, length=_n)
def test_left_right_mid_never_raise(value: object, left: int, right: int, start: int, length: int) -> None:
    rows = [f"Src,L,N,Left:{left},,", f"Src,R,N,Right:{right},,", f"Src,M,N,Mid:{start}:{length},,",
            f"Src,M1,N,Mid:{start},,"]
    mapping = mapping_from_rows(*rows)
    result = mapping.apply({"Src": value})
    assert isinstance(result, dict)
    text = "" if value is None else str(value) if not isinstance(value, bool) else str(value).lower()
    if isinstance(value, float):
        return  # floats are shown in plain notation; the slicing itself is checked on the other types
    assert (result["L"] or "") == text[:left]
    assert (result["R"] or "") == (text[-right:] if right else "")
    assert (result["M"] or "") == text[start:start + length]
    assert (result["M1"] or "") == text[start:]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18),
                 st.decimals(places=3, min_value=-10**9, max_value=10**9, allow_nan=False),
                 st.integers(min_value=-10**12, max_value=10**12).map(lambda n: n / 100)))
@example(562949953421312.8)  # "%.2f" of this float is ….75: the exact binary value, not the decimal one
@example(999999999999.99)
def test_number_format_matches_decimal_half_away_from_zero(value: object) -> None:
    from decimal import ROUND_HALF_UP, Decimal

    from qbsf.mapping.transforms import number_format, number_format_value

    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    expected = format(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    expected = "0.00" if expected == "-0.00" else expected
    assert number_format_value(value) == expected
    assert number_format(format(exact, "f")) == expected


_chain_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["Trim", "Left:", "Mid:1:", "Replace:a\\:", "DateFormat:'", "Link:A:", "|", ":", "\\",
                              "Concatenate:{value}", "Static", "x", "AddressSplit:0", "9"]), max_size=8).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(_chain_text)
def test_parse_chain_raises_only_chain_errors_with_messages(text: str) -> None:
    from qbsf.mapping.transforms import ChainError, parse_chain

    try:
        steps = parse_chain(text)
    except ChainError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
    else:
        assert all(step.name != "Simple" for step in steps)
