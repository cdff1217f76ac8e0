"""The HTTP side: ``POST /qbwc`` (SOAP 1.1 or 1.2) and ``GET /qbwc?wsdl``, on Starlette.

Every bad request gets an answer the Web Connector can log — a SOAP fault of
the request's SOAP version, 413 for an oversized body — never a crash. The
operations block (they wait for the sync engine), so they run in the thread
pool, never on the event loop.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from qbsf.quickbooks.webconnector import soap
from qbsf.quickbooks.webconnector.service import WebConnectorService
from qbsf.quickbooks.webconnector.wsdl import wsdl_document

log = logging.getLogger(__name__)

#: Largest SOAP body accepted; a qbXML response far beyond this means a query without MaxReturned/iterators.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


class _TooLarge(Exception):
    """The request body went over the endpoint's size limit."""


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _fault(message: str, *, version: str, client: bool = True, status: int | None = None) -> Response:
    # SOAP 1.1 puts every fault on 500; SOAP 1.2 uses 400 for the sender's fault and 500 for the receiver's.
    code = status if status is not None else (500 if version == "1.1" or not client else 400)
    return Response(soap.build_fault(message, client=client, soap_version=version), status_code=code,
                    media_type=soap.content_type(version))


def create_app(service: WebConnectorService, *, path: str = "/qbwc", max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               public_url: str | None = None) -> Starlette:
    """A Starlette app serving ``service`` at ``path``; ``public_url`` overrides the address put in the WSDL."""

    async def wsdl_or_page(request: Request) -> Response:
        if "wsdl" in {key.lower() for key in request.query_params}:
            address = public_url or str(request.url.replace(query=None, fragment=None))
            return Response(wsdl_document(address), media_type="text/xml; charset=utf-8")
        return Response("qbsf QuickBooks Web Connector endpoint: load the .qwc file from `qbsf qwc` into the "
                        "Web Connector; the WSDL is at ?wsdl\n", media_type="text/plain; charset=utf-8")

    async def call(request: Request) -> Response:
        version = soap.version_from_content_type(request.headers.get("content-type"))
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            log.warning("refused a Web Connector request over %d bytes from %s", max_body_bytes,
                        request.client.host if request.client else "unknown client")
            return _fault(f"request body exceeds {max_body_bytes} bytes", version=version, status=413)
        try:
            parsed = soap.parse_call(body)
        except soap.SoapFault as exc:
            log.warning("refused a malformed Web Connector request: %s", exc)
            return _fault(str(exc), version=version)
        client = request.client.host if request.client else ""
        try:
            result = await run_in_threadpool(service.dispatch, parsed, client=client)
        except soap.SoapFault as exc:
            return _fault(str(exc), version=parsed.soap_version, client=exc.client)
        except Exception:
            # One broken call must not take the endpoint down; the Web Connector logs the fault and stops.
            log.exception("Web Connector operation %s failed", parsed.operation)
            return _fault(f"qbsf could not complete {parsed.operation}; see the qbsf log",
                          version=parsed.soap_version, client=False)
        return Response(soap.build_response(parsed.operation, result, soap_version=parsed.soap_version),
                        media_type=soap.content_type(parsed.soap_version))

    routes = [Route(path, wsdl_or_page, methods=["GET"]), Route(path, call, methods=["POST"])]
    app = Starlette(routes=routes)
    app.state.webconnector = service
    return app
