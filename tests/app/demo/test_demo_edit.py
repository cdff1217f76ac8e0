"""`qbsf demo edit …`: the README's "watch it sync" commands change a record on either side of a running demo, and
the next cycle carries the change across."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from qbsf.errors import ConfigError

README = Path(__file__).resolve().parents[3] / "README.md"


def _watch_commands() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Watch it sync", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line)[1:] for line in section.splitlines() if line.startswith(".venv/bin/qbsf demo edit")]


def _run_readme(folder: Path, command: list[str]) -> str:
    # README: `qbsf demo edit …` in a second terminal; here with the test's demo folder
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(folder), *command[1:]],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_edit_on_each_side_reaches_the_other_side(tmp_path: Path, config_file: Path) -> None:
    from qbsf.app.demo import DemoStack
    folder = tmp_path / "demo"
    stack = DemoStack(folder, console=False).start()
    try:
        assert stack.run_once().ok
        to_quickbooks, to_salesforce = _watch_commands()
        said = _run_readme(folder, to_quickbooks)
        assert said == "✓ Salesforce Account 'Acme Corporation': Phone = '(415) 555-0100'"
        stack.run_once()
        (customer,) = [c for c in stack.sim.customers() if c["FullName"] == "Acme Corporation"]
        assert customer["Phone"] == "(415) 555-0100", "the Salesforce edit reached QuickBooks"

        _run_readme(folder, to_salesforce)
        stack.run_once()
        (account_id,) = stack.org.find("Account", "Name", "Alder Creek Dental")
        account = stack.org.get("Account", account_id)
        assert (account["Phone"], account["BillingCity"]) == ("555-0199", "Austin"), \
            "the QuickBooks edit reached Salesforce"
    finally:
        stack.close()


def test_edits_name_what_is_wrong(tmp_path: Path) -> None:
    from qbsf.app.demo.edit import edit_quickbooks, parse_assignments

    with pytest.raises(ConfigError, match="is not FIELD=VALUE"):
        parse_assignments(["Phone"])
    with pytest.raises(ConfigError, match="no demo in") as refused:
        edit_quickbooks(tmp_path, "Customer", "Acme Corporation", {"Phone": "1"})
    assert refused.value.hint and "make demo" in refused.value.hint
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(tmp_path), "edit",
                           "quickbooks", "Deposit", "x", "Phone=1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot edit a QuickBooks Deposit" in done.stderr, done.stderr


def test_readme_starts_with_watching_it_sync_and_a_go_live_checklist_in_the_manuals_order() -> None:
    text = README.read_text(encoding="utf-8")
    sections = re.findall(r"(?m)^## (.+)$", text)
    assert sections[:4] == ["Two commands", "Watch it sync", "Go live", "Demo"], sections
    assert text.count("```sh\nmake demo") == 1 and "make test" in text
    checklist = text.split("## Go live", 1)[1].split("\n## ", 1)[0]
    steps = ["Deploy the Salesforce package", "Connect Salesforce", "Choose the QuickBooks transport",
             "QB Accounts", "License", "Start"]
    positions = [checklist.index(f"**{step}") for step in steps]
    assert positions == sorted(positions), "the manual's order: package, Salesforce, transport, accounts, license"
    for developer_only in ("SalesforceClient(", "QuickBooksClient(", "SyncEngine(", "sf_emulator", "serve_in_thread"):
        assert developer_only not in text, f"{developer_only} is developer reference: docs/developer.md"
