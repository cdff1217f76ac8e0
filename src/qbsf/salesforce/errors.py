"""Salesforce errors, classified once: errorCode → what the sync engine does next, and what a person should do.

Salesforce reports failures as ``[{"errorCode"|"statusCode", "message", "fields"}]`` (REST) or per record in
sObject Collections results. :func:`classify` turns one such error into a typed exception carrying the code,
message and fields, subclassing :class:`~qbsf.errors.Retriable`, :class:`~qbsf.errors.AfterDependency`,
:class:`~qbsf.errors.NeedsUser` or :class:`~qbsf.errors.Skippable` — decided by :data:`ERROR_TABLE`, the one place
error codes are classified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qbsf.errors import AfterDependency, NeedsUser, Retriable, Skippable, SyncError


class SalesforceError(SyncError):
    """A Salesforce API error: ``error_code``, Salesforce's ``message``, the ``fields`` involved, and a hint."""

    def __init__(self, message: str, *, error_code: str = "UNKNOWN", fields: Sequence[str] = (),
                 status: int | None = None, hint: str | None = None, sobject: str | None = None) -> None:
        self.error_code = error_code
        self.sf_message = message
        self.fields = list(fields)
        self.status = status
        self.sobject = sobject
        where = f" on {sobject}" if sobject else ""
        field_text = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        super().__init__(f"Salesforce {error_code}{where}: {message}{field_text}", hint=hint)


class SalesforceRetriable(SalesforceError, Retriable):
    """Transient Salesforce failure (row lock, server unavailable, timeout): retry later."""


class SalesforceAfterDependency(SalesforceError, AfterDependency):
    """A lookup points at a record that does not exist yet: retry after the parent syncs."""


class SalesforceNeedsUser(SalesforceError, NeedsUser):
    """Bad data, missing permission or configuration: a person must act."""


class SalesforceSkippable(SalesforceError, Skippable):
    """The record is gone (deleted, not found): note it and move on."""


class ApiLimitExceeded(SalesforceNeedsUser):
    """The org's API allocation is used up: qbsf pauses Salesforce calls until it resets."""


class AuthError(SalesforceNeedsUser):
    """Login failed or a token was rejected after one refresh: credentials or the connected app need fixing."""


@dataclass(frozen=True)
class ErrorRule:
    """How one errorCode is handled: the exception class and what to do."""

    kind: type[SalesforceError]
    todo: str


_FIX_DATA = "fix the value in Salesforce or QuickBooks (or the mapping CSV), then sync again"
_PERMS = "give the integration user access (assign the QBSF_Connector permission set) and sync again"

