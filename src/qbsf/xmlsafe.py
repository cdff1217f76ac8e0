"""The one way qbsf parses XML: no entity expansion, no DTDs, no network."""

from __future__ import annotations

import threading

from lxml import etree

from qbsf.errors import XmlError

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers are not safe to share between threads, so each thread keeps its own.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
        )
        _local.parser = parser
    return parser


def parse_xml(data: str | bytes, *, source: str = "document") -> etree._Element:
    """Parse ``data`` safely and return its root element.

    Raises :class:`XmlError` naming ``source`` on malformed XML or on any
    DOCTYPE with an internal subset (entity declarations are never honoured).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # lxml refuses str input that carries an encoding declaration, so always hand it bytes.
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        # libxml2's messages may hold line breaks: keep the error one line
        reason = " ".join(str(exc).split())
        raise XmlError(f"{source} is not well-formed XML: {reason}", hint="check the sender's output") from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise XmlError(f"{source} declares a DOCTYPE", hint="qbsf does not accept DTDs or entity declarations")
    return root
