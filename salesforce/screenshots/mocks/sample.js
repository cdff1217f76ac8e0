// Sample answers for the screenshots: what an org shows after a few cycles of a connector syncing a small company.
const minutesAgo = (minutes) => new Date(Date.now() - minutes * 60000).toISOString();

export const status = () =>
    window.QBSF_SCENE === "offline"
        ? { connectorOnline: false, quickbooksConnected: false, lastSeen: minutesAgo(47), pendingRequests: 1 }
        : { connectorOnline: true, quickbooksConnected: true, lastSeen: minutesAgo(0.3), pendingRequests: 0 };

export const mappings = [
    { Id: "a01000000000001", Name: "Acct_to_Customer.csv", Sheet__c: "Acct_to_Customer", State__c: "Active" },
    {
        Id: "a01000000000002",
        Name: "Oppty_to_Invoice.csv",
        Sheet__c: "Oppty_to_Invoice",
        State__c: "Rejected",
        Errors__c:
            "Oppty_to_Invoice.csv:4: Opportunity has no field 'Amout' (column 1); did you mean Amount?\nOppty_to_Invoice.csv:9: unknown transformation 'Trimm'; did you mean Trim?"
    },
    { Id: "a01000000000003", Name: "Product_to_Item.csv", State__c: "Pending" }
];

export const watermarks = [
    { Id: "a02000000000001", Name: "Customer", Entity__c: "Customer", Last_Modified__c: minutesAgo(12), Reset_Requested__c: false },
    { Id: "a02000000000002", Name: "Invoice", Entity__c: "Invoice", Last_Modified__c: minutesAgo(5), Reset_Requested__c: true },
    { Id: "a02000000000003", Name: "Item", Entity__c: "Item", Last_Modified__c: null, Reset_Requested__c: false }
];

export const activity = {
    summaries: [
        { Id: "a03000000000001", Entity__c: "Account", Direction__c: "SF_TO_QB", Created_Count__c: 2, Updated_Count__c: 5, Failed_Count__c: 1 },
        { Id: "a03000000000002", Entity__c: "Opportunity", Direction__c: "SF_TO_QB", Created_Count__c: 3, Updated_Count__c: 0, Failed_Count__c: 0 },
        { Id: "a03000000000003", Entity__c: "Invoice", Direction__c: "QB_TO_SF", Created_Count__c: 0, Updated_Count__c: 4, Failed_Count__c: 0 }
    ],
    failures: [
        {
            Id: "a03000000000009",
            Entity__c: "Account",
            Direction__c: "SF_TO_QB",
            Record_Key__c: "001000000000004AAA",
            Message__c: "QuickBooks: the name 'Globex Corp' is used by a vendor; rename the Account or the vendor, then Retry"
        }
    ],
    created: 5,
    updated: 9,
    failed: 1
};

export const invoices = [
    { Id: "a04000000000003", Name: "Invoice 1043", Invoice_Date__c: "2026-12-01", Amount__c: 1280, Balance__c: 1280, Status__c: "Open" },
    { Id: "a04000000000002", Name: "Invoice 1037", Invoice_Date__c: "2026-10-28", Amount__c: 640, Balance__c: 320, Status__c: "OverDue" },
    { Id: "a04000000000001", Name: "Invoice 1021", Invoice_Date__c: "2026-09-15", Amount__c: 2150, Balance__c: 0, Status__c: "Paid" }
];
