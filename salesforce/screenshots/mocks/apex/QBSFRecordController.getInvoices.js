import { invoices } from "../sample.js";

// An Apex method used with @wire is a wire adapter: this one answers once with the sample invoices.
export default class GetInvoices {
    constructor(dataCallback) {
        this.dataCallback = dataCallback;
    }
    connect() {}
    disconnect() {}
    update() {
        this.dataCallback({ data: invoices, error: undefined });
    }
}
