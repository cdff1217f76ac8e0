"""Fuzz the dashboard's forms and uploads: any field values, any uploaded bytes, any query → a page, a redirect or a
refusal — never a server error, never a hang, never a value echoed unescaped, and the dashboard still renders
after every case (one bad form never bricks it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.app.context import AppContext
from qbsf.app.dashboard import Dashboard, create_app
from qbsf.app.dashboard.app import SETTINGS_FORM
from qbsf.app.dashboard.security import csrf_token
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.settings import SLOT_LABELS
from qbsf.mapping.loader import HEADER_LINE
from qbsf.sync.state import StateStore

MARKER = "<script>alert('qbsf')</script>"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("dashboard-fuzz")
    with pytest.MonkeyPatch.context() as patch:
        import os

        for name in list(os.environ):
            if name.startswith("QBSF_"):
                patch.delenv(name)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            patch.setenv(var, str(root / var.lower()))
        config = root / "cfg" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'mappings_dir = "{root / "mappings"}"\n')
        patch.setenv("QBSF_CONFIG", str(config))
        state = StateStore(root / "state.db")
        board = Dashboard(app_context=AppContext(secrets=MemorySecrets()), log_buffer=configure_logging(console=False),
                          state=state, allowed_hosts=("testserver",))
        client = TestClient(create_app(board), raise_server_exceptions=True,
                            headers={"Origin": "http://testserver", "X-CSRF-Token": csrf_token(board.token)})
        assert client.get(f"/?token={board.token}").status_code == 200
        try:
            yield client
        finally:
            client.close()
            state.close()
            reset_logging()


text = (st.text(max_size=80) | st.sampled_from([MARKER, "", " ", "0", "-1", "1e309", "NaN", "yes", "../../x",
                                                 "a" * 5000, "Name = 'x' OR 1=1", "qb:Customer", "sf:Account",
                                                 "qb:", ":", "QBSF-AAAA-BBBB", "{}", "[" * 3000, '{"Name": 1}',
                                                 "\x00", "é\u202e"]))
names = st.sampled_from(["Acct_to_Customer.csv", "x.csv", "../x.csv", "a%2Fb.csv", ".csv", "CON.csv", MARKER,
                         "Customer_to_Acct.csv"]) | st.text(max_size=30)
example_csv = st.sampled_from(sorted(p.name for p in EXAMPLES.glob("*.csv"))).map(
    lambda name: (EXAMPLES / name).read_bytes())
uploads = st.binary(max_size=4000) | example_csv | st.builds(
    lambda rows: "\n".join([HEADER_LINE, *rows]).encode(), st.lists(text, max_size=5)) | st.just(b"x" * 1_000_100)


@st.composite
def request(draw: st.DrawFn) -> tuple[str, str, dict]:
    """One browser request: method, path and what it carries."""
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return "POST", f"/actions/{draw(st.sampled_from(['start', 'stop', 'sf-to-qb', 'qb-to-sf', 'x']))}", {}
    if kind == 1:
        return "POST", "/failures/retry", {"data": {"entity": draw(text), "key": draw(text)}}
    if kind == 2:
        return "POST", "/timestamps/reset", {"data": {"source": draw(text)}}
    if kind == 3:
        return "POST", "/timestamps/reset-all", {"data": {"confirm": draw(st.sampled_from(["yes", "", "no"]))}}
    if kind == 4:
        return "POST", "/mappings/upload", {"files": {"file": (draw(names), draw(uploads), "text/csv")}}
    if kind == 5:
        return "POST", f"/mappings/{quote(draw(names), safe='')}/delete", {}
    if kind == 6:
        return "POST", f"/mappings/{quote(draw(names), safe='')}/preview", {"data": {"record_id": draw(text),
                                                                     "record_json": draw(text)}}
    if kind == 7:
        keys = draw(st.lists(st.sampled_from([key for key, *_ in SETTINGS_FORM]), max_size=4, unique=True))
        return "POST", "/settings", {"data": {key: draw(text) for key in keys}}
    if kind == 8:
        return "POST", "/accounts", {"data": {slot: draw(text) for slot in SLOT_LABELS}}
    if kind == 9:
        return "POST", "/license", {"data": {"key": draw(text)}}
    if kind == 10:
        return "GET", "/", {"params": {"entity": draw(text), "failed": draw(text), "notice": draw(text),
                                       "level": draw(text)}}
    return "GET", draw(st.sampled_from(["/api/activity", "/partials/activity", "/partials/x", "/api/status"])), {
        "params": {"limit": draw(text), "entity": draw(text), "failed": draw(st.sampled_from(["1", "0", "x"]))}}


@settings(settings.get_profile("qbsf-fuzz-http"))
@given(requests=st.lists(request(), min_size=1, max_size=3))
def test_forms_and_uploads_never_break_the_dashboard(site: TestClient, requests, fuzz_case) -> None:
    with fuzz_case("dashboard forms and uploads").case():
        for method, path, extra in requests:
            response = site.request(method, path, **extra)
            assert response.status_code < 500, (method, path, response.status_code)
            if "text/html" in response.headers.get("content-type", ""):
                assert MARKER not in response.text, f"{path} echoed a value unescaped"
        page = site.get("/")
        assert page.status_code in (200, 400) and "<main>" in page.text
        assert MARKER not in page.text
