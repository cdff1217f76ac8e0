import asyncio
import io
import json
import logging
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.app.logging import (
    LOG_FILE_NAME,
    MASK,
    LogBuffer,
    configure_logging,
    get_logger,
    human_line,
    redactor,
    reset_logging,
)

SECRET = "my-Client-Secret-9f8e7d"
ACCESS_TOKEN = "00D5g000004XyZ1!AQ4AQFh8.vKq_Zp2wS3-token"


@pytest.fixture
def sinks(tmp_path: Path):
    console = io.StringIO()
    buffer = configure_logging(log_dir=tmp_path / "logs", console=console, secrets=[SECRET])
    yield console, tmp_path / "logs" / LOG_FILE_NAME, buffer
    reset_logging()
    redactor.clear()


def _everything(console: io.StringIO, file: Path, buffer: LogBuffer) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    entries = json.dumps([e.as_dict() for e in buffer.since(0)], ensure_ascii=False)
    return console.getvalue() + file.read_text(encoding="utf-8") + entries


def test_manual_style_lines_on_console_and_json_in_file(sinks) -> None:
    console, file, buffer = sinks
    log = get_logger("qbsf.sync")
    log.info("Queried 13 QB Customers", mark="ok")
    log.info("13 synced, ✗ 0 failed", mark="ok")
    log.warning("Link: No Account found", record="a0B000000000001")
    logging.getLogger("qbsf.quickbooks").error("Could not connect to QuickBooks after %d attempts", 3)
    lines = console.getvalue().splitlines()
    assert lines[0].endswith("✓ Queried 13 QB Customers")
    assert lines[1].endswith("✓ 13 synced, ✗ 0 failed")
    assert lines[2].endswith("⚠ Link: No Account found record=a0B000000000001")
    assert lines[3].endswith("✗ Could not connect to QuickBooks after 3 attempts")
    records = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    assert records[0]["event"] == "Queried 13 QB Customers" and records[0]["level"] == "info"
    assert records[2]["record"] == "a0B000000000001" and records[2]["logger"] == "qbsf.sync"
    assert records[3]["level"] == "error" and records[3]["mark"] == "✗"
    assert [e.event for e in buffer.since(0)][:2] == ["Queried 13 QB Customers", "13 synced, ✗ 0 failed"]


def test_secrets_never_reach_console_file_or_buffer(sinks) -> None:
    console, file, buffer = sinks
    log = get_logger("qbsf.app")
    lib = logging.getLogger("qbsf.salesforce.client")
    log.info("auth ok", access_token=ACCESS_TOKEN, client_secret=SECRET, user="ann@example.com")
    log.info("request", headers={"Authorization": f"Bearer {ACCESS_TOKEN}", "Accept": "json"})
    lib.info("POST /services/oauth2/token body=grant_type=refresh_token&client_secret=%s&refresh_token=%s",
             SECRET, "5Aep861TSESvWeug_xvFHRBTTbf")
    lib.debug("never shown at INFO %s", SECRET)
    lib.warning("retrying with session %s", ACCESS_TOKEN)
    lib.info("raw header Authorization: OAuth %s", ACCESS_TOKEN)
    lib.info("json body {\"access_token\": \"%s\", \"instance_url\": \"https://x.my.salesforce.com\"}",
             ACCESS_TOKEN)
    lib.info("qbwc <strPassword>hunter2hunter2</strPassword> <strUserName>qb</strUserName>")
    try:
        raise RuntimeError(f"login failed for secret {SECRET}")
    except RuntimeError:
        lib.exception("Salesforce authentication failed")
    text = _everything(console, file, buffer)
    for secret in (SECRET, ACCESS_TOKEN, "AQ4AQFh8", "5Aep861TSESvWeug", "hunter2hunter2"):
        assert secret not in text
    assert "ann@example.com" in text and "https://x.my.salesforce.com" in text  # ordinary data survives
    assert "Salesforce authentication failed" in text and MASK in text


