import { LightningElement, api, wire } from "lwc";
import getInvoices from "@salesforce/apex/QBSFRecordController.getInvoices";

export default class QbsfInvoices extends LightningElement {
    @api recordId;
    invoices = [];
    error;
    loaded = false;

    @wire(getInvoices, { recordId: "$recordId" })
    wiredInvoices({ data, error }) {
        if (data) {
            this.invoices = data.map((invoice) => ({
                ...invoice,
                url: `/lightning/r/QB_Invoice__c/${invoice.Id}/view`
            }));
            this.error = undefined;
            this.loaded = true;
        } else if (error) {
            this.invoices = [];
            this.error = (error.body && error.body.message) || error.message || String(error);
            this.loaded = true;
        }
    }

    get title() {
        return `QuickBooks Invoices (${this.invoices.length})`;
    }

    get isEmpty() {
        return this.loaded && !this.error && this.invoices.length === 0;
    }
}
