import { LightningElement } from "lwc";
import LightningConfirm from "lightning/confirm";
import getStatus from "@salesforce/apex/QBSFDashboardController.getStatus";
import requestSync from "@salesforce/apex/QBSFDashboardController.requestSync";

// The manual's words for each direction: what the button queues, asked before it is sent.
const DIRECTIONS = {
    SF_TO_QB: {
        label: "↑ SF → QB",
        message:
            "Queue all eligible Salesforce records for sync to QuickBooks? The connector sends them on its next cycle."
    },
    QB_TO_SF: {
        label: "↓ QB → SF",
        message:
            "Sync every mapped QuickBooks entity to Salesforce now? The connector picks the request up on its next cycle (within 30 seconds)."
    }
};

export function errorText(error) {
    if (!error) {
        return "";
    }
    if (error.body && error.body.message) {
        return error.body.message;
    }
    return error.message || String(error);
}

export default class QbsfDashboard extends LightningElement {
    status;
    error;
    notice;
    loading = true;
    busy = false;

    connectedCallback() {
        this.loadStatus();
    }

    async loadStatus() {
        this.loading = true;
        try {
            this.status = await getStatus();
            this.error = undefined;
        } catch (error) {
            this.error = errorText(error);
        } finally {
            this.loading = false;
        }
    }

    get connectorOnline() {
        return Boolean(this.status && this.status.connectorOnline);
    }

    get quickbooksConnected() {
        return Boolean(this.status && this.status.quickbooksConnected);
    }

    get connectorLabel() {
        return this.connectorOnline ? "Desktop Connector — Online" : "Desktop Connector — Offline";
    }

    get connectorHint() {
        if (!this.status || !this.status.lastSeen) {
            return "The connector has never reported in: start qbsf on the QuickBooks computer.";
        }
        return this.connectorOnline ? "" : "No heartbeat for 2 minutes or more: check that qbsf is running.";
    }

    get quickbooksLabel() {
        if (!this.connectorOnline) {
            return "QuickBooks — Unknown (connector offline)";
        }
        return this.quickbooksConnected ? "QuickBooks — Connected" : "QuickBooks — Not connected";
    }

    get connectorClass() {
        return this.connectorOnline ? "qbsf-light qbsf-light_on" : "qbsf-light qbsf-light_off";
    }

    get quickbooksClass() {
        return this.quickbooksConnected ? "qbsf-light qbsf-light_on" : "qbsf-light qbsf-light_off";
    }

    get pendingText() {
        const count = this.status ? this.status.pendingRequests : 0;
        return count ? `${count} sync request(s) waiting for the connector` : "";
    }

    async handleSync(event) {
        const direction = event.currentTarget.dataset.direction;
        const spec = DIRECTIONS[direction];
        const confirmed = await LightningConfirm.open({
            label: spec.label,
            message: spec.message,
            theme: "info"
        });
        if (!confirmed) {
            return;
        }
        this.busy = true;
        try {
            await requestSync({ direction });
            this.notice = `${spec.label} requested: the connector picks it up on its next cycle.`;
            this.error = undefined;
            await this.loadStatus();
        } catch (error) {
            this.error = errorText(error);
        } finally {
            this.busy = false;
        }
    }

    handleRefresh() {
        this.notice = undefined;
        this.loadStatus();
        this.template.querySelectorAll("c-qbsf-mappings, c-qbsf-timestamps, c-qbsf-activity").forEach((panel) => {
            panel.refresh();
        });
    }
}