@settings(max_examples=60, deadline=None)
@given(org=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=15, max_size=15),
       opaque=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._", min_size=20, max_size=60),
       before=st.text(max_size=20), after=st.text(max_size=20))
def test_any_salesforce_access_token_in_free_text_is_masked(org: str, opaque: str, before: str, after: str) -> None:
    token = f"00D{org}!{opaque}"
    assert token not in redactor.text(f"{before} {token} {after}")
    assert token not in human_line(redactor({}, "info", {"event": "x", "detail": [f"{before}{token}"]}))


def test_registered_secret_values_are_masked_anywhere(sinks) -> None:
    console, file, buffer = sinks
    redactor.register("short", "qbwc-Pa55word-long")
    get_logger("x").info("connecting", note="the password is qbwc-Pa55word-long, ok", n=3)
    text = _everything(console, file, buffer)
    assert "qbwc-Pa55word-long" not in text and "n=3" in text


def test_file_rotates(tmp_path: Path) -> None:
    try:
        configure_logging(log_dir=tmp_path, console=False, max_bytes=2000, backups=2)
        log = get_logger("qbsf.rot")
        for i in range(100):
            log.info("line", i=i, pad="x" * 50)
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [LOG_FILE_NAME, LOG_FILE_NAME + ".1", LOG_FILE_NAME + ".2"]
    finally:
        reset_logging()


def test_reconfiguring_does_not_duplicate_lines(tmp_path: Path) -> None:
    console = io.StringIO()
    try:
        configure_logging(console=console)
        buffer = configure_logging(console=console)
        get_logger("x").info("once")
        assert console.getvalue().count("once") == 1
        assert len(buffer.since(0)) == 1
    finally:
        reset_logging()


def test_ascii_marks_when_the_console_cannot_print_them() -> None:
    class Latin1(io.StringIO):
        encoding = "latin-1"

    console = Latin1()
    try:
        configure_logging(console=console)
        get_logger("x").info("Queried 2 QB Items", mark="ok")
        assert "OK Queried 2 QB Items" in console.getvalue()
    finally:
        reset_logging()


def test_buffer_capacity_since_wait_and_subscribers() -> None:
    buffer = LogBuffer(capacity=3)
    seen = []
    listener = buffer.subscribe(seen.append)
    for i in range(5):
        buffer.append(timestamp="t", level="info", mark="", event=f"e{i}", logger="x", line=f"e{i}", fields={})
    assert [e.event for e in buffer.since(0)] == ["e2", "e3", "e4"]
    assert [e.event for e in buffer.since(3)] == ["e3", "e4"]
    assert len(seen) == 5
    buffer.unsubscribe(listener)
    buffer.unsubscribe(listener)  # twice is harmless
    threading.Timer(0.05, lambda: buffer.append(timestamp="t", level="info", mark="", event="late", logger="x",
                                                line="late", fields={})).start()
    assert [e.event for e in buffer.wait(buffer.last_seq, timeout=5)] == ["late"]
    assert len(seen) == 5
    assert buffer.wait(buffer.last_seq, timeout=0.01) == []


def test_a_failing_subscriber_is_dropped_not_fatal() -> None:
    buffer = LogBuffer()

    def broken(entry):
        raise RuntimeError("browser went away")

    buffer.subscribe(broken)
    buffer.append(timestamp="t", level="info", mark="", event="a", logger="x", line="a", fields={})
    buffer.append(timestamp="t", level="info", mark="", event="b", logger="x", line="b", fields={})
    assert buffer.last_seq == 2


def test_async_subscription_receives_entries_from_another_thread() -> None:
    buffer = LogBuffer()

    async def scenario() -> list[str]:
        queue, stop = buffer.subscribe_async()
        worker = threading.Thread(target=lambda: [
            buffer.append(timestamp="t", level="info", mark="✓", event=f"n{i}", logger="x", line="", fields={})
            for i in range(3)])
        worker.start()
        got = [(await asyncio.wait_for(queue.get(), 5)).event for _ in range(3)]
        worker.join()
        stop()
        return got

    assert asyncio.run(scenario()) == ["n0", "n1", "n2"]
