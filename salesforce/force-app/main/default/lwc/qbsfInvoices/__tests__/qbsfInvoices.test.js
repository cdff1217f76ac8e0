import { createElement } from "lwc";
import QbsfInvoices from "c/qbsfInvoices";
import getInvoices from "@salesforce/apex/QBSFRecordController.getInvoices";

jest.mock(
    "@salesforce/apex/QBSFRecordController.getInvoices",
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
});
