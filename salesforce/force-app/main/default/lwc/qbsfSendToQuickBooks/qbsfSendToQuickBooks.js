import { LightningElement, api } from "lwc";
import { ShowToastEvent } from "lightning/platformShowToastEvent";
import sendToQuickBooks from "@salesforce/apex/QBSFRecordController.sendToQuickBooks";

/**
 * "Send to QuickBooks" on Account and Opportunity pages: a headless quick action
 * (https://developer.salesforce.com/docs/platform/lwc/guide/use-quick-actions-headless.html) that queues the record
 * for the connector's next cycle and says so in a toast.
 */
export default class QbsfSendToQuickBooks extends LightningElement {
    @api recordId;
    running = false;

    @api
    async invoke() {
        if (this.running) {
            return; // a double click sends once
        }
        this.running = true;
        try {
            const message = await sendToQuickBooks({ recordId: this.recordId });
            this.dispatchEvent(new ShowToastEvent({ title: "Send to QuickBooks", message, variant: "success" }));
        } catch (error) {
            const message = (error && error.body && error.body.message) || (error && error.message) || String(error);
            this.dispatchEvent(new ShowToastEvent({ title: "Not sent to QuickBooks", message, variant: "error" }));
        } finally {
            this.running = false;
        }
    }
}
