"""What the merge tests share: the two pass orders, the conflict policies with who edits last and who then wins,
whole cycles run in an order, the activity list by operation, and a settings file over the world's state database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

ORDERS = {"sf_first": ("sf_to_qb", "qb_to_sf"), "qb_first": ("qb_to_sf", "sf_to_qb")}
# (policy, which side edits last) → the side that wins a field changed on both sides.
POLICIES = [("quickbooks", "salesforce", "quickbooks"), ("salesforce", "quickbooks", "salesforce"),
            ("newest", "quickbooks", "quickbooks"), ("newest", "salesforce", "salesforce")]


def run(passes: Callable[..., dict[str, Callable[[], Any]]], policy: str, order: str, cycles: int = 2, *,
        strict: bool = True, **settings: Any) -> None:
    """``cycles`` whole cycles under ``policy``, both passes of each in ``order`` (a key of :data:`ORDERS`);
    ``strict``: each pass asserts no record failed."""
    cycle = passes(policy, strict=strict, **settings)
    for _ in range(cycles):
        for name in ORDERS[order]:
            cycle[name]()


def activity(world: Any, operation: str) -> list[str]:
    """The messages of the recent activity lines of one operation ("conflict", "line", "deleted" …)."""
    return [a.message or "" for a in world.state.recent(500) if a.operation == operation]


def state_config(world: Any, folder: Path) -> Path:
    """A settings file in ``folder`` naming the world's state database, for `qbsf status` / `qbsf sync status`."""
    config = folder / "state.toml"
    config.write_text(f'state_url = "sqlite:///{world.state.engine.url.database}"\n', encoding="utf-8")
    return config


def merge_in_salesforce(world: Any, survivor: dict[str, Any], loser: dict[str, Any]) -> None:
    """What Salesforce's merge does to the losing Account: MasterRecordId names the survivor, then it is deleted."""
    world.sf_state.update("Account", loser["Id"], {"MasterRecordId": survivor["Id"]}, system=True)
    world.sf_state.delete("Account", loser["Id"])
