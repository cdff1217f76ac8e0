"""Accounts, terms and items: the seeded chart of accounts, AccountAdd, StandardTerms, item account rules."""

from __future__ import annotations

SERVICE = ('<ItemServiceAddRq requestID="{rid}"><ItemServiceAdd><Name>{name}</Name>{body}</ItemServiceAdd>'
           "</ItemServiceAddRq>")
INVENTORY = ('<ItemInventoryAddRq requestID="{rid}"><ItemInventoryAdd><Name>{name}</Name>{body}</ItemInventoryAdd>'
             "</ItemInventoryAddRq>")
INVENTORY_ACCOUNTS = ("<IncomeAccountRef><FullName>Sales</FullName></IncomeAccountRef>"
                      "<COGSAccountRef><FullName>Cost of Goods Sold</FullName></COGSAccountRef>"
                      "<AssetAccountRef><FullName>Inventory Asset</FullName></AssetAccountRef>")


def test_a_new_company_has_a_default_chart_of_accounts(qb, txt):
    response = qb.one("<AccountQueryRq/>")
    accounts = {txt(r, "FullName"): txt(r, "AccountType") for r in response}
    assert accounts["Sales"] == "Income"
    assert accounts["Cost of Goods Sold"] == "CostOfGoodsSold"
    assert accounts["Inventory Asset"] == "OtherCurrentAsset"
    assert accounts["Accounts Receivable"] == "AccountsReceivable"
    assert accounts["Undeposited Funds"] == "OtherCurrentAsset"
    assert "Expense" in accounts.values()
    specials = {txt(r, "FullName"): txt(r, "SpecialAccountType") for r in response}
    assert specials["Undeposited Funds"] == "UndepositedFunds"


def test_account_add_and_query_by_type(qb, txt):
    ret = qb.ok('<AccountAddRq><AccountAdd><Name>Consulting Income</Name><AccountType>Income</AccountType>'
                "<AccountNumber>4100</AccountNumber><Desc>Fees</Desc></AccountAdd></AccountAddRq>")
    assert (txt(ret, "AccountType"), txt(ret, "AccountNumber"), txt(ret, "Balance")) == ("Income", "4100", "0.00")
    sub = qb.ok('<AccountAddRq><AccountAdd><Name>Workshops</Name><ParentRef><FullName>Consulting Income</FullName>'
                "</ParentRef><AccountType>Income</AccountType></AccountAdd></AccountAddRq>")
    assert (txt(sub, "FullName"), txt(sub, "Sublevel")) == ("Consulting Income:Workshops", "1")
    income = qb.one("<AccountQueryRq><AccountType>Income</AccountType></AccountQueryRq>")
    assert [txt(r, "FullName") for r in income] == ["Consulting Income", "Consulting Income:Workshops", "Sales",
                                                   "Services"]
    duplicate = qb.one('<AccountAddRq><AccountAdd><Name>sales</Name><AccountType>Income</AccountType></AccountAdd>'
                       "</AccountAddRq>")
    assert duplicate.get("statusCode") == "3100"


def test_account_mod(qb, txt):
    (sales,) = qb.one("<AccountQueryRq><FullName>Sales</FullName></AccountQueryRq>")
    ret = qb.ok(f"<AccountModRq><AccountMod><ListID>{txt(sales, 'ListID')}</ListID><EditSequence>"
                f"{txt(sales, 'EditSequence')}</EditSequence><Name>Product Sales</Name></AccountMod></AccountModRq>")
    assert txt(ret, "FullName") == "Product Sales"


