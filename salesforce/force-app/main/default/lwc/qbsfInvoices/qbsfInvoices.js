import { LightningElement, api, wire } from "lwc";
import getInvoices from "@salesforce/apex/QBSFRecordController.getInvoices";
import getPayments from "@salesforce/apex/QBSFRecordController.getPayments";

export default class QbsfInvoices extends LightningElement {
    @api recordId;
    invoices = [];
    payments = [];
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

    @wire(getPayments, { recordId: "$recordId" })
    wiredPayments({ data, error }) {
        if (data) {
            this.payments = data.map((line) => ({
                ...line,
                paymentName: line.Payment__r ? line.Payment__r.Name : line.Name,
                paymentDate: line.Payment__r ? line.Payment__r.Payment_Date__c : undefined,
                method: line.Payment__r ? line.Payment__r.Payment_Method__c : undefined,
                invoiceName: line.Invoice__r ? line.Invoice__r.Name : undefined,
                url: `/lightning/r/QB_Payment__c/${line.Payment__c}/view`
            }));
        } else if (error) {
            this.payments = [];
            this.error = this.error || (error.body && error.body.message) || error.message || String(error);
        }
    }

    get hasPayments() {
        return this.payments.length > 0;
    }

    get paymentsTitle() {
        return `Payments (${this.payments.length})`;
    }

    get title() {
        return `QuickBooks Invoices (${this.invoices.length})`;
    }

    get isEmpty() {
        return this.loaded && !this.error && this.invoices.length === 0;
    }
}
