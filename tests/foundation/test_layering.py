"""The layers, enforced by reading every import (including those inside functions and TYPE_CHECKING blocks).

mapping (pure) → quickbooks / salesforce → sync → app; sim and bench beside them. Nothing in mapping,
quickbooks, salesforce or sync imports sim, bench or app; QuickBooks transports are built from settings in one
place (qbsf/app/transports.py), so the simulator is reached from the app layer only there, in the demo and in the
`qbsf sim` commands.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "qbsf"
FORBIDDEN = {
    "mapping": ("qbsf.quickbooks", "qbsf.salesforce", "qbsf.sync", "qbsf.app", "qbsf.sim", "qbsf.bench"),
    "quickbooks": ("qbsf.sync", "qbsf.app", "qbsf.sim", "qbsf.bench"),
    "salesforce": ("qbsf.sync", "qbsf.app", "qbsf.sim", "qbsf.bench"),
    "sync": ("qbsf.app", "qbsf.sim", "qbsf.bench"),
}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file; ``from qbsf import sim`` counts as qbsf.sim."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_import_nothing_from_sim_bench_or_app(layer: str) -> None:
    bad = [f"{path.relative_to(SRC.parent)}:{line}: imports {module}"
           for path in sorted((SRC / layer).rglob("*.py"))
           for line, module in imports(path) if _is_under(module, FORBIDDEN[layer])]
    assert bad == [], "layering broken:\n" + "\n".join(bad)


def test_benches_live_in_bench() -> None:
    # `qbsf bench …` (app/commands/bench.py) is the command group that runs them.
    benches = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*bench*.py")
                     if path.parent != SRC / "bench" and path != SRC / "app" / "commands" / "bench.py")
    assert benches == [], f"benchmarks outside src/qbsf/bench/: {benches}"


def test_transports_are_built_from_settings_in_one_place() -> None:
    allowed_com = {"app/transports.py"}
    # The simulator from the app layer: the transport factory, the demo's own company and `qbsf sim …`.
    allowed_sim = {"app/transports.py", "app/commands/sim.py"}
    com, sim = [], []
    for path in sorted((SRC / "app").rglob("*.py")):
        name = str(path.relative_to(SRC))
        for _line, module in imports(path):
            if _is_under(module, ("qbsf.quickbooks.transports.com",)) and name not in allowed_com:
                com.append(name)
            if _is_under(module, ("qbsf.sim",)) and name not in allowed_sim and not name.startswith("app/demo/"):
                sim.append(name)
    assert com == [] and sim == [], f"build QuickBooks transports in qbsf/app/transports.py: {sorted({*com, *sim})}"


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from qbsf.sim.quickbooks import QuickBooksSimulator\n    import qbsf.app.cli\n"
                      "from qbsf import bench\n", encoding="utf-8")
    found = [module for _line, module in imports(sample)]
    assert "qbsf.sim.quickbooks" in found and "qbsf.app.cli" in found and "qbsf.bench" in found