def test_standard_terms_seeded_added_and_queried(qb, txt):
    names = [txt(r, "Name") for r in qb.one("<StandardTermsQueryRq/>")]
    assert {"Net 30", "Net 15", "Due on receipt"} <= set(names)
    ret = qb.ok("<StandardTermsAddRq><StandardTermsAdd><Name>Net 45</Name><StdDueDays>45</StdDueDays>"
                "</StandardTermsAdd></StandardTermsAddRq>")
    assert txt(ret, "StdDueDays") == "45"
    qb.ok("<DateDrivenTermsAddRq><DateDrivenTermsAdd><Name>15th next month</Name><DayOfMonthDue>15</DayOfMonthDue>"
          "</DateDrivenTermsAdd></DateDrivenTermsAddRq>")
    every = qb.one("<TermsQueryRq/>")
    assert {r.tag for r in every} == {"StandardTermsRet", "DateDrivenTermsRet"}
    (net15,) = qb.one("<StandardTermsQueryRq><FullName>Net 15</FullName></StandardTermsQueryRq>")
    assert txt(net15, "StdDueDays") == "15"


def test_service_item_needs_an_income_account(qb, txt):
    ret = qb.ok(SERVICE.format(rid="1", name="Consulting", body="<SalesOrPurchase><Desc>Hourly consulting</Desc>"
                               "<Price>150.00</Price><AccountRef><FullName>Services</FullName></AccountRef>"
                               "</SalesOrPurchase>"))
    assert txt(ret, "SalesOrPurchase/AccountRef/FullName") == "Services"
    assert txt(ret, "SalesOrPurchase/AccountRef/ListID")
    assert txt(ret, "SalesOrPurchase/Price") == "150.00"
    refused = qb.one(SERVICE.format(rid="2", name="No Account", body="<SalesOrPurchase><Price>1.00</Price>"
                                    "</SalesOrPurchase>"))
    assert refused.get("statusCode") == "3150"
    assert "AccountRef" in refused.get("statusMessage")
    bad = qb.one(SERVICE.format(rid="3", name="Bad Account", body="<SalesOrPurchase><AccountRef><FullName>Nope"
                                "</FullName></AccountRef></SalesOrPurchase>"))
    assert bad.get("statusCode") == "3140"


def test_inventory_item_needs_cogs_and_asset_accounts(qb, txt):
    ret = qb.ok(INVENTORY.format(rid="1", name="Widget", body="<SalesDesc>A widget</SalesDesc><SalesPrice>25.00"
                                 "</SalesPrice>" + INVENTORY_ACCOUNTS + "<QuantityOnHand>10</QuantityOnHand>"
                                 "<TotalValue>100.00</TotalValue>"))
    assert txt(ret, "COGSAccountRef/FullName") == "Cost of Goods Sold"
    assert txt(ret, "AssetAccountRef/FullName") == "Inventory Asset"
    assert (txt(ret, "QuantityOnHand"), txt(ret, "AverageCost")) == ("10", "10")
    without_asset = qb.one(INVENTORY.format(rid="2", name="Gadget", body="<IncomeAccountRef><FullName>Sales"
                                            "</FullName></IncomeAccountRef><COGSAccountRef><FullName>Cost of Goods "
                                            "Sold</FullName></COGSAccountRef>"))
    assert without_asset.get("statusCode") == "3150"
    assert "asset account is required" in without_asset.get("statusMessage")
    wrong_type = qb.one(INVENTORY.format(rid="3", name="Gizmo", body=INVENTORY_ACCOUNTS.replace(
        "Cost of Goods Sold", "Office Supplies")))
    assert wrong_type.get("statusCode") == "3140"


def test_non_inventory_item_with_sales_and_purchase(qb, txt):
    ret = qb.ok("<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Cable</Name><ManufacturerPartNumber>C-1"
                "</ManufacturerPartNumber><SalesAndPurchase><SalesDesc>Cable</SalesDesc><SalesPrice>5.00</SalesPrice>"
                "<IncomeAccountRef><FullName>Sales</FullName></IncomeAccountRef><PurchaseCost>2.00</PurchaseCost>"
                "<ExpenseAccountRef><FullName>Office Supplies</FullName></ExpenseAccountRef></SalesAndPurchase>"
                "</ItemNonInventoryAdd></ItemNonInventoryAddRq>")
    assert txt(ret, "SalesAndPurchase/IncomeAccountRef/FullName") == "Sales"
    assert txt(ret, "ManufacturerPartNumber") == "C-1"


