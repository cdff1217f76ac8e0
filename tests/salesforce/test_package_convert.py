"""The package converts to Metadata API format with the Salesforce CLI (``sf project convert source``), no org needed.

The CLI is the one tests/node pins for the emulator tests (`make node-deps`); it runs with its home in a temporary
folder and telemetry, update and version checks off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qbsf.xmlsafe import parse_xml

REPO = Path(__file__).resolve().parents[2]
SF = REPO / "tests" / "node" / "node_modules" / ".bin" / "sf"
NS = "{http://soap.sforce.com/2006/04/metadata}"


def test_package_converts_with_the_salesforce_cli(tmp_path: Path) -> None:
    if not SF.exists():
        pytest.fail("the Salesforce CLI is not installed: run `make node-deps`")
    project = tmp_path / "salesforce"
    shutil.copytree(REPO / "salesforce", project,
                    ignore=shutil.ignore_patterns("node_modules", "screenshots", ".sf", ".sfdx"))
    home = tmp_path / "home"
    home.mkdir()
    path = f"{SF.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "HOME": str(home), "PATH": path, "SF_DISABLE_TELEMETRY": "true",
           "SF_AUTOUPDATE_DISABLE": "true", "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_DISABLE_AUTOUPDATE": "true"}
    result = subprocess.run([str(SF), "project", "convert", "source", "--output-dir", str(tmp_path / "mdapi")],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = parse_xml((tmp_path / "mdapi" / "package.xml").read_bytes())
    members = {t.findtext(f"{NS}name"): {m.text for m in t.iter(f"{NS}members")} for t in manifest.iter(f"{NS}types")}
    assert "QuickBooks_Sync" in members["CustomApplication"] and "QuickBooks_Sync" in members["CustomTab"]
    assert {"QBSF_Connector", "QBSF_User"} <= members["PermissionSet"]
    assert {"qbsfDashboard", "qbsfInvoices", "qbsfSendToQuickBooks"} <= members["LightningComponentBundle"]
    assert {"Account.Send_to_QuickBooks", "Opportunity.Send_to_QuickBooks"} <= members["QuickAction"]
    assert {"QBSF_Mapping__c", "QBSF_Watermark__c", "QBSF_Activity__c", "QBSF_Settings__c"} <= members["CustomObject"]
    assert "QBSyncOpportunityLineItemTrigger" in members["ApexTrigger"]
    assert float(manifest.findtext(f"{NS}version")) >= 62.0
