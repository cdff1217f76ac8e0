"""The package's Apex, checked without an org: Salesforce's own parser and PMD's Apex security + performance rules.

Both tools come from salesforce/package-lock.json (``make salesforce-tools``): prettier-plugin-apex runs Salesforce's
Apex parser (jorje) on Java, and PMD's Apex rules run from the PMD jars that ``@salesforce/code-analyzer-pmd-engine``
ships, through the small launcher in salesforce/tools/PmdApex.java.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "salesforce"
SOURCES = PROJECT / "force-app"
MODULES = PROJECT / "node_modules"
PMD_LIB = MODULES / "@salesforce" / "code-analyzer-pmd-engine" / "dist" / "java-lib"
PMD_RULES = "category/apex/security.xml,category/apex/performance.xml"


def _apex_files() -> list[Path]:
    return sorted([*SOURCES.rglob("*.cls"), *SOURCES.rglob("*.trigger")])


def _tools() -> None:
    if not (MODULES / ".qbsf-installed").is_file():
        pytest.fail("the Salesforce package tools are not installed: run `make salesforce-tools`")
    if shutil.which("java") is None:
        pytest.fail("java is missing: run `make salesforce-tools` (installs default-jre-headless)")


def _prettier(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    """prettier with the Apex plugin on its Java parser (``none`` = spawn the bundled jorje jar, no native binary)."""
    return subprocess.run(
        ["node", str(MODULES / "prettier" / "bin" / "prettier.cjs"), "--plugin=prettier-plugin-apex",
         "--apex-standalone-parser", "none", *args],
        cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


def _pmd(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["java", "-cp", f"{PMD_LIB}/*", str(PROJECT / "tools" / "PmdApex.java"), PMD_RULES, *map(str, paths)],
        cwd=PROJECT, capture_output=True, text=True, timeout=240, check=False)


def test_every_apex_file_parses_and_is_formatted_with_salesforce_parser() -> None:
    _tools()
    files = _apex_files()
    assert len(files) >= 6
    result = _prettier("--check", *(str(p.relative_to(PROJECT)) for p in files))
    assert result.returncode == 0, (
        "Apex that Salesforce's parser refuses or that is not prettier-formatted "
        "(fix, or run `cd salesforce && npx prettier --plugin=prettier-plugin-apex --write force-app`):\n"
        + result.stdout + result.stderr)


def test_the_parser_refuses_broken_apex(tmp_path: Path) -> None:
    """The check above can fail: a missing parenthesis is a parse error naming the file."""
    _tools()
    broken = tmp_path / "Broken.cls"
    broken.write_text("public class Broken {\n    void run( {\n    }\n}\n")
    result = _prettier("--check", str(broken))
    assert result.returncode == 2
    assert "Broken.cls" in result.stderr and "Missing ')'" in result.stderr


def test_pmd_apex_security_and_performance_rules_report_nothing() -> None:
    """Every remaining finding is suppressed in the source with a comment saying why (@SuppressWarnings)."""
    _tools()
    result = _pmd(SOURCES)
    assert result.returncode == 0, "PMD's Apex rules report:\n" + result.stdout + result.stderr
    assert "0 violation(s)" in result.stdout


def test_pmd_finds_what_it_should(tmp_path: Path) -> None:
    """The rules are really loaded: SOQL inside a loop and a query without sharing or CRUD checks are reported."""
    _tools()
    bad = tmp_path / "Leaky.cls"
    bad.write_text(
        "public without sharing class Leaky {\n"
        "    public static void run(List<Id> ids) {\n"
        "        for (Id i : ids) {\n"
        "            Account a = [SELECT Name FROM Account WHERE Id = :i];\n"
        "            update a;\n"
        "        }\n"
        "    }\n"
        "}\n")
    result = _pmd(bad)
    assert result.returncode == 1, result.stdout + result.stderr
    for rule in ("OperationWithLimitsInLoop", "ApexCRUDViolation"):
        assert "Leaky.cls:" in result.stdout and rule in result.stdout, result.stdout


def test_justified_suppressions_carry_a_reason() -> None:
    """A PMD suppression without a comment on the line above is not a justification."""
    for path in _apex_files():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if "@SuppressWarnings('PMD" in line or "NOPMD" in line:
                before = lines[number - 1].strip() if number else ""
                assert before.startswith(("//", "*", "/*")) or "NOPMD -" in line, (
                    f"{path.name}:{number + 1}: say why the PMD rule does not apply, in a comment above")


def _auto_numbered_objects() -> set[str]:
    """Objects of the package whose Name field is an Auto Number (Salesforce fills it; nobody may write it)."""
    found = set()
    for meta in SOURCES.rglob("*.object-meta.xml"):
        name_field = re.search(r"<nameField>(.*?)</nameField>", meta.read_text(encoding="utf-8"), re.S)
        if name_field and "<type>AutoNumber</type>" in name_field.group(1):
            found.add(meta.name.removesuffix(".object-meta.xml"))
    return found


def test_no_apex_writes_the_name_of_an_auto_numbered_object() -> None:
    """Apex that sets an Auto Number Name does not compile in an org ("Field is not writeable: X.Name"); the parser
    accepts it, so this is checked here."""
    objects = _auto_numbered_objects()
    assert {"QBSF_Sync_Request__c", "QBSync_Queue__c"} <= objects
    offenders = []
    for path in _apex_files():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"new\s+(\w+)\s*\(", text):
            if match.group(1) not in objects:
                continue
            depth, end = 1, match.end()
            while depth and end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            if re.search(r"(?<![\w.])Name\s*=", text[match.end():end]):
                offenders.append(f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(1)}.Name")
    assert not offenders, "Auto Number Name written in Apex: " + "; ".join(offenders)
