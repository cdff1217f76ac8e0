"""Shared code never asks which entity it holds: an entity's special case lives in its declaration or hooks.

Every Python file of ``qbsf/sync`` and ``qbsf/app`` is read as a syntax tree, and a synced entity's name (any name
the registry declares: Salesforce objects, QuickBooks entities and types, line objects and elements) used as a
string in a comparison (``spec.name == "Contact"``, ``qb_entity in ("Customer", "Item")``), as a dict key
(``{"Customer": …}``) or in a set is refused. Such a branch is how a new entity silently got another entity's
behaviour; the registry (``qbsf.sync.entities``) is the one place that names them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from qbsf.sync.entities import REGISTRY

SRC = Path(__file__).resolve().parents[2] / "src" / "qbsf"
SHARED = ("sync", "app")
# Files that may name entities, and why.
ALLOWED = {
    "sync/entities": "the registry itself: one module per synced pair",
    "sync/migrations": "state upgrades convert rows as earlier releases stored them, by their entity names",
    "app/demo/seed.py": "demo data: records of the demo org, not behaviour",
    "app/demo/mappings.py": "demo data: sample records shown beside the mappings",
}


def entity_names() -> set[str]:
    """Every name the registry declares."""
    names: set[str] = set()
    for item in REGISTRY:
        names.update({item.key, item.sf_object, item.qb_entity, *item.qb_types})
        if item.lines is not None:
            names.update({item.lines.sf_object, item.lines.element})
    return names


def _strings(node: ast.AST) -> list[ast.Constant]:
    """String constants of a node, looking into tuples, lists and sets (``x in ("A", "B")``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [found for element in node.elts for found in _strings(element)]
    return []


def entity_branches(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """(line, what) for each entity name used as a comparison operand, dict key or set element in ``path``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            found.extend((c.lineno, f"compares with {c.value!r}") for operand in operands
                         for c in _strings(operand) if c.value in names)
        elif isinstance(node, ast.Dict):
            found.extend((c.lineno, f"keys a table by {c.value!r}") for key in node.keys if key is not None
                         for c in _strings(key) if c.value in names)
        elif isinstance(node, ast.Set):
            found.extend((c.lineno, f"lists {c.value!r} in a set") for c in _strings(node) if c.value in names)
    return sorted(set(found))


def shared_files(root: Path = SRC) -> list[Path]:
    files = []
    for package in SHARED:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not any(relative == allowed or relative.startswith(allowed + "/") for allowed in ALLOWED):
                files.append(path)
    return files


def offenders(root: Path = SRC) -> list[str]:
    """``file:line: what`` for every entity-name branch in shared code under ``root``."""
    names = entity_names()
    return [f"{path.relative_to(root).as_posix()}:{line}: {what}"
            for path in shared_files(root) for line, what in entity_branches(path, names)]


def test_shared_sync_and_app_code_names_no_entity() -> None:
    found = offenders()
    assert not found, ("entity names in shared code — move the special case into the entity's declaration or hooks "
                       "(src/qbsf/sync/entities/, see docs/adding-an-entity.md):\n" + "\n".join(found))


def test_the_guard_sees_each_kind_of_entity_branch(tmp_path: Path) -> None:
    source = tmp_path / "sync" / "example.py"
    source.parent.mkdir()
    source.write_text(
        'def f(spec, kind):\n'
        '    if spec.name == "Contact":\n'
        '        return 1\n'
        '    if spec.qb_entity in ("Customer", "Item"):\n'
        '        return {"Invoice": 2, ("deleted", "Item"): 3}\n'
        '    words = {"Product2", "other"}\n'
        '    """Account in a docstring is fine"""\n'
        '    return "RefNumber" if kind != "InvoiceLine" else spec.call("Account")\n', encoding="utf-8")
    found = entity_branches(source, entity_names())
    assert [line for line, _ in found] == [2, 4, 4, 5, 5, 6, 8]
    assert found[0][1] == "compares with 'Contact'"
    assert (tmp_path / "app").mkdir() is None and offenders(tmp_path) == [
        f"sync/example.py:{line}: {what}" for line, what in found]
