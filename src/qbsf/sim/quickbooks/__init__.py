"""A QuickBooks Desktop simulator that answers qbXML as QuickBooks does, for tests, benchmarks and the demo.

Usage::

    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator()                       # in memory; QuickBooksSimulator(path) keeps a SQLite file
    response_xml = sim.process(request_xml)           # also sim.send(...): the simulator is itself a transport
    sim.add("Customer", {"Name": "Acme"})             # direct API: same rules, no qbXML
    sim.customers(), sim.invoices(), sim.count("Item"), sim.get(list_or_txn_id)
    sim.modify(list_or_txn_id, {...}); sim.delete(list_or_txn_id)   # a user's edit in QuickBooks
    sim.advance(seconds); sim.set_clock(datetime)     # time for TimeModified and due dates
    sim.fail_next(status_code=3180, times=1, request_type="CustomerAdd"); sim.set_fault_rate(0.1, seed=1)
    sim.stats.messages, sim.stats.requests, sim.stats.requests_by_type

What it models (each checked against Intuit's 13.0/16.0 schema in tests/sim/quickbooks):

- Requests: HostQuery, CompanyQuery, PreferencesQuery; Customer/Vendor/OtherName/Employee/Account Add, Mod, Query;
  StandardTerms and DateDrivenTerms Add/Query, TermsQuery; ItemService/ItemNonInventory/ItemInventory
  Add/Mod/Query and ItemQuery; Invoice Add/Mod/Query; ReceivePayment Add/Query; ListDel, TxnDel,
  ListDeletedQuery, TxnDeletedQuery. Any other valid request is answered 3250 naming what is not modelled.
- A new company has a chart of accounts (Checking, Accounts Receivable, Undeposited Funds, Inventory Asset,
  Accounts Payable, Sales, Services, Cost of Goods Sold, Office Supplies), terms (Net 30, Net 15, Due on
  receipt), sales tax codes (Tax, Non) and payment methods (Cash, Check, Visa).
- Status codes and QuickBooks' messages: 0 OK; 1 no match (Info); 500 some ListID/TxnID/FullName not found
  (Warn, with the ones found); 530 an element or filter the simulator does not apply (Warn, record still saved);
  531 unknown DateMacro; 1000 internal error in one request; 3000 unknown or finished iteratorID; 3020 bad
  number/date; 3070 string too long; 3090 colon in a Name, too many sublevels, own parent; 3100 name in use
  (Customer, Vendor, Employee, Other Name share one namespace; case-insensitive, by FullName); 3120 ListID/TxnID
  or TxnLineID not found on Mod/Del; 3140 invalid reference; 3150 missing element (an item's accounts, Name,
  CustomerRef); 3170 delete of an element in use; 3200 stale EditSequence; 3210 payment larger than the balance;
  3170/3175/3180 on demand through ``fail_next``/``set_fault_rate``.
- A malformed document, a missing ``<?qbxml version?>``, an unsupported version or an unknown request element
  raises :class:`QbxmlParseError` (``hresult`` 0x80040400), as the COM request processor fails the whole call.
- ``onError="stopOnError"``: requests after the first Error are neither run nor answered (earlier ones stay
  saved); ``continueOnError`` answers every request; ``rollbackOnError``, which Intuit documents as not valid for
  QuickBooks Desktop, fails the whole message. Each request runs in its own savepoint.
  ``responseData="includeNone"`` returns statuses without records.
- Invoices price lines from their items, take terms and addresses from the customer, compute Subtotal,
  BalanceRemaining, IsPaid and DueDate, and move inventory QuantityOnHand; payments update the invoices they pay
  (balance, LinkedTxn, TimeModified, EditSequence). Not modelled: sales tax, discounts, multi-currency, classes,
  DataExt, error-recovery message sets (newMessageSetID), transactions other than invoices and payments.
- Iterators (``iterator="Start"``/``"Continue"``, ``iteratorRemainingCount``) live in the simulator object only.
"""

from qbsf.sim.quickbooks.simulator import QbxmlParseError, QuickBooksSimulator, SimulatorError, SimulatorStats

__all__ = ["QbxmlParseError", "QuickBooksSimulator", "SimulatorError", "SimulatorStats"]
