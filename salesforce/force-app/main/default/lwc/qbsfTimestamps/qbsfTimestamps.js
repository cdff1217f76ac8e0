import { LightningElement, api } from "lwc";
import LightningConfirm from "lightning/confirm";
import getWatermarks from "@salesforce/apex/QBSFDashboardController.getWatermarks";
import resetWatermarks from "@salesforce/apex/QBSFDashboardController.resetWatermarks";

// The manual's warning before Reset All.
export const RESET_ALL_WARNING =
    "Reset All Timestamps will re-sync ALL QB entities. For large datasets this may take several minutes. " +
    "Check with whoever supports your QuickBooks company before resetting all timestamps in production.";

function errorText(error) {
    if (error && error.body && error.body.message) {
        return error.body.message;
    }
    return (error && error.message) || String(error);
}

export default class QbsfTimestamps extends LightningElement {
    rows = [];
    error;
    notice;
    loading = true;

    connectedCallback() {
        this.refresh();
    }

    @api
    async refresh() {
        this.loading = true;
        try {
            const rows = await getWatermarks();
            this.rows = rows.map((row) => ({ ...row, never: !row.Last_Modified__c }));
            this.error = undefined;
        } catch (error) {
            this.error = errorText(error);
        } finally {
            this.loading = false;
        }
    }

    get isEmpty() {
        return !this.loading && this.rows.length === 0;
    }

    async handleReset(event) {
        const entity = event.currentTarget.dataset.entity;
        const confirmed = await LightningConfirm.open({
            label: `Reset ${entity}`,
            message: `The next QB → SF sync reads every ${entity} from QuickBooks again. Continue?`,
            theme: "warning"
        });
        if (confirmed) {
            await this.reset([entity], `${entity}: reset requested; the connector carries it out on its next cycle.`);
        }
    }

    async handleResetAll() {
        const confirmed = await LightningConfirm.open({
            label: "Reset All Timestamps",
            message: RESET_ALL_WARNING,
            theme: "error"
        });
        if (confirmed) {
            await this.reset([], "Reset of every timestamp requested; the connector carries it out on its next cycle.");
        }
    }

    async reset(entities, notice) {
        try {
            await resetWatermarks({ entities });
            this.notice = notice;
            this.error = undefined;
            await this.refresh();
        } catch (error) {
            this.error = errorText(error);
        }
    }
}
