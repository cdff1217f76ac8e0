"""``POST /services/Soap/u/{version}``: the partner SOAP API's ``login()`` call, and nothing else of SOAP.

Clients that log in with a username and password but no connected app (jsforce's ``login()`` without OAuth2
settings, Data Loader, older tools) send the minimal partner-API envelope
``<login xmlns="urn:partner.soap.sforce.com"><username/><password/></login>`` and read ``serverUrl``,
``sessionId``, ``userId`` and ``userInfo/organizationId`` from the ``loginResponse``; the session id is then a
bearer token for the REST API. Shapes from the SOAP API Developer Guide, "login()" and "LoginResult": HTTP 200 with
``result`` holding ``metadataServerUrl, passwordExpired, sandbox, serverUrl, sessionId, userId, userInfo``; a bad
username or password is HTTP 500 with the fault ``sf:INVALID_LOGIN`` "Invalid username, password, security token;
or user locked out." (SOAP API Developer Guide, "ExceptionCode" and "LoginFault").

``login()`` is not available from API version 65.0 onwards (release note "SOAP API login() not available in API
version 65.0 onwards"; the SOAP API End-of-Life Policy keeps it in 31.0–64.0 until its Summer '27 retirement).
What such a call answers is not documented: the emulator answers the fault ``sf:UNSUPPORTED_API_VERSION`` with
HTTP 500, the code the same policy page gives for operations a version no longer serves.
"""

from __future__ import annotations

import secrets
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from qbsf.errors import XmlError
from qbsf.sim.salesforce.ids import ORG_ID
from qbsf.sim.salesforce.settings import SUPPORTED_VERSIONS, EmulatorSettings
from qbsf.sim.salesforce.state import DEMO_PASSWORD, SalesforceState, TokenGrant
from qbsf.xmlsafe import parse_xml

PARTNER_NS = "urn:partner.soap.sforce.com"
LAST_LOGIN_VERSION = 64.0
SESSION_SECONDS = 7200
_ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
             'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" '
             'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
             '<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>')


def _fault(code: str, message: str, fault_type: str = "UnexpectedErrorFault", status: int = 500) -> Response:
    body = (f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
            f'<detail><sf:{fault_type} xsi:type="sf:{fault_type}"><sf:exceptionCode>{code}</sf:exceptionCode>'
            f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{fault_type}></detail>"
            f"</soapenv:Fault>")
    return Response(_ENVELOPE.format(body), status_code=status, media_type="text/xml")


def _text(value: object) -> str:
    return escape("" if value is None else str(value))


class SoapLogin:
    """The partner API's login() over one org."""

    def __init__(self, state: SalesforceState, settings: EmulatorSettings) -> None:
        self.state = state
        self.settings = settings

    async def login(self, request: Request) -> Response:
        """POST /services/Soap/u/{version}: a login envelope in, a LoginResult (or a fault) out."""
        version = request.path_params["version"]
        if version not in SUPPORTED_VERSIONS:
            return _fault("UNSUPPORTED_API_VERSION", f"Invalid Api version specified on URL: {version}")
        try:
            envelope = parse_xml(await request.body(), source="SOAP request")
        except XmlError:
            return _fault("INVALID_REQUEST", "the request is not a SOAP envelope", "InvalidRequestFault")
        login = envelope.find(f".//{{{PARTNER_NS}}}login")
        if login is None:
            return _fault("INVALID_OPERATION", "the emulator's partner API serves login() only",
                          "UnexpectedErrorFault")
        if float(version) > LAST_LOGIN_VERSION:
            return _fault("UNSUPPORTED_API_VERSION", f"login() is not available in API version {version}; use "
                          "OAuth 2.0 (login() is served in API versions 31.0 to 64.0)")
        username = (login.findtext(f"{{{PARTNER_NS}}}username") or "").strip().lower()
        password = login.findtext(f"{{{PARTNER_NS}}}password") or ""
        with self.state.lock:
            user = next((rec for rec in self.state.table("User").values()
                         if (rec.get("Username") or "").lower() == username and not rec.get("IsDeleted")), None)
            if user is None or password != DEMO_PASSWORD:
                return _fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.",
                              "LoginFault")
            session = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(60)}"
            self.state.tokens[session] = TokenGrant(session, user["Id"], "soap-login",
                                                    self.state.clock().timestamp(), "api")
            organization = self.state.get("Organization", ORG_ID) or {}
        base = self.settings.instance_url or str(request.base_url).rstrip("/")
        info = {"accessibilityMode": "false", "currencySymbol": "$", "orgAttachmentFileSizeLimit": 5242880,
                "orgDefaultCurrencyIsoCode": "USD", "orgDisallowHtmlAttachments": "false",
                "orgHasPersonAccounts": "false", "organizationId": ORG_ID, "organizationMultiCurrency": "false",
                "organizationName": organization.get("Name"), "sessionSecondsValid": SESSION_SECONDS,
                "userEmail": user.get("Email"), "userFullName": user.get("Name"), "userId": user["Id"],
                "userLanguage": "en_US", "userLocale": "en_US", "userName": user.get("Username"),
                "userTimeZone": user.get("TimeZoneSidKey") or "GMT", "userType": "Standard", "userUiSkin": "Theme3"}
        result = (f"<metadataServerUrl>{base}/services/Soap/m/{version}/{ORG_ID[:15]}</metadataServerUrl>"
                  f"<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
                  f"<serverUrl>{base}/services/Soap/u/{version}/{ORG_ID[:15]}</serverUrl>"
                  f"<sessionId>{session}</sessionId><userId>{user['Id']}</userId><userInfo>"
                  + "".join(f"<{k}>{_text(v)}</{k}>" for k, v in info.items()) + "</userInfo>")
        return Response(_ENVELOPE.format(f"<loginResponse><result>{result}</result></loginResponse>"),
                        media_type="text/xml")
