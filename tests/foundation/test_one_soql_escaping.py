"""One SOQL escaping and one IN-list size: every SOQL string literal qbsf builds goes through
``qbsf.salesforce.soql.quote`` (Salesforce's quoted-string escape sequences), and every ``… IN (…)`` read of ids is
cut at ``qbsf.sync.changes.IDS_PER_QUERY`` (the query URL's length limit), in both directions.

A second copy is how the two directions drifted apart (the inbound copy left tabs and double quotes unescaped).
"""

from __future__ import annotations

import ast
from pathlib import Path

from qbsf.salesforce import soql
from qbsf.sync import changes, inbound, inbound_resync
from qbsf.sync.entities import query

SRC = Path(__file__).resolve().parents[2] / "src" / "qbsf"


def _definitions() -> list[str]:
    """Where a function named like a SOQL quoting helper, or an ``IDS_PER_QUERY`` constant, is defined."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in ("quote", "soql_quote", "quote_soql"):
                found.append(f"{relative}: def {node.name}")
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign) else []
            found.extend(f"{relative}: {target.id}" for target in targets
                         if isinstance(target, ast.Name) and target.id.lstrip("_") == "IDS_PER_QUERY")
    return found


def test_soql_quoting_and_the_in_list_size_are_defined_once() -> None:
    assert _definitions() == ["salesforce/soql.py: def quote", "sync/changes.py: IDS_PER_QUERY"]


def test_both_directions_use_the_one_escaping_and_size() -> None:
    assert inbound.quote is soql.quote and query.quote is soql.quote
    assert inbound.IDS_PER_QUERY == inbound_resync.IDS_PER_QUERY == changes.IDS_PER_QUERY
    # what the inbound copy left as it was: a tab and a double quote inside a name
    assert inbound.quote('Tab\there "quoted"') == "'Tab\\there \\\"quoted\\\"'"