#: errorCode → handling. The ONE table: add a code here, nowhere else.
ERROR_TABLE: Mapping[str, ErrorRule] = {
    # transient
    "UNABLE_TO_LOCK_ROW": ErrorRule(SalesforceRetriable, "another process holds the record; qbsf retries it"),
    "SERVER_UNAVAILABLE": ErrorRule(SalesforceRetriable, "Salesforce is unavailable; qbsf retries with backoff"),
    "QUERY_TIMEOUT": ErrorRule(SalesforceRetriable, "the query took too long; qbsf retries (narrow the query if it "
                                                    "keeps failing)"),
    "INVALID_QUERY_LOCATOR": ErrorRule(SalesforceRetriable, "the query cursor expired; qbsf re-runs the query"),
    "UNKNOWN_EXCEPTION": ErrorRule(SalesforceRetriable, "Salesforce had an internal error; qbsf retries"),
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": ErrorRule(SalesforceRetriable,
                                                   "another record in the same batch failed; qbsf retries this one"),
    "PROCESSING_HALTED": ErrorRule(SalesforceRetriable, "an earlier subrequest failed; qbsf retries this one"),
    "INVALID_SESSION_ID": ErrorRule(SalesforceRetriable, "the session expired; qbsf logs in again"),
    # limits and login
    "REQUEST_LIMIT_EXCEEDED": ErrorRule(ApiLimitExceeded,
                                        "the org's daily API allocation is used up; qbsf pauses Salesforce calls "
                                        "until it resets (rolling 24 hours) — or raise it in Setup → Company "
                                        "Information, or lower the sync frequency"),
    "API_DISABLED_FOR_ORG": ErrorRule(AuthError, "enable API access (Enterprise/Unlimited edition or the API add-on)"),
    "API_CURRENTLY_DISABLED": ErrorRule(AuthError, "give the integration user's profile the 'API Enabled' permission"),
    "INVALID_AUTH_HEADER": ErrorRule(AuthError, "log in again with `qbsf salesforce connect`"),
    "INVALID_LOGIN": ErrorRule(AuthError, "check the username, password and security token"),
    # the record is gone
    "ENTITY_IS_DELETED": ErrorRule(SalesforceSkippable, "the record was deleted in Salesforce; qbsf skips it"),
    "NOT_FOUND": ErrorRule(SalesforceSkippable, "the record no longer exists in Salesforce; qbsf skips it"),
    # a parent is missing
    "INVALID_CROSS_REFERENCE_KEY": ErrorRule(SalesforceAfterDependency,
                                             "a lookup points at a record not synced yet; qbsf retries after the "
                                             "parent syncs (sync Accounts before Invoices)"),
    # a person must act
    "INVALID_FIELD": ErrorRule(SalesforceNeedsUser, "a mapped field does not exist or is not visible to the "
                                                    "integration user: check the mapping CSV and " + _PERMS),
    "INVALID_FIELD_FOR_INSERT_UPDATE": ErrorRule(SalesforceNeedsUser, "the field is read-only (formula, auto-number "
                                                                      "or no edit access): remove it from the "
                                                                      "mapping or " + _PERMS),
    "INVALID_TYPE": ErrorRule(SalesforceNeedsUser, "the object does not exist or is not visible: deploy the qbsf "
                                                   "package (salesforce/) and " + _PERMS),
    "INSUFFICIENT_ACCESS_OR_READONLY": ErrorRule(SalesforceNeedsUser, _PERMS),
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": ErrorRule(SalesforceNeedsUser, _PERMS),
    "REQUIRED_FIELD_MISSING": ErrorRule(SalesforceNeedsUser, "fill the required field (or map a value to it), then "
                                                             "sync again"),
    "STRING_TOO_LONG": ErrorRule(SalesforceNeedsUser, "shorten the value or add a truncate transform in the mapping"),
    "DUPLICATE_VALUE": ErrorRule(SalesforceNeedsUser, "another record already holds this unique value (often a QB "
                                                      "id): merge the duplicates in Salesforce, then sync again"),
    "DUPLICATES_DETECTED": ErrorRule(SalesforceNeedsUser, "a Salesforce duplicate rule blocked the record: merge or "
                                                          "relax the rule for the integration user"),
    # Several stored records hold the external id an upsert names (REST: 300 Multiple Choices; collections and
    # Bulk API: DUPLICATE_EXTERNAL_ID). One id sent twice in one request is DUPLICATE_VALUE: see MESSAGE_RULES.
    "DUPLICATE_EXTERNAL_ID": ErrorRule(SalesforceNeedsUser, "several Salesforce records hold this QuickBooks id: "
                                                            "merge them in Salesforce, then sync again"),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": ErrorRule(SalesforceNeedsUser, "a validation rule rejected the record: "
                                                   + _FIX_DATA),
    "FIELD_INTEGRITY_EXCEPTION": ErrorRule(SalesforceNeedsUser, _FIX_DATA),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": ErrorRule(SalesforceNeedsUser, "add the value to the picklist or map "
                                                                              "it with a lookup transform"),
    "INVALID_TYPE_ON_FIELD_IN_RECORD": ErrorRule(SalesforceNeedsUser, "the value has the wrong type for the field: "
                                                                      "fix the mapping's transform"),
    "NUMBER_OUTSIDE_VALID_RANGE": ErrorRule(SalesforceNeedsUser, _FIX_DATA),
    "INVALID_EMAIL_ADDRESS": ErrorRule(SalesforceNeedsUser, _FIX_DATA),
    "MALFORMED_ID": ErrorRule(SalesforceNeedsUser, "an Id is not a valid 15/18-character Salesforce Id: fix the "
                                                   "value or the crosswalk"),
    "MALFORMED_QUERY": ErrorRule(SalesforceNeedsUser, "the SOQL is invalid: check field names in the mapping CSV"),
    "INVALID_ID_FIELD": ErrorRule(SalesforceNeedsUser, "the record Id is missing or wrong for this object"),
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": ErrorRule(SalesforceNeedsUser, "a trigger or flow in the org failed: "
                                                      "ask the Salesforce admin (the message names it)"),
    "EXCEEDED_ID_LIMIT": ErrorRule(SalesforceNeedsUser, "too many records in one call: report this as a qbsf bug"),
    "JSON_PARSER_ERROR": ErrorRule(SalesforceNeedsUser, "the request body was rejected: report this as a qbsf bug"),
    "METHOD_NOT_ALLOWED": ErrorRule(SalesforceNeedsUser, "the API does not allow this call: report it as a qbsf bug"),
}

