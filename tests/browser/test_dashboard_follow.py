"""Errors are shown where the user is, and the Live Log follows new lines: a refused Verify shows a banner at the top
with the focus on the field; the Live Log keeps its newest line in view, and holds still while the user reads
further up."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_a_refused_verify_is_a_banner_at_the_top_with_the_focus_on_the_key(page: Any, demo_site: Any) -> None:
    page.goto(demo_site.base_url + "/#license")
    page.fill("#l-key", "QBSF-not-a-key")
    page.click("form[action='/license'] button[type=submit]")
    banner = page.locator("#form-error")
    banner.wait_for(state="visible")
    assert banner.inner_text().startswith("✗ License key not saved:")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "l-key"
    top = page.evaluate("document.getElementById('form-error').getBoundingClientRect().top")
    assert 0 <= top < 300, "the banner is in view at the top of the page"


def test_the_live_log_follows_new_lines_unless_the_user_scrolled_up(page: Any, demo_site: Any) -> None:
    from qbsf.app.logging import get_logger

    log = get_logger("qbsf.test")
    for number in range(80):  # a backlog longer than the Live Log box, before the page opens
        log.info(f"follow line {number}")
    page.goto(demo_site.base_url + "/")
    log.info("follow line 80")
    page.wait_for_function("document.getElementById('live-log').textContent.includes('follow line 80')")
    at_bottom = "(() => { const l = document.getElementById('live-log'); " \
                "return l.scrollTop + l.clientHeight >= l.scrollHeight - 4; })()"
    assert page.evaluate("document.getElementById('live-log').scrollHeight > "
                         "document.getElementById('live-log').clientHeight"), "enough lines to scroll"
    assert page.evaluate(at_bottom), "the newest line is visible"
    page.evaluate("(() => { const l = document.getElementById('live-log'); l.scrollTop = 0; "
                  "l.dispatchEvent(new Event('scroll')); })()")
    for number in range(81, 90):
        log.info(f"follow line {number}")
    page.wait_for_function("document.getElementById('live-log').textContent.includes('follow line 89')")
    assert page.evaluate("document.getElementById('live-log').scrollTop") == 0, "scroll lock while reading"
    page.evaluate("(() => { const l = document.getElementById('live-log'); l.scrollTop = l.scrollHeight; "
                  "l.dispatchEvent(new Event('scroll')); })()")
    log.info("follow line 91")
    page.wait_for_function("document.getElementById('live-log').textContent.includes('follow line 91')")
    page.wait_for_function(at_bottom)
