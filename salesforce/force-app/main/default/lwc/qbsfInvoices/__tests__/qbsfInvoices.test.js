import { createElement } from "lwc";
import QbsfInvoices from "c/qbsfInvoices";
import getInvoices from "@salesforce/apex/QBSFRecordController.getInvoices";
import getPayments from "@salesforce/apex/QBSFRecordController.getPayments";

jest.mock(
    "@salesforce/apex/QBSFRecordController.getInvoices",
    () => {
        const { createApexTestWireAdapter } = require("@salesforce/sfdx-lwc-jest");
        return { default: createApexTestWireAdapter(jest.fn()) };
    },
    { virtual: true }
);

jest.mock(
    "@salesforce/apex/QBSFRecordController.getPayments",
    () => {
        const { createApexTestWireAdapter } = require("@salesforce/sfdx-lwc-jest");
        return { default: createApexTestWireAdapter(jest.fn()) };
    },
    { virtual: true }
);

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function mount() {
    const element = createElement("c-qbsf-invoices", { is: QbsfInvoices });
    element.recordId = "001000000000001AAA";
    document.body.appendChild(element);
    return element;
}

describe("c-qbsf-invoices", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it("lists the record's invoices with a coloured status badge each", async () => {
        const element = mount();
        getInvoices.emit([
            {
                Id: "a04000000000001",
                Name: "Invoice 8",
                Invoice_Date__c: "2026-12-01",
                Amount__c: 120,
                Balance__c: 0,
                Status__c: "Paid"
            },
            {
                Id: "a04000000000002",
                Name: "Invoice 9",
                Invoice_Date__c: "2026-11-01",
                Amount__c: 80,
                Balance__c: 80,
                Status__c: "OverDue"
            }
        ]);
        await flush();
        const card = element.shadowRoot.querySelector("lightning-card");
        expect(card.title).toBe("QuickBooks Invoices (2)");
        const badges = [...element.shadowRoot.querySelectorAll("c-qbsf-status-badge")].map((badge) => badge.status);
        expect(badges).toEqual(["Paid", "OverDue"]);
        const link = element.shadowRoot.querySelector('[data-row="Invoice 8"] [data-id="name"]');
        expect(link.getAttribute("href")).toBe("/lightning/r/QB_Invoice__c/a04000000000001/view");
    });

    it("says when there are none", async () => {
        const element = mount();
        getInvoices.emit([]);
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="empty"]').textContent).toBe("No QuickBooks invoices yet.");
    });

    it("shows why they cannot be read", async () => {
        const element = mount();
        getInvoices.error({ message: "Insufficient access to QB_Invoice__c" });
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="error"]').textContent).toContain("Insufficient access");
    });

    it("lists the payments applied to the record's invoices, one row per invoice paid", async () => {
        const element = mount();
        getInvoices.emit([]);
        getPayments.emit([
            {
                Id: "a07000000000001",
                Name: "CHK-9 / 8",
                Amount_Applied__c: 100,
                Payment__c: "a06000000000001",
                Payment__r: { Name: "CHK-9", Payment_Date__c: "2026-12-03", Payment_Method__c: "Check" },
                Invoice__r: { Name: "Invoice 8" }
            },
            {
                Id: "a07000000000002",
                Name: "CHK-9 / 9",
                Amount_Applied__c: 50,
                Payment__c: "a06000000000001",
                Payment__r: { Name: "CHK-9", Payment_Date__c: "2026-12-03", Payment_Method__c: "Check" },
                Invoice__r: { Name: "Invoice 9" }
            }
        ]);
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="payments-title"]').textContent).toBe("Payments (2)");
        const row = element.shadowRoot.querySelector('[data-payment="CHK-9 / 9"]');
        expect(row.querySelector('[data-id="invoice"]').textContent).toBe("Invoice 9");
        expect(row.querySelector('[data-id="applied"]').value).toBe(50);
        expect(row.querySelector('[data-id="payment"]').getAttribute("href")).toBe(
            "/lightning/r/QB_Payment__c/a06000000000001/view"
        );
    });

    it("shows no payments table while nothing was paid", async () => {
        const element = mount();
        getInvoices.emit([]);
        getPayments.emit([]);
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="payments"]')).toBeNull();
    });

    it("says why payments cannot be read", async () => {
        const element = mount();
        getInvoices.emit([]);
        getPayments.error({ message: "Insufficient access to QB_Payment_Line__c" });
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="error"]').textContent).toContain("QB_Payment_Line__c");
    });
});
