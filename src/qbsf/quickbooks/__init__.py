"""QuickBooks Desktop over qbXML.

Follow a record: ``entities`` (each QuickBooks entity as data: id kind, record class, lines, tags by convention) →
``records`` (typed Customer/Vendor/Item*/Invoice/SalesOrder/Estimate/CreditMemo/SalesReceipt/ReceivePayment/Bill/
Account/Terms and the flat field view the mapping engine uses) → ``client.QuickBooksClient`` (batched Add/Mod, one
``query`` by entity, 3200 re-read, iterators) → ``bodies`` (what goes in each request) → ``messages`` (lxml in
the schema order of ``schema``; lenient parsing) → a transport in ``transports`` (simulator, Windows COM, Web
Connector). ``limits`` checks QuickBooks' field lengths and Latin-1 first; ``errors`` turns every status code into
a typed error the sync engine knows what to do with.
"""
