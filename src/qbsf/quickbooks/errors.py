"""QuickBooks status codes → typed errors, classified in ONE table by what the sync engine does next.

Every non-zero ``statusCode`` in a qbXML response becomes a :class:`QuickBooksError` subclass that
carries the code, QuickBooks' own message and what to do. The engine only looks at the base class
(``Retriable`` / ``AfterDependency`` / ``NeedsUser`` / ``Skippable``); people read the message and hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from qbsf.errors import AfterDependency, ConfigError, NeedsUser, QbsfError, Retriable, Skippable

__all__ = [
    "STATUS_TABLE",
    "ConnectionFailed",
    "FieldValueError",
    "InvalidReference",
    "InvalidSetupReference",
    "MissingAccountError",
    "MissingParent",
    "ModConflictError",
    "NameInUse",
    "NotProcessed",
    "ObjectNotFound",
    "QuickBooksError",
    "QuickBooksRejected",
    "RecordBusy",
    "StaleEditSequence",
    "StatusRule",
    "TransportError",
    "UnknownFieldError",
    "error_for_status",
]


class QuickBooksError(QbsfError):
    """A non-zero qbXML status: ``code``, QuickBooks' ``status_message``, the request it answered, and a hint."""

    code: int = 0

    def __init__(self, code: int, status_message: str, *, hint: str | None = None, request: str = "",
                 request_id: str | None = None, record: str | None = None) -> None:
        where = f" ({record})" if record else ""
        text = f"QuickBooks {request or 'request'}{where} failed with status {code}: {status_message}"
        super().__init__(text, hint=hint)
        self.code = code
        self.status_message = status_message
        self.request = request
        self.request_id = request_id
        self.record = record


class RecordBusy(QuickBooksError, Retriable):
    """3170/3175/3180: the record is in use or could not be saved right now; the same request may succeed later."""


class StaleEditSequence(QuickBooksError, Retriable):
    """3200: someone modified the record since we read it; re-read it and retry if nothing we change was touched."""


class InvalidReference(QuickBooksError, AfterDependency):
    """3140: the request refers to a customer/item/account QuickBooks does not have (yet)."""


class MissingParent(QuickBooksError, AfterDependency):
    """3130: the ParentRef (a job's customer, a sub-item's or sub-account's parent) is not in QuickBooks."""


class NameInUse(QuickBooksError, NeedsUser):
    """3100: names are unique across customers, vendors, employees and other names together."""


class ObjectNotFound(QuickBooksError, Skippable):
    """500/3120: the record is not in QuickBooks (deleted, or never there)."""


class QuickBooksRejected(QuickBooksError, NeedsUser):
    """Any other error status: QuickBooks refused the data; a person has to look at it."""


class NotProcessed(QuickBooksError, Retriable):
    """3231: QuickBooks skipped the request because an earlier one in a stopOnError batch failed."""


@dataclass(frozen=True, slots=True)
class StatusRule:
    """How one status code is handled: the error class and what the user (or engine) should do."""

    error: type[QuickBooksError]
    hint: str


# THE table: every status code qbsf understands, with the class that tells the engine what to do next.
STATUS_TABLE: dict[int, StatusRule] = {
    500: StatusRule(ObjectNotFound, "the record is no longer in QuickBooks; it is skipped"),
    3100: StatusRule(NameInUse, "QuickBooks names are unique across customers, vendors, employees and other "
                                "names together: rename one of the records, or link this record to the existing one"),
    3120: StatusRule(ObjectNotFound, "the record was deleted in QuickBooks; it is skipped (re-create it by clearing "
                                     "its QuickBooks id in Salesforce)"),
    # OSR "status codes in response messages": 3130 "There is an invalid reference to a parent …". Waiting is
    # right while the parent syncs in the same or the next cycle; a parent deleted in QuickBooks never comes, and
    # the engine parks the record after its attempts (sync.max_attempts) with this hint saying what to do.
    3130: StatusRule(MissingParent, "the parent record is not in QuickBooks: sync the parent first (the Account "
                                    "before its Contacts and jobs, the parent Product2 before its sub-items); qbsf "
                                    "retries after it has synced. If the parent was deleted in QuickBooks it will "
                                    "not come back by itself: clear the parent's QuickBooks id in Salesforce so it "
                                    "is created again (or link it with `qbsf link`), then `qbsf sync retry`"),
    3140: StatusRule(InvalidReference, "sync the referenced record to QuickBooks first (e.g. sync Product2 to QB "
                                       "before syncing Opportunity; sync the Account before its Contacts and "
                                       "Opportunities); qbsf retries after it has synced"),
    3170: StatusRule(RecordBusy, "the record is open in QuickBooks or being changed by another user; qbsf retries "
                                 "next cycle"),
    3175: StatusRule(RecordBusy, "the record is in use by another QuickBooks user; qbsf retries next cycle"),
    3180: StatusRule(RecordBusy, "QuickBooks could not save the record right now; qbsf retries next cycle"),
    3200: StatusRule(StaleEditSequence, "the record changed in QuickBooks since qbsf read it; qbsf re-reads it and "
                                        "retries when none of the fields it changes were touched"),
    3210: StatusRule(QuickBooksRejected, "a field has a value QuickBooks does not accept: fix it in Salesforce or in "
                                         "the mapping"),
    3250: StatusRule(QuickBooksRejected, "the feature is not enabled in this QuickBooks company (Edit → Preferences)"),
    3260: StatusRule(QuickBooksRejected, "the QuickBooks user qbsf logs in as lacks permission: give it access in "
                                         "Company → Users, or re-authorise the application"),
    3070: StatusRule(QuickBooksRejected, "a value is longer than QuickBooks allows: shorten it or set the field "
                                         "policy to 'transliterate'"),
    3020: StatusRule(QuickBooksRejected, "a date is not valid for QuickBooks: fix it in Salesforce"),
    3040: StatusRule(QuickBooksRejected, "an amount is not valid for QuickBooks: fix it in Salesforce"),
    3000: StatusRule(ObjectNotFound, "the QuickBooks id is not valid in this company file; it is skipped"),
    3150: StatusRule(QuickBooksRejected, "a required field is missing: add it to the mapping"),
    # OSR: 3231 "The request has not been processed." — stopOnError skipped it after an earlier request failed.
    3231: StatusRule(NotProcessed, "an earlier request in the same message failed, so QuickBooks did not try "
                                   "this one; qbsf retries it"),
}
_DEFAULT = StatusRule(QuickBooksRejected, "check the record in QuickBooks and the value qbsf sent; the status code "
                                          "is listed in Intuit's qbXML status-code reference")


