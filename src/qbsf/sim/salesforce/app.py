"""The emulator as an ASGI app: OAuth endpoints, the data API, and the per-call knobs (latency, faults, limits)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qbsf.sim.salesforce import apexrest
from qbsf.sim.salesforce.oauth import OAuth
from qbsf.sim.salesforce.rest import Reply, RestApi
from qbsf.sim.salesforce.settings import EmulatorSettings
from qbsf.sim.salesforce.soap import SoapLogin
from qbsf.sim.salesforce.state import SalesforceState

log = logging.getLogger(__name__)
_FAULT_REPLIES = {
    "UNABLE_TO_LOCK_ROW": Reply(400, [{"message": "unable to obtain exclusive access to this record or 1 records",
                                       "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}]),
    "SERVER_UNAVAILABLE": Reply(503, [{"message": "Service temporarily unavailable", "errorCode":
                                       "SERVER_UNAVAILABLE"}]),
    "REQUEST_LIMIT_EXCEEDED": Reply(403, [{"message": "TotalRequests Limit exceeded.",
                                           "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
}


def _json_response(reply: Reply, limit_info: str) -> Response:
    headers = {**reply.headers, "Sforce-Limit-Info": limit_info}
    if reply.text is not None:  # CSV (Bulk API 2.0 results) and other non-JSON bodies
        return Response(reply.text, status_code=reply.status, headers=headers, media_type=reply.media_type)
    if reply.body is None:
        return Response(status_code=reply.status, headers=headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=headers)


# Python's JSON complaints in the words of Salesforce's parser (Jackson), e.g. "Unexpected character ('}' (code 125)):
# was expecting double-quote to start field name at [line:1, column:15]".
_JSON_REASONS = {"Expecting property name enclosed in double quotes": "was expecting double-quote to start field name",
                 "Expecting value": "expected a valid value (JSON String, Number, Array, Object or token 'null', "
                                    "'true' or 'false')",
                 "Expecting ',' delimiter": "was expecting comma to separate Object entries",
                 "Expecting ':' delimiter": "was expecting a colon to separate field name and value"}


def _parser_message(exc: Exception) -> str:
    if not isinstance(exc, json.JSONDecodeError):
        return "Invalid UTF-8 middle byte: the request body is not UTF-8"
    where = f"at [line:{exc.lineno}, column:{exc.colno}]"
    if exc.pos >= len(exc.doc):
        return f"Unexpected end-of-input {where}"
    char = exc.doc[exc.pos]
    reason = _JSON_REASONS.get(exc.msg, "was expecting a valid JSON token")
    return f"Unexpected character ('{char}' (code {ord(char)})): {reason} {where}"


class CollapseSlashes:
    """``//services/data/…`` is ``/services/data/…``: Salesforce serves paths with repeated slashes.

    The Salesforce CLI stores the instance URL it is given with a trailing slash and appends ``/services/…`` to it,
    so every request it sends starts with ``//``; against real orgs that works (instance URLs with and without the
    trailing slash both appear in ``sf org display`` output: forcedotcom/cli issue 361), so the emulator folds
    repeated slashes before routing.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = {**scope, "path": re.sub(r"/{2,}", "/", scope["path"])}
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def create_app(state: SalesforceState | None = None, settings: EmulatorSettings | None = None) -> Starlette:
    """The Salesforce emulator over ``state`` (a fresh in-memory org by default); ``app.state.sf`` is the state."""
    state = state or SalesforceState()
    settings = settings or EmulatorSettings()
    oauth = OAuth(state, settings)
    soap = SoapLogin(state, settings)
    api = RestApi(state)

    def limit_info() -> str:
        return f"api-usage={state.api_calls}/{state.daily_api_limit}"

    async def data(request: Request) -> Response:
        path = request.path_params.get("rest", "")
        if not path.strip("/"):
            return _json_response(Reply(200, api.versions()), limit_info())
        return await serve(request, path, lambda body, user_id, base_url, raw: api.dispatch(
            request.method, path, dict(request.query_params), dict(request.headers), body, user_id,
            base_url=base_url, raw=raw))

    async def apex(request: Request) -> Response:
        # the package's Apex REST classes (apexrest.py): one API call each, as any other call
        path = request.path_params.get("rest", "")
        return await serve(request, f"apexrest/{path}", lambda body, user_id, base_url, raw: apexrest.dispatch(
            api, request.method, path, body, user_id, base_url))

    async def serve(request: Request, path: str, handle: Any) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with state.lock:
            grant = state.token_user(token) if token else None
        if grant is None:
            return _json_response(Reply(401, [{"message": "Session expired or invalid",
                                               "errorCode": "INVALID_SESSION_ID"}]), limit_info())
        if state.latency:
            await asyncio.sleep(state.latency)
        raw = await request.body()
        body: Any = None
        if raw and "csv" in request.headers.get("content-type", ""):
            body = raw.decode("utf-8", errors="replace")  # a Bulk API 2.0 upload
        elif raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                return _json_response(Reply(400, [{"message": _parser_message(exc),
                                                   "errorCode": "JSON_PARSER_ERROR"}]), limit_info())
        with state.lock:
            if not state.count_api_call():
                return _json_response(_FAULT_REPLIES["REQUEST_LIMIT_EXCEEDED"], limit_info())
            fault = state.draw_fault(write=request.method != "GET")
            if fault == "UNABLE_TO_LOCK_ROW" and "/composite/sobjects" in f"/{path}":
                state.lock_one_record = True  # as in Salesforce, a collection reports the lock on one record
                fault = None
        if fault is not None:
            log.debug("injected %s on %s %s", fault, request.method, path)
            reply = _FAULT_REPLIES[fault]
            state.request_log.append({"method": request.method, "path": path, "status": reply.status,
                                      "at": state.now(), "fault": fault})
            return _json_response(reply, limit_info())
        reply = handle(body, grant.user_id, settings.instance_url or str(request.base_url).rstrip("/"),
                       raw.decode("utf-8", errors="replace") if raw else None)
        state.request_log.append({"method": request.method, "path": path, "status": reply.status,
                                  "at": state.now()})
        return _json_response(reply, limit_info())

    async def root(request: Request) -> Response:
        return JSONResponse({"emulator": "qbsf Salesforce emulator", "data": "/services/data/",
                             "token": "/services/oauth2/token"})

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
    app = Starlette(routes=[
        Route("/", root),
        Route("/services/oauth2/token", oauth.token, methods=["POST"]),
        Route("/services/oauth2/authorize", oauth.authorize, methods=["GET"]),
        Route("/services/oauth2/revoke", oauth.revoke, methods=["POST"]),
        Route("/services/oauth2/userinfo", oauth.userinfo, methods=["GET"]),
        Route("/id/{org_id}/{user_id}", oauth.identity, methods=["GET"]),
        Route("/services/Soap/u/{version}", soap.login, methods=["POST"]),
        Route("/services/data", data, methods=methods),
        Route("/services/data/{rest:path}", data, methods=methods),
        Route("/services/apexrest/{rest:path}", apex, methods=methods),
    ], middleware=[Middleware(CollapseSlashes)])
    app.state.sf = state
    app.state.settings = settings
    return app
