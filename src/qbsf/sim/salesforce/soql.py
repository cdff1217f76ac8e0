"""SOQL as qbsf and a user write it: a tokenizer, a recursive-descent parser and an evaluator over the state.

Grammar (keywords case-insensitive)::

    query      := SELECT select_list FROM name [WHERE or_expr] [ORDER BY order (, order)*] [LIMIT n] [OFFSET n]
    select     := COUNT() | item (, item)*      item := path | ( query-on-child-relationship )
                | COUNT|COUNT_DISTINCT|SUM|MIN|MAX|AVG ( path ) [alias]      with [GROUP BY path (, path)*]
    or_expr    := and_expr (OR and_expr)*       and_expr := not_expr (AND not_expr)*
    not_expr   := NOT not_expr | ( or_expr ) | path op value | path [NOT] IN ( value, ... )
                | path [NOT] IN ( SELECT path FROM name [WHERE or_expr] )          -- semi-join on ids
    item also  := FIELDS(ALL|STANDARD|CUSTOM)
    value      := 'string' | number | true | false | null | date | datetime | DATE_LITERAL[:n]

Anything else is a ``MALFORMED_QUERY`` with the offending position, as Salesforce reports it.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from qbsf.sim.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema
from qbsf.sim.salesforce.values import ApiError, format_datetime, parse_datetime

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\", "%": "\\%",
            "_": "\\_"}
KEYWORDS = {"SELECT", "FROM", "WHERE", "GROUP", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS",
            "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "COUNT"}
# Relative date literals: name → (unit, takes :n)
_DATE_LITERALS = {"TODAY": ("day", False), "YESTERDAY": ("day", False), "TOMORROW": ("day", False),
                  "LAST_N_DAYS": ("day", True), "NEXT_N_DAYS": ("day", True), "THIS_MONTH": ("month", False),
                  "LAST_MONTH": ("month", False), "THIS_YEAR": ("year", False)}


def malformed(message: str, position: int | None = None) -> ApiError:
    """A 400 MALFORMED_QUERY (``position``: where in the query text, when known)."""
    error = ApiError(400, "MALFORMED_QUERY", message)
    error.position = position
    return error


def located(error: ApiError, token: str) -> ApiError:
    """``error`` noting the query text it is about (the caller finds its position in the query)."""
    error.token = token
    return error


_WSDL_HINT = " Please reference your WSDL or the describe call for the appropriate names."


def format_query_error(error: ApiError, text: str) -> ApiError:
    """Salesforce's SOQL error message: the query line echoed, a caret, ``ERROR at Row:R:Column:C``, the message.

    Recorded real answers (e.g. ``"\\nCreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c\\n
    ^\\nERROR at Row:1:Column:114\\nNo such column 'TPI_Product__c' on entity …"``) show the line around the error
    — 30 characters before it, about as many after, cut at a word's end — and the 1-based row and column of the
    offending token. Errors without a place in the text (an empty query) keep their plain message.
    """
    position = getattr(error, "position", None)
    token = getattr(error, "token", None)
    if position is None and token:
        match = re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text, re.IGNORECASE) or \
            re.search(re.escape(token.rsplit(".", 1)[-1]), text, re.IGNORECASE)
        position = match.start() if match else None
    if position is None or error.message.startswith("\n"):
        return error
    position = min(position, len(text))
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end
    start = max(line_start, position - 30)
    end = min(line_end, position + 30)
    while end < line_end and (text[end].isalnum() or text[end] == "_"):
        end += 1
    row = text.count("\n", 0, position) + 1
    column = position - line_start + 1
    error.message = (f"\n{text[start:end]}\n{' ' * (position - start)}^\nERROR at Row:{row}:Column:{column}\n"
                     f"{error.message}")
    return error


@dataclass
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    """Split SOQL into tokens; unknown characters are a MALFORMED_QUERY naming the position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise malformed("unterminated string literal", pos)
            raise malformed(f"no viable alternative at character '{text[pos]}'", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise malformed(f"Invalid string literal '{literal}'. Illegal character sequence '\\{nxt}' in "
                                f"string literal.")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


# ---- AST -----------------------------------------------------------------------------------------------------------
@dataclass
class DateRange:
    """A relative date literal resolved to [start, end) as dates."""

    start: date
    end: date


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime, daterange
    value: Any


@dataclass
class Condition:
    path: str
    op: str
    value: Literal | list[Literal] | Query


@dataclass
class BoolOp:
    op: str  # AND, OR
    items: list[Any]


@dataclass
class Not:
    item: Any


@dataclass
class OrderItem:
    path: str
    descending: bool = False
    nulls_first: bool | None = None


@dataclass
class Query:
    sobject: str
    fields: list[str] = field(default_factory=list)
    subqueries: list[Query] = field(default_factory=list)
    select_order: list[Any] = field(default_factory=list)  # str paths and Query children in written order
    count_only: bool = False
    where: Any = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    group_by: list[str] = field(default_factory=list)

    @property
    def aggregates(self) -> list[Aggregate]:
        """The aggregate functions in the select list."""
        return [item for item in self.select_order if isinstance(item, Aggregate)]


@dataclass
class Aggregate:
    """``COUNT(Id)``, ``SUM(Amount)``… with its alias (``expr0``, ``expr1``… when none is given)."""

    function: str
    path: str
    alias: str = ""


AGGREGATES = {"COUNT", "COUNT_DISTINCT", "SUM", "MIN", "MAX", "AVG"}


class Parser:
    """Recursive-descent parser for one SOQL statement."""

    def __init__(self, text: str, today: date | None = None) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.today = today or datetime.now(UTC).date()

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.upper in words

    def expect_keyword(self, word: str) -> Token:
        token = self.next()
        if token.kind != "name" or token.upper != word:
            raise self.error(token, f"expecting '{word}'")
        return token

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.text != text:
            raise self.error(token, f"expecting '{text}'")
        return token

    def error(self, token: Token, what: str) -> ApiError:
        shown = token.text or "<EOF>"
        if what == "unexpected token":
            return malformed(f"unexpected token: '{shown}'", token.pos)
        return malformed(f"{what}, found '{shown}'", token.pos)

    def parse(self) -> Query:
        query = self.query()
        if self.peek().kind != "eof":
            raise self.error(self.peek(), "unexpected token")
        return query

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        select: list[Any] = []
        count_only = False
        if self.at_keyword("COUNT") and self.peek(1).text == "(" and self.peek(2).text == ")":
            self.next()
            self.expect("(")
            self.expect(")")
            count_only = True
        else:
            while True:
                if self.peek().text == "(":
                    self.next()
                    select.append(self.query())
                    self.expect(")")
                else:
                    token = self.next()
                    if token.kind != "name" or token.upper in KEYWORDS - {"COUNT"}:
                        raise self.error(token, "unexpected token")
                    if self.peek().text == "(" and token.upper == "FIELDS":
                        select.append(self.fields_function())
                    elif self.peek().text == "(" and token.upper in AGGREGATES:
                        select.append(self.aggregate(token.upper))
                    elif self.peek().text == "(":
                        raise self.error(self.peek(), f"function {token.text}() is not supported by this emulator")
                    else:
                        select.append(token.text)
                if self.peek().text != ",":
                    break
                self.next()
        self.expect_keyword("FROM")
        source = self.next()
        if source.kind != "name" or "." in source.text:
            raise self.error(source, "expecting an object name")
        query = Query(sobject=source.text, count_only=count_only, select_order=select,
                      fields=[s for s in select if isinstance(s, str)],
                      subqueries=[s for s in select if isinstance(s, Query)])
        if self.at_keyword("WHERE"):
            self.next()
            query.where = self.or_expr()
        if self.at_keyword("GROUP"):
            self.next()
            self.expect_keyword("BY")
            while True:
                token = self.next()
                if token.kind != "name" or token.upper in KEYWORDS:
                    raise self.error(token, "expecting a field name")
                query.group_by.append(token.text)
                if self.peek().text != ",":
                    break
                self.next()
        unnamed = 0
        for item in query.aggregates:
            if not item.alias:
                item.alias = f"expr{unnamed}"
                unnamed += 1
        if self.at_keyword("ORDER"):
            self.next()
            self.expect_keyword("BY")
            while True:
                query.order_by.append(self.order_item())
                if self.peek().text != ",":
                    break
                self.next()
        if self.at_keyword("LIMIT"):
            self.next()
            query.limit = self.integer()
        if self.at_keyword("OFFSET"):
            self.next()
            query.offset = self.integer()
        return query

    def aggregate(self, function: str) -> Aggregate:
        """``SUM(Amount) total`` after the function name."""
        self.expect("(")
        token = self.next()
        if token.kind != "name" or token.upper in KEYWORDS:
            raise self.error(token, f"{function}() needs a field name")
        self.expect(")")
        alias = ""
        if self.peek().kind == "name" and self.peek().upper not in KEYWORDS:
            alias = self.next().text
        return Aggregate(function, token.text, alias)

    def fields_function(self) -> str:
        """``FIELDS(ALL|STANDARD|CUSTOM)`` after its name: kept as a marker the engine expands per object."""
        self.expect("(")
        which = self.next()
        if which.upper not in ("ALL", "STANDARD", "CUSTOM"):
            raise self.error(which, "FIELDS() takes ALL, STANDARD or CUSTOM")
        self.expect(")")
        return f"FIELDS({which.upper})"

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise self.error(token, "expecting a non-negative integer")
        return int(token.text)

    def order_item(self) -> OrderItem:
        token = self.next()
        if token.kind != "name" or token.upper in KEYWORDS:
            raise self.error(token, "expecting a field name")
        item = OrderItem(token.text)
        if self.at_keyword("ASC", "DESC"):
            item.descending = self.next().upper == "DESC"
        if self.at_keyword("NULLS"):
            self.next()
            which = self.next()
            if which.upper not in ("FIRST", "LAST"):
                raise self.error(which, "expecting FIRST or LAST")
            item.nulls_first = which.upper == "FIRST"
        return item

    def or_expr(self) -> Any:
        items = [self.and_expr()]
        while self.at_keyword("OR"):
            self.next()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("OR", items)

    def and_expr(self) -> Any:
        items = [self.not_expr()]
        while self.at_keyword("AND"):
            self.next()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("AND", items)

    def not_expr(self) -> Any:
        if self.at_keyword("NOT"):
            self.next()
            return Not(self.not_expr())
        if self.peek().text == "(":
            self.next()
            inner = self.or_expr()
            self.expect(")")
            return inner
        return self.condition()

    def condition(self) -> Condition:
        token = self.next()
        if token.kind != "name" or token.upper in KEYWORDS:
            raise self.error(token, "expecting a field name")
        if self.at_keyword("NOT") and self.peek(1).kind == "name" and self.peek(1).upper == "IN":
            self.next()
            self.next()
            return Condition(token.text, "NOT IN", self.value_list())
        if self.at_keyword("IN"):
            self.next()
            return Condition(token.text, "IN", self.value_list())
        if self.at_keyword("LIKE"):
            self.next()
            value = self.value()
            if value.kind != "string":
                raise malformed(f"LIKE on {token.text} needs a string in quotes", token.pos)
            return Condition(token.text, "LIKE", value)
        op = self.next()
        if op.kind != "op":
            raise self.error(op, "expecting a comparison operator")
        return Condition(token.text, "!=" if op.text == "<>" else op.text, self.value())

    def value_list(self) -> list[Literal] | Query:
        self.expect("(")
        if self.at_keyword("SELECT"):
            start = self.peek()
            inner = self.query()  # a semi-join: (SELECT AccountId FROM Opportunity WHERE …)
            self.expect(")")
            if len(inner.select_order) != 1 or not isinstance(inner.select_order[0], str) or inner.count_only \
                    or inner.select_order[0].startswith("FIELDS("):
                raise self.error(start, "a semi-join subquery selects exactly one Id or reference field")
            return inner
        values = [self.value()]
        while self.peek().text == ",":
            self.next()
            values.append(self.value())
        self.expect(")")
        return values

    def value(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            return Literal("string", _unescape(token.text))
        if token.kind == "number":
            return Literal("number", float(token.text) if "." in token.text else int(token.text))
        if token.kind == "date":
            try:
                return Literal("date", date.fromisoformat(token.text).isoformat())
            except ValueError:
                raise malformed(f"invalid date: {token.text}", token.pos) from None
        if token.kind == "datetime":
            try:
                return Literal("datetime", format_datetime(parse_datetime(token.text)))
            except ValueError:
                raise malformed(f"invalid dateTime: {token.text}", token.pos) from None
        if token.kind == "name":
            word = token.upper
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE")
            if word == "NULL":
                return Literal("null", None)
            if word in _DATE_LITERALS:
                return Literal("daterange", self.date_literal(word, token))
        raise self.error(token, "expecting a value")

    def date_literal(self, word: str, token: Token) -> DateRange:
        unit, takes_n = _DATE_LITERALS[word]
        n = 0
        if takes_n:
            self.expect(":")
            n = self.integer()
        elif self.peek().text == ":":
            raise self.error(self.peek(), f"{word} takes no :n")
        today = self.today
        day = timedelta(days=1)
        if word == "TODAY":
            return DateRange(today, today + day)
        if word == "YESTERDAY":
            return DateRange(today - day, today)
        if word == "TOMORROW":
            return DateRange(today + day, today + 2 * day)
        if word == "LAST_N_DAYS":
            return DateRange(today - n * day, today + day)
        if word == "NEXT_N_DAYS":
            return DateRange(today + day, today + (n + 1) * day)
        first = today.replace(day=1)
        if word == "THIS_MONTH":
            return DateRange(first, (first + 32 * day).replace(day=1))
        if word == "LAST_MONTH":
            return DateRange((first - day).replace(day=1), first)
        del unit
        return DateRange(today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1, day=1))


def parse(text: str, today: date | None = None) -> Query:
    """Parse one SOQL statement."""
    if not text or not text.strip():
        raise malformed("query is empty")
    return Parser(text, today).parse()


# ---- evaluation ----------------------------------------------------------------------------------------------------
class Engine:
    """Runs parsed queries against a :class:`~qbsf.sim.salesforce.state.SalesforceState`."""

    def __init__(self, state: Any, version: str) -> None:
        self.state = state
        self.schema: Schema = state.schema
        self.version = version

    def object(self, name: str) -> ObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise located(ApiError(400, "INVALID_TYPE",
                                   f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                                   f"object, be sure to append the '__c' after the entity name.{_WSDL_HINT}"), name)
        return obj

    def resolve(self, obj: ObjectDef, path: str) -> tuple[list[tuple[ObjectDef, FieldDef]], FieldDef]:
        """Walk ``Account.Owner.Name`` to the final field, checking every hop (INVALID_FIELD otherwise)."""
        parts = path.split(".")
        if len(parts) > 1 and parts[0].lower() == obj.name.lower():
            parts = parts[1:]  # "Account.Name" from Account is allowed
        hops: list[tuple[ObjectDef, FieldDef]] = []
        current = obj
        for part in parts[:-1]:
            reference = current.parent_field(part)
            if reference is None or not reference.referenceTo:
                raise located(ApiError(400, "INVALID_FIELD",
                                       f"Didn't understand relationship '{part}' in field path. If you are "
                                       f"attempting to use a custom relationship, be sure to append the '__r' after "
                                       f"the custom relationship name.{_WSDL_HINT}"), path)
            parent = self.schema.get(reference.referenceTo[0])
            if parent is None:
                raise ApiError(400, "INVALID_FIELD", f"relationship '{part}' points at an object not emulated")
            hops.append((current, reference))
            current = parent
        final = current.field(parts[-1])
        if final is None:
            raise located(ApiError(400, "INVALID_FIELD", f"No such column '{parts[-1]}' on entity '{current.name}'. "
                                   f"If you are attempting to use a custom field, be sure to append the '__c' after "
                                   f"the custom field name.{_WSDL_HINT}"), path)
        return hops, final

    def value_at(self, record: dict[str, Any] | None, hops: list[tuple[ObjectDef, FieldDef]],
                 final: FieldDef) -> Any:
        for _obj, reference in hops:
            if record is None:
                return None
            parent_id = record.get(reference.name)
            parent_obj = self.schema.get(reference.referenceTo[0])
            record = self.state.raw(parent_obj.name, parent_id) if parent_id and parent_obj else None
        return None if record is None else record.get(final.name)

    # -- WHERE --
    def compile_where(self, obj: ObjectDef, node: Any) -> Any:
        """Check every field and literal type once; returns a predicate ``record -> bool``."""
        if node is None:
            return lambda record: True
        if isinstance(node, BoolOp):
            parts = [self.compile_where(obj, item) for item in node.items]
            if node.op == "AND":
                return lambda record: all(p(record) for p in parts)
            return lambda record: any(p(record) for p in parts)
        if isinstance(node, Not):
            inner = self.compile_where(obj, node.item)
            return lambda record: not inner(record)
        hops, final = self.resolve(obj, node.path)
        if isinstance(node.value, Query):
            return self.compile_semi_join(obj, node, hops, final)
        values = node.value if isinstance(node.value, list) else [node.value]
        for literal in values:
            try:
                self.check_literal(final, literal, node.op)
            except ApiError as exc:
                raise located(exc, node.path) from None
        compare = _comparator(final, node.op, values if isinstance(node.value, list) else node.value)
        return lambda record: compare(self.value_at(record, hops, final))

    def candidates(self, obj: ObjectDef, where: Any, *, include_deleted: bool = False) -> Any:
        """The records the WHERE clause can match, in table order: every record, or, when the clause is (or is
        ANDed with) ``Id``/reference/external-id ``=`` or ``IN`` literals, only those an index returns for them.

        A superset: the caller still applies the full predicate, so results are the same as scanning.
        """
        table = self.state.table(obj.name)
        conditions = where.items if isinstance(where, BoolOp) and where.op == "AND" else [where]
        best: list[str] | None = None
        for condition in conditions:
            if not isinstance(condition, Condition) or condition.op not in ("=", "IN") \
                    or isinstance(condition.value, Query):
                continue
            ids = self._indexed_ids(obj, condition, include_deleted)
            if ids is not None and (best is None or len(ids) < len(best)):
                best = ids
        if best is None:
            return table.values()
        return [table[rid] for rid in best if rid in table]

    def _indexed_ids(self, obj: ObjectDef, condition: Condition, include_deleted: bool) -> list[str] | None:
        """Ids an index gives for one ``field = literal`` / ``field IN (literals)`` on this object, or None."""
        literals = condition.value if isinstance(condition.value, list) else [condition.value]
        if any(not isinstance(lit, Literal) or lit.kind != "string" for lit in literals):
            return None  # nulls, numbers and dates: leave to the scan (and its type checks)
        hops, definition = self.resolve(obj, condition.path)
        if hops:
            # Account.QB_Customer_ID__c = 'x' from Contact: the parents an index finds, then their children.
            # Live children never point at a deleted parent (deletes cascade, clear or fail), so live parents do.
            _, reference = hops[0]
            parent_obj = self.schema.get(reference.referenceTo[0])
            parent_path = ".".join([*(r.relationshipName or r.name for _, r in hops[1:]), definition.name])
            parents = self._indexed_ids(parent_obj, Condition(parent_path, condition.op, condition.value), False)
            if parents is None:
                return None
            return self.state.ids_matching(obj.name, reference.name, {rid.lower() for rid in parents},
                                           include_deleted=include_deleted)
        if definition.type in ("id", "reference"):
            folded = {_fold_id(lit.value) for lit in literals}
            return self.state.ids_matching(obj.name, definition.name, folded, include_deleted=include_deleted)
        if definition.type in TEXT_TYPES and not definition.caseSensitive and not include_deleted \
                and definition.type != "multipicklist" and (definition.externalId or definition.unique):
            # The unique index keys case-insensitive text by its lower case, as SOQL compares it.
            return self.state.ids_by_unique_value(obj.name, definition.name, {lit.value.lower() for lit in literals})
        return None

    def compile_semi_join(self, obj: ObjectDef, node: Condition, hops: list[tuple[ObjectDef, FieldDef]],
                          final: FieldDef) -> Any:
        """``field [NOT] IN (SELECT ref FROM …)``: both sides must be ids; the subquery runs once per query."""
        inner = node.value
        assert isinstance(inner, Query)
        inner_obj = self.object(inner.sobject)
        inner_hops, inner_final = self.resolve(inner_obj, inner.select_order[0])
        if final.type not in ("id", "reference") or inner_final.type not in ("id", "reference"):
            raise ApiError(400, "INVALID_FIELD", "Semi-join subqueries compare Id or reference fields only: "
                           f"{node.path} IN (SELECT {inner.select_order[0]} …)")
        if inner.subqueries:
            raise malformed("a semi-join subquery cannot have its own child subqueries")
        predicate = self.compile_where(inner_obj, inner.where)
        ids = {self.value_at(r, inner_hops, inner_final) for r in self.candidates(inner_obj, inner.where)
               if not r.get("IsDeleted") and predicate(r)}
        ids.discard(None)
        negate = node.op == "NOT IN"
        return lambda record: (self.value_at(record, hops, final) in ids) != negate

    def check_literal(self, definition: FieldDef, literal: Literal, op: str) -> None:
        kind = definition.type
        if literal.kind == "null":
            if op not in ("=", "!=", "IN", "NOT IN"):
                raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on null for "
                               f"{definition.name}")
            return
        expected = ("string" if kind in TEXT_TYPES or kind in ("id", "reference") else
                    "number" if kind in NUMBER_TYPES else kind)
        got = "date" if literal.kind == "daterange" and kind == "date" else literal.kind
        if literal.kind == "daterange" and kind == "datetime":
            got = "datetime"
        if expected != got:
            quoted = "and should be enclosed in quotes" if expected == "string" else "and should not be enclosed " \
                                                                                     "in quotes"
            raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR",
                           f"value of filter criterion for field '{definition.name}' must be of type {kind} "
                           f"{quoted}")
        if op == "LIKE" and expected != "string":
            raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field '{definition.name}'")

    # -- execution --
    def run(self, query: Query, *, include_deleted: bool = False) -> dict[str, Any]:
        """Execute ``query``: ``{"totalSize", "done", "records"}`` with every record shaped as the REST API does."""
        obj = self.object(query.sobject)
        predicate = self.compile_where(obj, query.where)
        rows = [r for r in self.candidates(obj, query.where, include_deleted=include_deleted)
                if (include_deleted or not r.get("IsDeleted")) and predicate(r)]
        if query.aggregates or query.group_by:
            return self.aggregate(obj, query, rows)  # sorting and paging apply to the groups
        wanted = None if query.limit is None else (query.offset or 0) + query.limit
        if query.order_by and wanted is not None and wanted * 4 < len(rows):
            rows = self.top(obj, rows, query.order_by, wanted)  # ORDER BY … LIMIT n: keep n, sort n
        else:
            rows = self.sort(obj, rows, query.order_by)
        if query.offset:
            if query.offset > 2000:
                raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
            rows = rows[query.offset:]
        if query.limit is not None:
            rows = rows[:query.limit]
        if query.count_only:
            return {"totalSize": len(rows), "done": True, "records": []}
        shaper = self.shaper(obj, query)
        return {"totalSize": len(rows), "done": True, "records": [shaper(r) for r in rows]}

    def aggregate(self, obj: ObjectDef, query: Query, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """GROUP BY and aggregate functions: one ``AggregateResult`` per group (one in all without GROUP BY)."""
        grouped = [self.resolve(obj, path) for path in query.group_by]
        grouped_names = {path.lower() for path in query.group_by}
        for item in query.select_order:
            if isinstance(item, str) and item.lower() not in grouped_names:
                raise malformed(f"field '{item}' can not be selected: it is neither grouped nor aggregated")
            if isinstance(item, Query):
                raise malformed("child subqueries cannot be combined with aggregate functions")
        measures = []
        for item in query.aggregates:
            hops, final = self.resolve(obj, item.path)
            if item.function in ("SUM", "AVG") and final.type not in NUMBER_TYPES:
                raise ApiError(400, "INVALID_FIELD", f"field {item.path} does not support aggregate operator "
                                                     f"{item.function}")
            measures.append((item, hops, final))
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            key = tuple(self.value_at(row, h, f) for h, f in grouped)
            groups.setdefault(key, []).append(row)
        if not query.group_by and not groups:
            groups[()] = []
        results = []
        for key, members in groups.items():
            out: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for (_, final), value in zip(grouped, key, strict=True):
                out[final.name] = value
            for item, hops, final in measures:
                values = [self.value_at(r, hops, final) for r in members]
                present = [v for v in values if v is not None]
                if item.function == "COUNT":
                    out[item.alias] = len(present)
                elif item.function == "COUNT_DISTINCT":
                    out[item.alias] = len({v.lower() if isinstance(v, str) else v for v in present})
                elif item.function == "SUM":
                    out[item.alias] = sum(present) if present else None
                elif item.function == "AVG":
                    out[item.alias] = sum(present) / len(present) if present else None
                else:
                    pick = min if item.function == "MIN" else max
                    out[item.alias] = pick(present, key=_sort_key) if present else None
            results.append(out)
        for order in reversed(query.order_by):
            name = self.resolve(obj, order.path)[1].name if order.path.lower() in grouped_names else order.path
            present = [r for r in results if r.get(name) is not None]
            absent = [r for r in results if r.get(name) is None]
            present.sort(key=lambda r, n=name: _sort_key(r[n]), reverse=order.descending)
            nulls_first = order.nulls_first if order.nulls_first is not None else not order.descending
            results = absent + present if nulls_first else present + absent
        if query.offset:
            results = results[query.offset:]
        if query.limit is not None:
            results = results[:query.limit]
        return {"totalSize": len(results), "done": True, "records": results}

    def sort(self, obj: ObjectDef, rows: list[dict[str, Any]], order: list[OrderItem]) -> list[dict[str, Any]]:
        for item in reversed(order):
            hops, final = self.resolve(obj, item.path)
            nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
            # Each row's value is read once per ORDER BY item (parent hops make value_at a walk).
            pairs = [(self.value_at(r, hops, final), r) for r in rows] if hops else [
                (r.get(final.name), r) for r in rows]
            present = [(_sort_key(value), r) for value, r in pairs if value is not None]
            absent = [r for value, r in pairs if value is None]
            present.sort(key=_first, reverse=item.descending)  # stable, as the per-item passes need
            rows = absent + [r for _, r in present] if nulls_first else [r for _, r in present] + absent
        return rows

    def top(self, obj: ObjectDef, rows: list[dict[str, Any]], order: list[OrderItem], count: int
            ) -> list[dict[str, Any]]:
        """The first ``count`` rows :meth:`sort` would give, without sorting them all (heapq keeps ties stable)."""
        plan = []
        for item in order:
            hops, final = self.resolve(obj, item.path)
            nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
            plan.append((hops, final, 0 if nulls_first else 2, item.descending))

        def key(row: dict[str, Any]) -> tuple[Any, ...]:
            parts: list[Any] = []
            for hops, final, null_rank, descending in plan:
                value = self.value_at(row, hops, final) if hops else row.get(final.name)
                if value is None:
                    parts += (null_rank, None)
                else:
                    parts += (1, _Descending(_sort_key(value)) if descending else _sort_key(value))
            return tuple(parts)

        return heapq.nsmallest(count, rows, key=key)

    def attributes(self, obj: ObjectDef, record_id: str) -> dict[str, str]:
        return {"type": obj.name, "url": f"/services/data/v{self.version}/sobjects/{obj.name}/{record_id}"}

    @staticmethod
    def expand_fields(obj: ObjectDef, query: Query) -> list[Any]:
        """The select list with ``FIELDS(ALL|STANDARD|CUSTOM)`` replaced by field names (LIMIT 200 rule enforced)."""
        expanded: list[Any] = []
        for item in query.select_order:
            if isinstance(item, str) and item.startswith("FIELDS("):
                which = item[7:-1]
                if which != "STANDARD" and (query.limit is None or query.limit > 200):
                    raise malformed(f"The SOQL FIELDS function must have a LIMIT of at most 200 for {item}")
                expanded += [f.name for f in obj.fields.values()
                             if which == "ALL" or (which == "CUSTOM") == f.custom]
            else:
                expanded.append(item)
        return expanded

    def shaper(self, obj: ObjectDef, query: Query) -> Any:
        """A function turning a stored record into the query's output shape (parents nested, children embedded)."""
        plan: list[tuple[str, Any]] = []
        for item in self.expand_fields(obj, query):
            if isinstance(item, Query):
                relation = obj.child_relationship(item.sobject)
                if relation is None:
                    raise ApiError(400, "INVALID_TYPE",
                                   f"Didn't understand relationship '{item.sobject}' in FROM part of query call. If "
                                   f"you are attempting to use a custom relationship, be sure to append the '__r' "
                                   f"after the custom relationship name.")
                child_obj = self.object(relation.childSObject)
                child_query = Query(sobject=child_obj.name, fields=item.fields, select_order=item.select_order,
                                    where=item.where, order_by=item.order_by, limit=item.limit,
                                    subqueries=item.subqueries)
                if item.subqueries:
                    raise malformed("nested child subqueries are not supported")
                plan.append(("child", (relation, child_obj, child_query, self.compile_where(child_obj, item.where),
                                       self.shaper(child_obj, child_query))))
            else:
                hops, final = self.resolve(obj, item)
                plan.append(("field", (item, hops, final)))

        def shape(record: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"attributes": self.attributes(obj, record["Id"])}
            for kind, spec in plan:
                if kind == "field":
                    self._place(out, record, *spec)
                else:
                    relation, child_obj, child_query, predicate, child_shape = spec
                    children = self.state.children_of(child_obj.name, relation.field, record["Id"])
                    if children is None:  # a relationship field the state does not index
                        children = [c for c in self.state.table(child_obj.name).values()
                                    if c.get(relation.field) == record["Id"] and not c.get("IsDeleted")]
                    children = [c for c in children if predicate(c)]
                    children = self.sort(child_obj, children, child_query.order_by)
                    if child_query.limit is not None:
                        children = children[:child_query.limit]
                    out[relation.relationshipName] = ({"totalSize": len(children), "done": True,
                                                       "records": [child_shape(c) for c in children]}
                                                      if children else None)
            return out

        return shape

    def _place(self, out: dict[str, Any], record: dict[str, Any], path: str,
               hops: list[tuple[ObjectDef, FieldDef]], final: FieldDef) -> None:
        """Put one selected field into ``out``, nesting parent fields as ``{"attributes", field}`` dicts."""
        target = out
        current: dict[str, Any] | None = record
        for _owner, reference in hops:
            parent_obj = self.schema.get(reference.referenceTo[0])
            parent_id = current.get(reference.name) if current else None
            parent = self.state.raw(parent_obj.name, parent_id) if parent_id else None
            key = reference.relationshipName or reference.name
            if parent is None:
                if key not in target:
                    target[key] = None
                return
            nested = target.get(key)
            if nested is None:
                nested = {"attributes": self.attributes(parent_obj, parent["Id"])}
                target[key] = nested
            target = nested
            current = parent
        target[final.name] = current.get(final.name) if current else None


def _fold_id(value: str) -> str:
    """An id literal as SOQL compares it: 15-char ids widened to 18, then case-folded."""
    if len(value) == 15:
        from qbsf.sim.salesforce.ids import to18

        value = to18(value) or value
    return value.lower()


class _Descending:
    """A sort key in reverse order (strings cannot be negated)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    __hash__ = None  # type: ignore[assignment]


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _sort_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _comparator(definition: FieldDef, op: str, value: Any) -> Any:
    """``stored value -> bool`` for one condition; text compares case-insensitively, as SOQL does."""
    fold = definition.type in TEXT_TYPES or definition.type in ("id", "reference")

    def norm(v: Any) -> Any:
        if v is None:
            return None
        if definition.type in ("id", "reference") and isinstance(v, str) and len(v) == 15:
            from qbsf.sim.salesforce.ids import to18

            v = to18(v) or v
        return v.lower() if fold and isinstance(v, str) else v

    if op in ("IN", "NOT IN"):
        wanted = {norm(lit.value) for lit in value}
        if definition.type == "multipicklist":
            def member(v: Any) -> bool:
                return v is not None and bool({p.lower() for p in v.split(";")} & wanted)
        else:
            def member(v: Any) -> bool:
                return norm(v) in wanted
        return member if op == "IN" else (lambda v: not member(v))
    if op == "LIKE":
        regex = _like(value.value)
        return lambda v: v is not None and regex.fullmatch(v) is not None
    literal: Literal = value
    if literal.kind == "daterange":
        rng: DateRange = literal.value
        if definition.type == "datetime":
            start = format_datetime(datetime.combine(rng.start, datetime.min.time(), UTC))
            end = format_datetime(datetime.combine(rng.end, datetime.min.time(), UTC))
        else:
            start, end = rng.start.isoformat(), rng.end.isoformat()
        tests = {"=": lambda v: start <= v < end, "!=": lambda v: not (start <= v < end),
                 "<": lambda v: v < start, "<=": lambda v: v < end, ">": lambda v: v >= end,
                 ">=": lambda v: v >= start}
        check = tests[op]
        return lambda v: v is not None and check(v)
    target = norm(literal.value)
    if op == "=":
        return lambda v: norm(v) == target
    if op == "!=":
        return lambda v: norm(v) != target
    if target is None:
        return lambda v: False
    ops = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
    compare = ops[op]
    return lambda v: v is not None and compare(norm(v), target)
