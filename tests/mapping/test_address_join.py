"""AddressJoin: QuickBooks' address lines back into one multi-line Salesforce street (the inverse of AddressSplit)."""

from __future__ import annotations

from qbsf.mapping import load_mapping_bytes
from qbsf.mapping.address import split_address
from qbsf.mapping.kinds import kind_by_sheet

CSV = (b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
       b"ListID,QB_Customer_ID__c,Y,Simple,,\n"
       b"BillAddress.Addr1,BillingStreet,N,AddressJoin,,\n"
       b"ShipAddress.Addr2,ShippingStreet,N,addressjoin|Upper,,from the second line on\n")


def test_address_join_reads_the_line_it_names_and_every_line_after_it() -> None:
    mapping = load_mapping_bytes(CSV, "Customer_to_Acct.csv", kind_by_sheet("Customer_to_Acct"))
    record = {"ListID": "1", "BillAddress.Addr1": "1200 Industrial Parkway Northeast, ",
              "BillAddress.Addr2": "Building 7", "BillAddress.Addr3": "", "BillAddress.Addr4": "Dock C",
              "ShipAddress.Addr1": "skipped", "ShipAddress.Addr2": "po box 5"}
    assert mapping.apply(record) == {"QB_Customer_ID__c": "1",
                                     "BillingStreet": "1200 Industrial Parkway Northeast,\nBuilding 7\nDock C",
                                     "ShippingStreet": "PO BOX 5"}
    assert mapping.apply({"ListID": "2"}) == {"QB_Customer_ID__c": "2", "BillingStreet": None,
                                              "ShippingStreet": None}


def test_joined_lines_split_again_into_the_same_lines() -> None:
    mapping = load_mapping_bytes(CSV, "Customer_to_Acct.csv", kind_by_sheet("Customer_to_Acct"))
    street = "1200 Industrial Parkway Northeast, Building 7, Loading Dock Entrance C"
    lines = split_address(street)
    record = {"ListID": "1", **{f"BillAddress.Addr{n}": line for n, line in enumerate(lines, start=1)}}
    joined = mapping.apply(record)["BillingStreet"]
    assert split_address(joined) == lines
