"""Cross-site requests, CSRF tokens, the login cookie and Host headers (docs/security.md, dashboard section)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from qbsf.app.context import AppContext
from qbsf.app.dashboard import Dashboard, create_app
from qbsf.app.dashboard.security import (
    check_same_origin,
    csrf_token,
    own_origin,
    parse_host,
    parse_origin,
)
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.runtime import Connector, Heartbeat, State

OWN = "http://testserver"


@pytest.fixture
def board(config_file: Path, tmp_path: Path, memory_secrets, make_systems):
    config_file.parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "keep.csv").write_text("not a mapping\n")
    config_file.write_text(f'mappings_dir = "{tmp_path / "mappings"}"\n[sync]\npolling_interval = 3600\n')
    app_context = AppContext(secrets=memory_secrets)
    connector = Connector(make_systems(), app_context.load().settings, heartbeat=Heartbeat(tmp_path / "hb.json"))
    buffer = configure_logging(console=False)
    dash = Dashboard(app_context=app_context, log_buffer=buffer, connector=connector, allowed_hosts=("testserver",))
    yield dash
    connector.stop(wait=5)
    reset_logging()


def logged_in(dash: Dashboard, base_url: str = OWN) -> TestClient:
    client = TestClient(create_app(dash), base_url=base_url)
    assert client.get(f"/?token={dash.token}").status_code == 200
    return client


def with_token(dash: Dashboard, **form: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(dash.token), **form}


# ---- same origin: scheme, host and port -------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [
    "http://testserver:9",       # any other local page, any port
    "http://testserver:8080",
    "https://testserver",        # another scheme is another origin
    "null",                      # sandboxed frame, file: page
    "http://evil.example.com",
    "http://testserver.evil.example.com",
    "http://user@testserver",    # malformed: an Origin carries no user info
    "http://testserver/path",    # malformed: an Origin carries no path
])
def test_a_post_from_another_origin_is_refused_and_changes_nothing(board: Dashboard, origin: str) -> None:
    client = logged_in(board)
    refused = client.post("/actions/start", data=with_token(board), headers={"Origin": origin},
                          follow_redirects=False)
    assert refused.status_code == 403 and "Cross-site request refused" in refused.text
    assert board.connector.status().state == State.STOPPED


def test_a_post_without_origin_or_referer_is_refused(board: Dashboard) -> None:
    client = logged_in(board)
    refused = client.post("/mappings/keep.csv/delete", data=with_token(board), follow_redirects=False)
    assert refused.status_code == 403 and "neither an Origin nor a Referer" in refused.text
    assert (Path(board.mappings_dir()) / "keep.csv").exists()


def test_the_referer_decides_when_there_is_no_origin(board: Dashboard) -> None:
    client = logged_in(board)
    foreign = client.post("/mappings/keep.csv/delete", data=with_token(board),
                          headers={"Referer": "http://testserver:9/attack.html"}, follow_redirects=False)
    assert foreign.status_code == 403
    own = client.post("/mappings/keep.csv/delete", data=with_token(board),
                      headers={"Referer": "http://testserver/#mappings"}, follow_redirects=False)
    assert own.status_code == 303 and not (Path(board.mappings_dir()) / "keep.csv").exists()


def test_same_origin_with_explicit_default_port_is_the_same_origin(board: Dashboard) -> None:
    client = logged_in(board)
    done = client.post("/actions/start", data=with_token(board), headers={"Origin": "http://TESTSERVER:80"},
                       follow_redirects=False)
    assert done.status_code == 303


def test_put_patch_and_delete_need_the_same_origin_too() -> None:
    headers = httpx.Headers({"host": "127.0.0.1:8765", "origin": "http://127.0.0.1:9"})
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert check_same_origin(method, "http", headers).startswith("Cross-site")
    assert check_same_origin("GET", "http", headers) == ""
    assert check_same_origin("DELETE", "http", httpx.Headers({"host": "127.0.0.1:8765",
                                                                 "origin": "http://127.0.0.1:8765"})) == ""


# ---- CSRF token -------------------------------------------------------------------------------------------------


def test_a_same_origin_post_without_the_csrf_token_is_refused(board: Dashboard) -> None:
    client = logged_in(board)
    refused = client.post("/actions/start", headers={"Origin": OWN}, follow_redirects=False)
    assert refused.status_code == 403 and "reload the dashboard" in refused.text
    wrong = client.post("/actions/start", data={"csrf_token": "0" * 64}, headers={"Origin": OWN},
                        follow_redirects=False)
    assert wrong.status_code == 403
    assert client.post("/actions/start", data={"csrf_token": "é"}, headers={"Origin": OWN}).status_code == 403
    assert board.connector.status().state == State.STOPPED


def test_the_token_as_hidden_field_or_header_is_accepted(board: Dashboard) -> None:
    client = logged_in(board)
    by_field = client.post("/actions/start", data=with_token(board), headers={"Origin": OWN},
                           follow_redirects=False)
    assert by_field.status_code == 303
    by_header = client.post("/actions/stop", headers={"Origin": OWN, "X-CSRF-Token": csrf_token(board.token)},
                            follow_redirects=False)
    assert by_header.status_code == 303


def test_an_upload_carries_the_token_in_its_multipart_form(board: Dashboard) -> None:
    client = logged_in(board)
    files = {"file": ("notes.txt", b"hello", "text/plain")}
    refused = client.post("/mappings/upload", files=files, headers={"Origin": OWN})
    assert refused.status_code == 403
    checked = client.post("/mappings/upload", files=files, data=with_token(board), headers={"Origin": OWN})
    assert checked.status_code == 400 and "upload a .csv file" in checked.text


def test_every_post_form_on_the_page_carries_the_token(board: Dashboard) -> None:
    client = logged_in(board)
    page = client.get("/").text
    token = csrf_token(board.token)
    tags = re.findall(r"(<form\b(?:[^>\"']|\"[^\"]*\")*>)(.{0,120})", page, flags=re.DOTALL)
    forms = [rest for tag, rest in tags if 'method="post"' in tag]
    assert len(forms) == page.count('method="post"') >= 6
    for rest in forms:
        assert rest.startswith(f'<input type="hidden" name="csrf_token" value="{token}">'), rest
    assert f'<meta name="csrf-token" content="{token}">' in page
    assert '<script src="/static/csrf.js"></script>' in page.split("</head>")[0]
    assert "<form method=\"dialog\">\n" in page  # the confirm dialog's form is not a POST: left alone
    assert "X-CSRF-Token" in client.get("/static/csrf.js").text
    # the token is not the login token: seeing the page source does not log anyone in
    assert board.token not in page


def test_the_locked_page_shows_no_csrf_token(board: Dashboard) -> None:
    page = TestClient(create_app(board)).get("/")
    assert page.status_code == 401 and csrf_token(board.token) not in page.text


def test_scripts_with_the_bearer_token_need_neither_origin_nor_csrf_token(board: Dashboard) -> None:
    script = TestClient(create_app(board))
    done = script.post("/actions/start", headers={"Authorization": f"Bearer {board.token}"}, follow_redirects=False)
    assert done.status_code == 303
    board.connector.stop(wait=5)
    # …but a page that somehow holds the token still cannot post from another origin
    foreign = script.post("/actions/start", headers={"Authorization": f"Bearer {board.token}",
                                                     "Origin": "http://testserver:9"})
    assert foreign.status_code == 403


# ---- cookie -------------------------------------------------------------------------------------------------------


def test_the_login_cookie_is_httponly_strict_and_secure_behind_tls(board: Dashboard) -> None:
    plain = TestClient(create_app(board)).get(f"/?token={board.token}", follow_redirects=False)
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    tls = TestClient(create_app(board), base_url="https://testserver").get(f"/?token={board.token}",
                                                                         follow_redirects=False)
    cookie = tls.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "; secure" in cookie


def test_the_token_in_a_post_url_does_not_log_in(board: Dashboard) -> None:
    anonymous = TestClient(create_app(board))
    response = anonymous.post(f"/actions/start?token={board.token}", headers={"Origin": OWN},
                              follow_redirects=False)
    assert response.status_code == 401 and "set-cookie" not in response.headers


def test_pages_cannot_be_framed_by_other_sites(board: Dashboard) -> None:
    page = logged_in(board).get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


# ---- Host header --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["testserver:abc", "testserver:99999", "testserver:0", "user@testserver",
                                  "testserver/x", "testserver:80:80", "[::1", "", " testserver",
                                  "testserver..", "test_server", "testserver:+80"])
def test_malformed_host_headers_are_refused(board: Dashboard, host: str) -> None:
    client = logged_in(board)
    response = client.get("/api/status", headers={"Host": host})
    assert response.status_code == 400 and "Malformed Host header" in response.text


def test_two_host_headers_are_refused(board: Dashboard) -> None:
    client = logged_in(board)
    response = client.get("/api/status", headers=[("Host", "testserver"), ("Host", "evil.example.com")])
    assert response.status_code == 400


def test_host_parsing() -> None:
    assert parse_host("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_host("[::1]:8765") == ("::1", 8765)
    assert parse_host("[0:0::1]") == ("::1", None)
    assert parse_host("LocalHost") == ("localhost", None)
    assert parse_host("[zz::1]") is None
    assert parse_origin("http://[::1]:8765") == own_origin("http", "[::1]:8765")
    assert parse_origin("ftp://testserver") is None
    assert str(own_origin("https", "example.org")) == "https://example.org:443"
