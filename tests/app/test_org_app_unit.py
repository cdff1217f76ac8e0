"""OrgApp without a running org: what it sends, and that it stays silent when the org has no app objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qbsf.app.org_app import OrgApp
from qbsf.sync.state import Activity, Direction, Outcome, StateStore


class FakeOrg:
    """Records composite calls; answers each subrequest 200."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []

    def composite(self, subrequests: list[dict[str, Any]]) -> list[Any]:
        self.calls.append(subrequests)
        return []

    def describe(self, sobject: str) -> dict[str, Any]:
        return {"fields": [{"name": "Name"}, {"name": "Phone"}]}


def _app(tmp_path: Path) -> tuple[OrgApp, FakeOrg, StateStore]:
    state = StateStore(tmp_path / "state.db")
    org = FakeOrg()
    return OrgApp(org, state, mappings_dir=tmp_path / "mappings", reset=lambda names: list(names or [])), org, state


def test_without_the_app_objects_nothing_is_written(tmp_path: Path) -> None:
    app, org, state = _app(tmp_path)
    started = datetime.now(UTC) - timedelta(seconds=1)
    state.log(Activity(entity="Account", direction=Direction.SF_TO_QB, outcome=Outcome.CREATED, sf_id="001x",
                       operation="add"))
    app.accept({})  # every org_* read failed: an older package
    assert app.after_cycle(started) == 0 and org.calls == []
    state.close()


def test_one_composite_call_carries_summary_failures_and_timestamps(tmp_path: Path) -> None:
    app, org, state = _app(tmp_path)
    started = datetime.now(UTC) - timedelta(seconds=1)
    state.log_many([
        Activity(entity="Account", direction=Direction.SF_TO_QB, outcome=Outcome.CREATED, sf_id="001a",
                 operation="add"),
        Activity(entity="Account", direction=Direction.SF_TO_QB, outcome=Outcome.FAILED, sf_id="001b",
                 operation="add", message="name in use by a vendor: rename one"),
    ])
    state.set_watermark("qb:Customer", "2026-12-01T10:00:00Z")
    app.accept({"org_mappings": {"records": []}, "org_watermarks": {"records": []}})
    assert app.after_cycle(started) == 2
    (call,) = org.calls
    activity = next(sub for sub in call if sub["referenceId"] == "activity0")["body"]["records"]
    assert [(r["Kind__c"], r.get("Created_Count__c"), r.get("Failed_Count__c"), r.get("Record_Key__c"))
            for r in activity] == [("Summary", 1, 1, None), ("Failure", None, None, "001b")]
    marks = next(sub for sub in call if sub["referenceId"] == "marks0")
    assert marks["url"] == "composite/sobjects/QBSF_Watermark__c/Entity__c"
    assert [(r["Entity__c"], r["Last_Modified__c"]) for r in marks["body"]["records"]] == [
        ("Customer", "2026-12-01T10:00:00.000+0000")]
    state.close()
