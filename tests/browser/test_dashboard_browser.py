"""The dashboard in a real headless Chromium against the running demo: actions, mapping upload, timestamps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _wait_until(predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    import threading
    import time

    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        threading.Event().wait(0.1)
    return value


def _confirm(page: Any) -> None:
    """Press Confirm in the dashboard's confirm dialog."""
    page.locator("#confirm-dialog").wait_for(state="visible")
    page.click("#confirm-ok")


def test_login_shows_both_systems_connected(page: Any, demo_site: Any, screenshots: Path) -> None:
    assert "Salesforce — Connected" in page.inner_text("#light-salesforce")
    assert "QuickBooks — Connected" in page.inner_text("#light-quickbooks")
    assert "Online" in page.inner_text("#light-connector")
    assert "synced" in page.inner_text("#last-cycle")
    # the token left the address bar: the session lives in a cookie
    assert "token=" not in page.url
    page.screenshot(path=str(screenshots / "dashboard.png"))


def test_sf_to_qb_button_syncs_a_new_account_and_the_activity_row_appears(page: Any, demo_site: Any,
                                                                          screenshots: Path) -> None:
    stack = demo_site.stack
    stack.org.insert("Account", {"Name": "Lakeside Browser Labs", "BillingCity": "Tahoe City",
                                 "Phone": "(530) 555-0199"})
    assert "Lakeside Browser Labs" not in page.inner_text("#activity-table")
    page.click("#btn-sf-to-qb")
    # the status panel re-renders every 5 s; one falling due while the dialog is open must not take its form away
    page.locator("#confirm-dialog").wait_for(state="visible")
    page.wait_for_timeout(6_000)
    _confirm(page)
    page.wait_for_url("**/?notice=*")
    assert "↑ SF → QB queued" in page.inner_text("#notice")

    def row_shown() -> bool:
        page.reload()
        return "Lakeside Browser Labs" in page.inner_text("#activity-table")

    _wait_until(row_shown, 30, "the new Account's activity row")
    row = page.locator("#activity-table tr", has_text="Lakeside Browser Labs").first
    text = row.inner_text()
    assert "Account" in text and "↑ SF → QB" in text and "✓ created" in text
    assert [c["FullName"] for c in stack.sim.customers() if c["Name"] == "Lakeside Browser Labs"] == \
        ["Lakeside Browser Labs"]
    box = page.locator("#activity").bounding_box()
    assert box is not None
    # the newest rows are enough for the README: cap the height instead of shooting every row
    scroll_x, scroll_y = page.evaluate("[window.scrollX, window.scrollY]")  # the box is viewport-relative
    page.screenshot(path=str(screenshots / "activity.png"), full_page=True,
                    clip={"x": box["x"] + scroll_x, "y": box["y"] + scroll_y, "width": box["width"],
                          "height": min(box["height"], 900)})


def test_a_bad_mapping_upload_shows_its_line_errors_and_replaces_nothing(page: Any, demo_site: Any, tmp_path: Path,
                                                                        screenshots: Path) -> None:
    installed = demo_site.stack.directory / "mappings" / "Acct_to_Customer.csv"
    before = installed.read_bytes()
    bad = tmp_path / "Acct_to_Customer.csv"
    bad.write_text("SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
                   "Name,Name,Y,Trim|Left:41,,Customer name\n"
                   "Phone,Phone,N,Frobnicate:3,,\n", encoding="utf-8")
    page.goto(demo_site.base_url + "/#mappings")
    page.set_input_files("form.upload input[name=file]", str(bad))
    page.click("form.upload button[type=submit]")
    problems = page.locator("#upload-problems")
    problems.wait_for(state="visible")
    text = problems.inner_text()
    assert "Acct_to_Customer.csv was not installed — nothing was replaced" in text
    assert "Acct_to_Customer.csv:3: unknown transformation 'Frobnicate'" in text
    assert installed.read_bytes() == before
    problems.scroll_into_view_if_needed()
    page.locator("#mappings").screenshot(path=str(screenshots / "mappings.png"))


def test_reset_one_timestamp(page: Any, demo_site: Any, screenshots: Path) -> None:
    state = demo_site.stack.bundle.state
    source = "sf:Account"
    assert state.get_watermark(source), "the first cycle set the Account watermark"
    page.goto(demo_site.base_url + "/#timestamps")
    table = page.locator("#timestamps-table")
    page.locator("#timestamps").screenshot(path=str(screenshots / "timestamps.png"))
    row = table.locator("tr", has=page.locator(f"input[name=source][value='{source}']"))
    row.locator("button", has_text="Reset").click()
    _confirm(page)
    page.wait_for_url("**/?notice=*")
    assert "reset" in page.inner_text("#notice")
    assert state.get_watermark(source) is None
    remaining = page.locator("#timestamps-table input[name=source]").evaluate_all("els => els.map(e => e.value)")
    assert source not in remaining and remaining, "only the one timestamp was reset"


def test_every_other_panel_renders(page: Any, screenshots: Path) -> None:
    # the Live Log streams the connector's lines over Server-Sent Events
    log = page.locator("#log")
    _wait_until(lambda: "synced" in log.inner_text(), 15, "Live Log lines")
    for section in ("settings", "accounts", "license", "log"):
        panel = page.locator(f"#{section}")
        panel.scroll_into_view_if_needed()
        assert panel.locator("h2").count() >= 1 and panel.inner_text().strip(), section
        panel.screenshot(path=str(screenshots / f"{section}.png"))
    form = page.locator("#settings form")
    assert form.count() >= 1 and "polling" in page.inner_text("#settings").lower()