def error_for_status(code: int, status_message: str, *, request: str = "", request_id: str | None = None,
                     record: str | None = None) -> QuickBooksError:
    """The typed error for one non-zero ``statusCode`` (classified by :data:`STATUS_TABLE`).

    3140 is refined by what the reference points at: a customer or item qbsf syncs itself is a dependency
    (retry after it syncs); an account, terms, class or other QuickBooks setup list is the user's to fix.
    """
    rule = STATUS_TABLE.get(code, _DEFAULT)
    error_class, hint = rule.error, rule.hint
    if code == 3140:
        error_class, hint = _reference_rule(request, status_message, rule)
    return error_class(code, status_message, hint=hint, request=request, request_id=request_id, record=record)


class InvalidSetupReference(QuickBooksError, NeedsUser):
    """3140 on a QuickBooks setup list qbsf never syncs (accounts, terms, classes, …): a person must fix it."""


_RETRY = "; qbsf retries after it has synced"
# 3140 names the list the missing reference belongs to: say which record has to sync first, or what to set up.
_SYNCED_REFERENCES = (
    ("item", "Sync Product2 to QB before syncing Opportunity (the invoice line's item is not in QuickBooks yet)"),
    ("customer", "Sync the Account to QB before syncing its Opportunities and Contacts (the customer is not in "
                 "QuickBooks yet)"),
)
_SETUP_REFERENCES = (
    ("account", "the account name must match QuickBooks' Chart of Accounts exactly: check the QB Default Accounts "
                "(Lists → Chart of Accounts) and the mapping"),
    ("terms", "create the payment terms in QuickBooks (Lists → Customer & Vendor Profile Lists → Terms List) or fix "
              "the mapping's value"),
    ("class", "create the class in QuickBooks (Lists → Class List) or fix the mapping's value"),
    ("sales tax code", "use a sales tax code that exists in QuickBooks (Tax or Non by default)"),
    ("sales rep", "create the sales rep in QuickBooks (Lists → Customer & Vendor Profile Lists → Sales Rep List)"),
)


def _mentions(text: str, word: str) -> bool:
    return f"quickbooks {word}" in text or f"{word} list" in text or f"{word.replace(' ', '')}ref" in text


def _reference_rule(request: str, status_message: str, rule: StatusRule) -> tuple[type[QuickBooksError], str]:
    text = status_message.lower()
    for word, hint in _SYNCED_REFERENCES:
        if _mentions(text, word):
            return rule.error, hint + _RETRY
    for word, hint in _SETUP_REFERENCES:
        if _mentions(text, word):
            return InvalidSetupReference, hint
    if request.startswith("Invoice"):
        return rule.error, _SYNCED_REFERENCES[0][1] + _RETRY
    return rule.error, rule.hint


class ModConflictError(NeedsUser):
    """A Mod met a stale EditSequence and, on re-reading, someone else had changed a field qbsf wants to change."""

    def __init__(self, record: str, conflicts: dict[str, tuple[object, object, object]]) -> None:
        parts = [f"{field} is now {now!r} (qbsf last saw {was!r}, wants {wanted!r})"
                 for field, (was, now, wanted) in conflicts.items()]
        super().__init__(
            f"{record} was changed in QuickBooks since qbsf last read it: " + "; ".join(parts),
            hint="qbsf does not overwrite a change it has not seen: review the record in QuickBooks, then re-sync it",
        )
        self.record = record
        self.conflicts = conflicts


class MissingAccountError(NeedsUser):
    """An item needs a QB default account (income; COGS and asset for inventory) that is not configured."""


class FieldValueError(NeedsUser):
    """A value cannot go to QuickBooks as is (too long, not Latin-1, wrong type) under the chosen field policy."""


class UnknownFieldError(ConfigError):
    """A flat field name (from a mapping) that the QuickBooks record type does not have."""


class TransportError(Retriable):
    """The message did not reach QuickBooks or its answer did not come back (session lost, QB closed)."""


class ConnectionFailed(NeedsUser):
    """QuickBooks could not be reached after the configured attempts; a person has to open it."""
