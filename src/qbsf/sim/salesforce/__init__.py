"""A Salesforce REST emulator: OAuth, sObjects, SOQL, collections and composite, faithful enough for real clients.

    state = SalesforceState()                      # in memory; SalesforceState(path=...) for SQLite
    server = serve_in_thread(create_app(state), ssl=True)
    ... server.url, server.ca_path, state.api_calls ...
    server.stop()

Real clients drive it unchanged in the test suite: simple-salesforce, jsforce and the Salesforce CLI (``sf``), the
last two pinned in tests/node. What they rely on, and where each behaviour comes from:

- Repeated slashes (``//services/data/…``) are folded before routing: the CLI keeps the instance URL it was given
  with a trailing slash and appends ``/services/…``, which real orgs serve (forcedotcom/cli issue 361 shows both
  forms of instance URL in use). ``app.CollapseSlashes``.
- ``GET /services/data/vXX.X/`` lists ``identity``, the absolute identity-service URL of the caller (REST API
  Developer Guide, "Resources by Version"); jsforce's ``identity()`` follows it. ``rest.RestApi.resources``.
- ``GET query?q=…&columns=true`` answers the query's column metadata, in the shape the Salesforce CLI's own tests
  record (``sf data query`` lays out its table from it). ``columns``.
- ``Organization`` (key prefix 00D) holds the org's one read-only record (Object Reference, "Organization"); the CLI
  reads it after every login. ``standard_gen``, ``state``.
- The partner SOAP API's ``login()`` at ``/services/Soap/u/{version}`` (SOAP API Developer Guide, "login()",
  "LoginResult", "LoginFault"), refused from API 65.0 on as the login() retirement notes announce. ``soap``.
- ``composite/tree/{object}`` creates records with their children in one transaction, results level by level, all
  or nothing (REST API Developer Guide, "sObject Tree"). ``tree``.
- ``/services/apexrest/…``: the Apex REST resources the package's classes declare (``@RestResource``), each as its
  class behaves — ``/qbsf/cycle`` is ``QBSFCycleResource``, the connector's one call per cycle; a path no class maps
  is 404 ``NOT_FOUND`` "Could not find a match for URL" (Apex Developer Guide, "RestResource Annotation"; the body
  as clients report it). One API call each ("Introduction to Apex REST"). ``apexrest``.
- Bulk API 2.0 ingest jobs at ``jobs/ingest``: create, upload CSV, close, poll, successful / failed / unprocessed
  results as CSV, abort, delete (Bulk API 2.0 Developer Guide); processed at once when closed. ``bulk``.

Errors, each compared with Salesforce's documentation and responses recorded from real orgs:

- One external id twice in one upsert request (sObject Collections, Bulk API): every such record fails with
  ``DUPLICATE_VALUE`` "Duplicate external id specified: X"; ``DUPLICATE_EXTERNAL_ID`` is kept for an external id
  that several stored records hold (SOAP API StatusCode table). ``rest.RestApi.collections``, ``bulk``.
- A value of the wrong type is 400 ``JSON_PARSER_ERROR`` in the JSON parser's words, "Cannot deserialize instance
  of int from VALUE_STRING value many or request may be missing a required field at [line:1, column:42]", with no
  ``fields`` (recorded responses); a dateTime must be xsd:dateTime — a space instead of the ``T`` is such an error;
  malformed JSON is reported as "Unexpected character ('}' (code 125)): … at [line:L, column:C]". ``values``,
  ``app``.
- Updating or deleting a deleted record is 404 ``ENTITY_IS_DELETED`` "entity is deleted". ``state``.
- SOQL errors (``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE``, filter type errors) echo the query line
  with a caret and ``ERROR at Row:R:Column:C`` before the message, as recorded real answers do.
  ``soql.format_query_error``.

What still differs from a real org, and why (each also noted where it is emulated):

- A value of the wrong type inside an sObject Collections request fails that record alone; a real org probably
  rejects the whole request with one JSON_PARSER_ERROR, as the JSON is read before any record is saved. Kept per
  record until a recorded answer settles it.
- The exact column in ``at [line:L, column:C]`` is where the bad value ends (the parser's position after reading
  it); the recorded answers do not show which end Salesforce counts from.
- SOQL messages after the ``ERROR at Row:R:Column:C`` header are the emulator's parser's own words
  ("expecting 'BY', found '<EOF>'", "unexpected token: 'x'"); only INVALID_FIELD and INVALID_TYPE texts are
  copied from recorded answers.
- Bulk API 2.0 jobs are processed when closed and kept in memory only; ``hardDelete`` deletes as ``delete``. The
  Bulk API 1.0 (XML batches) and query jobs
  (``jobs/query``) are not emulated.
- The Tooling API is not emulated: the CLI's post-login ``SandboxProcess`` lookup gets a 404, which it tolerates.
- The SOAP API serves ``login()`` only; its answer for API 65.0 and later is a chosen fault, as the retirement notes
  do not show one.
- ``Organization`` is read-only through its fields, but the describe flags ``createable``/``deletable`` are the
  same for every object.
"""

from qbsf.sim.salesforce.app import create_app
from qbsf.sim.salesforce.harness import Emulator, start_emulator
from qbsf.sim.salesforce.server import RunningServer, serve_in_thread
from qbsf.sim.salesforce.settings import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorSettings
from qbsf.sim.salesforce.state import DEMO_PASSWORD, DEMO_USERNAME, SalesforceState
from qbsf.sim.salesforce.values import ApiError

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "DEMO_PASSWORD", "DEMO_USERNAME", "ApiError", "Emulator",
           "EmulatorSettings", "RunningServer", "SalesforceState", "create_app", "serve_in_thread", "start_emulator"]
