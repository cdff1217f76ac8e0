import pytest

from qbsf.errors import XmlError
from qbsf.xmlsafe import parse_xml


def test_parses_plain_xml_with_declaration() -> None:
    root = parse_xml('<?xml version="1.0" encoding="utf-8"?><?qbxml version="16.0"?><QBXML><A>x</A></QBXML>')
    assert root.tag == "QBXML"
    assert root.findtext("A") == "x"


def test_refuses_entity_declarations() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><r>&a;&a;</r>'
    with pytest.raises(XmlError, match="DOCTYPE"):
        parse_xml(bomb, source="test body")


def test_never_fetches_external_entities(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'
    with pytest.raises(XmlError):
        parse_xml(doc)


def test_malformed_xml_names_its_source() -> None:
    with pytest.raises(XmlError, match="response from QuickBooks is not well-formed"):
        parse_xml("<a><b></a>", source="response from QuickBooks")


def test_a_syntax_error_is_one_line() -> None:
    # libxml2 puts a line break inside some messages (found by tests/fuzz): the user sees one line
    with pytest.raises(XmlError) as raised:
        parse_xml(b"<\x00", source="response.xml")
    assert "\n" not in str(raised.value) and "response.xml is not well-formed XML" in str(raised.value)
