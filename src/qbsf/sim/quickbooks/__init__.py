"""A QuickBooks Desktop simulator that answers qbXML as QuickBooks does, for tests, benchmarks and the demo.

Usage::

    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator()                       # in memory; QuickBooksSimulator(path) keeps a SQLite file
    QuickBooksSimulator(utc_offset_hours=ZoneInfo("Europe/Berlin"), sales_tax=True)   # a DST zone; sales tax
    response_xml = sim.process(request_xml)           # also sim.send(...): the simulator is itself a transport
    sim.add("Customer", {"Name": "Acme"})             # direct API: same rules, no qbXML
    sim.customers(), sim.invoices(), sim.sales_receipts(), sim.count("Item"), sim.get(list_or_txn_id)
    sim.sales_orders(), sim.estimates(), sim.credit_memos(), sim.bills(), sim.payments(), sim.vendors()
    sim.modify(list_or_txn_id, {...}); sim.delete(list_or_txn_id)   # a user's edit in QuickBooks
    sim.advance(seconds); sim.set_clock(datetime)     # time for TimeModified and due dates
    sim.fail_next(status_code=3180, times=1, request_type="CustomerAdd"); sim.set_fault_rate(0.1, seed=1)
    sim.stats.messages, sim.stats.requests, sim.stats.requests_by_type

What it models (each checked against Intuit's 13.0/16.0 schema in tests/sim/quickbooks; "OSR" is Intuit's
qbXML On-Screen Reference, developer-static.intuit.com/qbSDK-current/Common/newOSR, and its appendix "status
codes in response messages", developer.intuit.com/app/developer/qbdesktop/docs/develop/exploring-the-quickbooks-
desktop-sdk/status-codes-in-response-messages):

- Requests: HostQuery, CompanyQuery, PreferencesQuery; Customer/Vendor/OtherName/Employee/Account Add, Mod, Query;
  StandardTerms and DateDrivenTerms Add/Query, TermsQuery; ItemService/ItemNonInventory/ItemInventory
  Add/Mod/Query, ItemSalesTax and ItemGroup Add/Mod/Query, and ItemQuery over all of them; Invoice Add/Mod/Query;
  SalesReceipt Add/Query; ReceivePayment Add/Mod/Query; SalesOrder, Estimate, CreditMemo and Bill Add/Mod/Query
  (rules in :mod:`qbsf.sim.quickbooks.documents`); ListDel, TxnDel, ListDeletedQuery, TxnDeletedQuery. The
  standard lists: SalesRep, Class (Add/Mod/Query), CustomerType, VendorType, JobType, ShipMethod, CustomerMsg,
  PaymentMethod (Add/Query), SalesTaxCode (Add/Mod/Query), Template (Query only: qbXML has no TemplateAdd). Any
  other valid request is answered 3250 naming what is not modelled.
- A new company has a chart of accounts (Checking, Accounts Receivable, Undeposited Funds, Inventory Asset,
  Accounts Payable, Sales, Services, Cost of Goods Sold, Office Supplies), terms (Net 30, Net 15, Due on
  receipt), sales tax codes (Tax, Non), payment methods (Cash, Check, American Express, Discover, MasterCard,
  Visa, Debit Card, E-Check), invoice/receipt templates, ship methods, customer messages, customer and vendor
  types, as QuickBooks' new-company interview fills them; no classes, sales reps or job types.
- References (CustomerRef, ItemRef, ClassRef, SalesRepRef, TemplateRef, ShipMethodRef, CustomerTypeRef,
  SalesTaxCodeRef, ItemSalesTaxRef, PaymentMethodRef, …) are resolved by ListID (which wins) or FullName and
  answered with both; one that names nothing is 3140 (OSR: "There is an invalid reference to QuickBooks
  <list> "<value>" in the <record>"), so a mapping typo fails as in production. A ParentRef that names nothing
  is 3130 "There is an invalid reference to a parent "<value>" in the <list> list." (OSR status codes; a
  real client, recorded in public code, matches that text on 3130).
- Status codes and QuickBooks' messages: 0 OK; 1 no match (Info); 500 some ListID/TxnID/FullName not found
  (Warn, with the ones found); 530 an element or filter the simulator does not apply (Warn, record still saved);
  531 unknown DateMacro; 1000 internal error in one request; 3000 unknown or finished iteratorID; 3020 bad
  number/date; 3070 string too long; 3090 colon in a Name, too many sublevels, own parent; 3100 name in use
  (Customer, Vendor, Employee, Other Name share one namespace; case-insensitive, by FullName); 3120 ListID/TxnID
  or TxnLineID not found on Mod/Del; 3130 missing parent; 3140 invalid reference; 3150 missing element (an
  item's accounts, Name, CustomerRef); 3170 delete of an element in use; 3200 stale EditSequence; 3210 payment
  larger than the balance; 3231 not processed (below); 3170/3175/3180 on demand (``fail_next``/``set_fault_rate``).
- Versions: every qbXML version of the US SDK, 1.0–8.0 and 10.0–16.0 (there is no 9.0), is accepted and the
  answer carries the version the request named (OSR HostQuery: SupportedQBXMLVersion lists them all). The
  answers have the 13.0/16.0 shape; the tests check an older version's answer against the 13.0 schema (and
  14.0/15.0 against 16.0): each version only adds elements, so this checks every element QuickBooks would
  refuse, but not one an older version lacks (the simulator does not drop those). The ``<?qbxml version?>``
  instruction is found anywhere in the prolog, after comments and blank lines.
- A malformed document, a missing ``<?qbxml version?>``, an unknown version or request element raises
  :class:`QbxmlParseError` (``hresult`` 0x80040400), as the COM request processor fails the whole call.
- ``onError="stopOnError"``: after the first Error every later request is answered 3231 "The request has not
  been processed." and not run (OSR status codes; earlier ones stay saved); ``continueOnError`` answers every
  request; ``rollbackOnError``, which Intuit documents as not valid for QuickBooks Desktop, fails the whole
  message. Each request runs in its own savepoint. ``responseData="includeNone"`` returns statuses only.
- Time stamps (the evidence is in :mod:`qbsf.quickbooks.timestamps`: quickbooks-sync pull requests 28 and 33,
  issue 19): TimeCreated/TimeModified/TimeDeleted are the company's local wall time with the zone's *base* UTC
  offset whatever daylight saving says (``utc_offset_hours`` may be an IANA ``ZoneInfo``: 10:00 PDT is written
  ``10:00:00-08:00``; in the repeated hour after a fall-back two moments carry the same stamp). FromModifiedDate
  and the other date filters without an offset are local wall time; a wall time that exists twice is read as
  its second (standard-time) moment (a choice: no source says which, and this one hides the first moment from a
  client that does not look before the repeated hour); with an offset the value is read on the base-offset
  clock and taken as local time, so a stamp sent back as received selects from that stamp on. Due dates and
  DateMacros use the local calendar.
- Invoices price lines from their items, take terms and addresses from the customer, compute Subtotal,
  SalesTaxTotal, BalanceRemaining, IsPaid and DueDate, and move inventory QuantityOnHand; payments update the
  invoices they pay (balance, LinkedTxn, TimeModified, EditSequence). Automatic RefNumbers continue the last
  number used on that kind of transaction, typed or automatic, keeping prefix and zero padding ("INV-0099" →
  "INV-0100"), as QuickBooks' forms do; a refused request uses no number.
- Item groups (OSR InvoiceAdd/InvoiceMod): InvoiceLineGroupAdd expands an ItemGroup's lines (times the group
  quantity) into an InvoiceLineGroupRet with its TotalAmount, standing where the request put it among the
  lines; an InvoiceMod that sends lines deletes every line and group it leaves out, keeps a group sent with its
  TxnLineID alone, adds one sent with TxnLineID -1 (a change inside a kept group is answered 530 and ignored).
- Sales tax (``QuickBooksSimulator(sales_tax=True)``; OSR PreferencesQuery SalesTaxPreferences, CustomerAdd,
  InvoiceAdd, SalesReceiptAdd): the company preference seeds a tax agency and the "State Tax" item (7.25 %);
  PreferencesRet then has SalesTaxPreferences. A new customer gets the Tax code and the default tax item; a
  new part gets Tax and a new service Non (QuickBooks' form defaults; qbXML has no preference for them). A line
  takes its item's code unless the request gives one; an invoice or sales receipt takes the customer's code and
  tax item; the tax is the tax item's rate on the lines with a taxable code, none for a customer whose code is
  not taxable. BalanceRemaining (invoice) and TotalAmount (sales receipt) include it. With the preference off
  nothing is taxed and SalesTaxPreferences is absent.
- Not modelled: discounts, sales tax groups, multi-currency, price levels, DataExt, bill payments, invoices
  linked to sales orders or estimates, credits applied to invoices, other transactions, changes inside an item
  group, error-recovery message sets (newMessageSetID).
- Iterators (``iterator="Start"``/``"Continue"``, ``iteratorRemainingCount``) live in the simulator object only.
"""

from qbsf.sim.quickbooks.simulator import QbxmlParseError, QuickBooksSimulator, SimulatorError, SimulatorStats

__all__ = ["QbxmlParseError", "QuickBooksSimulator", "SimulatorError", "SimulatorStats"]