#: Codes whose handling depends on the message: (errorCode, how the message starts, lower case) → handling.
#: Salesforce answers DUPLICATE_VALUE both when another record holds a unique value and when one upsert request names
#: the same external id twice ("Duplicate external id specified: X", every such record fails); only the second is
#: cured by sending the records again, each in a request of its own — which qbsf's upserts do.
MESSAGE_RULES: Mapping[tuple[str, str], ErrorRule] = {
    ("DUPLICATE_VALUE", "duplicate external id specified"): ErrorRule(
        SalesforceRetriable, "the same QuickBooks id was sent twice in one request; qbsf sends each record for it "
                             "in a request of its own"),
}

#: The manual's known failure, "INVALID_FIELD on upsert — External ID included in request body": qbsf never sends the
#: external id field in a single-record upsert body (it goes in the URL), so this only appears from a foreign client.
EXTERNAL_ID_IN_BODY_HINT = ("the external id field was also sent in the upsert body; qbsf strips it from the body, "
                            "so update qbsf (or stop the other tool sending it)")


def classify(error_code: str, message: str, fields: Sequence[str] = (), *, status: int | None = None,
             sobject: str | None = None) -> SalesforceError:
    """One Salesforce error as the typed exception :data:`ERROR_TABLE` says; unknown codes go by HTTP status."""
    lowered = message.lower()
    rule = next((r for (code, start), r in MESSAGE_RULES.items() if code == error_code and lowered.startswith(start)),
                None) or ERROR_TABLE.get(error_code)
    if rule is None:
        if status is not None and status >= 500:
            rule = ErrorRule(SalesforceRetriable, "Salesforce returned a server error; qbsf retries with backoff")
        else:
            rule = ErrorRule(SalesforceNeedsUser, f"look up {error_code} in the Salesforce API error reference")
    hint = rule.todo
    if error_code == "INVALID_FIELD" and "external id" in message.lower():
        hint = EXTERNAL_ID_IN_BODY_HINT
    return rule.kind(message, error_code=error_code, fields=fields, status=status, hint=hint, sobject=sobject)


def from_error_item(item: Mapping[str, Any], *, status: int | None = None,
                    sobject: str | None = None) -> SalesforceError:
    """Classify one ``{"errorCode"|"statusCode", "message", "fields"}`` item from a REST or collections response."""
    code = str(item.get("errorCode") or item.get("statusCode") or "UNKNOWN")
    fields = item.get("fields") or []
    return classify(code, str(item.get("message") or ""), [str(f) for f in fields], status=status, sobject=sobject)


def from_response_body(body: Any, status: int, *, sobject: str | None = None) -> SalesforceError:
    """Classify a failed REST response body (usually a list of error items; OAuth uses ``error``)."""
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return from_error_item(body[0], status=status, sobject=sobject)
    if isinstance(body, Mapping):
        if "error" in body:  # OAuth endpoints
            return AuthError(str(body.get("error_description") or body["error"]), error_code=str(body["error"]),
                             status=status, hint=_oauth_hint(str(body["error"])))
        if "errorCode" in body or "statusCode" in body:
            return from_error_item(body, status=status, sobject=sobject)
    text = str(body)[:300]
    return classify("HTTP_" + str(status), text or f"HTTP {status}", status=status, sobject=sobject)


def _oauth_hint(error: str) -> str:
    return {
        "invalid_grant": "the refresh token, code, assertion or password was rejected: log in again with "
                         "`qbsf salesforce connect` (for JWT: check the certificate, username and that the user is "
                         "pre-authorized for the connected app)",
        "invalid_client_id": "the connected app's consumer key is wrong: check salesforce.client_id",
        "invalid_client": "the connected app's consumer secret is wrong: `qbsf config set salesforce.client_secret`",
        "unsupported_grant_type": "enable this OAuth flow on the connected app",
        "redirect_uri_mismatch": "add the callback URL (http://localhost:8080/callback … 8084) to the connected app",
        "inactive_user": "reactivate the integration user in Salesforce Setup",
        "inactive_org": "the org is locked or inactive: contact Salesforce",
    }.get(error, "check the connected app settings in Salesforce Setup")