def test_item_mod_merges_sales_or_purchase(qb, txt):
    ret = qb.ok(SERVICE.format(rid="1", name="Support", body="<SalesOrPurchase><Desc>Support</Desc><Price>10.00"
                               "</Price><AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase>"))
    modded = qb.ok(f"<ItemServiceModRq><ItemServiceMod><ListID>{txt(ret, 'ListID')}</ListID><EditSequence>"
                   f"{txt(ret, 'EditSequence')}</EditSequence><SalesOrPurchaseMod><Price>12.50</Price>"
                   "</SalesOrPurchaseMod></ItemServiceMod></ItemServiceModRq>")
    assert (txt(modded, "SalesOrPurchase/Desc"), txt(modded, "SalesOrPurchase/Price")) == ("Support", "12.50")
    assert txt(modded, "SalesOrPurchase/AccountRef/FullName") == "Services"


def test_item_query_returns_every_item_type_and_inactive_items_on_request(qb, txt):
    qb.ok(SERVICE.format(rid="1", name="B Service", body="<SalesOrPurchase><AccountRef><FullName>Services"
                         "</FullName></AccountRef></SalesOrPurchase>"))
    widget = qb.ok(INVENTORY.format(rid="2", name="A Widget", body=INVENTORY_ACCOUNTS))
    assert [(r.tag, txt(r, "FullName")) for r in qb.one("<ItemQueryRq/>")] == [
        ("ItemInventoryRet", "A Widget"), ("ItemServiceRet", "B Service")]
    qb.ok(f"<ItemInventoryModRq><ItemInventoryMod><ListID>{txt(widget, 'ListID')}</ListID><EditSequence>"
          f"{txt(widget, 'EditSequence')}</EditSequence><IsActive>false</IsActive></ItemInventoryMod>"
          "</ItemInventoryModRq>")
    assert [txt(r, "FullName") for r in qb.one("<ItemQueryRq/>")] == ["B Service"]
    inactive = qb.one("<ItemInventoryQueryRq><ActiveStatus>InactiveOnly</ActiveStatus></ItemInventoryQueryRq>")
    assert [txt(r, "IsActive") for r in inactive] == ["false"]


def test_item_names_longer_than_31_are_refused(sim, qbxml_schemas):
    response = sim.process('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                           f"<ItemServiceAddRq><ItemServiceAdd><Name>{'x' * 32}</Name><SalesOrPurchase><AccountRef>"
                           "<FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd>"
                           "</ItemServiceAddRq></QBXMLMsgsRq></QBXML>")
    qbxml_schemas.validate(response, "response")
    assert 'statusCode="3070"' in response


def test_an_account_used_by_an_item_cannot_be_deleted_even_after_the_item_changes(sim, qb):
    income = sim.add("Account", {"Name": "Widget Income", "AccountType": "Income"})
    item = sim.add("ItemService", {"Name": "Widgeting",
                                   "SalesOrPurchase": {"AccountRef": {"FullName": "Widget Income"}}})
    sim.modify(item["ListID"], {"SalesOrPurchaseMod": {"Price": "3.00"}})
    refused = qb.one(f"<ListDelRq><ListDelType>Account</ListDelType><ListID>{income['ListID']}</ListID></ListDelRq>")
    assert refused.get("statusCode") == "3170"
    sim.modify(item["ListID"], {"SalesOrPurchaseMod": {"AccountRef": {"FullName": "Services"}}})
    freed = qb.one(f"<ListDelRq><ListDelType>Account</ListDelType><ListID>{income['ListID']}</ListID></ListDelRq>")
    assert freed.get("statusCode") == "0"
