import { LightningElement, api } from "lwc";
import getActivity from "@salesforce/apex/QBSFDashboardController.getActivity";
import retry from "@salesforce/apex/QBSFDashboardController.retry";

const DIRECTION_LABELS = { SF_TO_QB: "SF → QB", QB_TO_SF: "QB → SF" };

function errorText(error) {
    if (error && error.body && error.body.message) {
        return error.body.message;
    }
    return (error && error.message) || String(error);
}

export default class QbsfActivity extends LightningElement {
    activity;
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
            this.activity = await getActivity();
            this.error = undefined;
        } catch (error) {
            this.error = errorText(error);
        } finally {
            this.loading = false;
        }
    }

    get summaries() {
        return (this.activity ? this.activity.summaries : []).map((row) => ({
            ...row,
            direction: DIRECTION_LABELS[row.Direction__c] || row.Direction__c
        }));
    }

    get failures() {
        return (this.activity ? this.activity.failures : []).map((row) => ({
            ...row,
            direction: DIRECTION_LABELS[row.Direction__c] || row.Direction__c,
            label: row.Record_Name__c || row.Record_Key__c
        }));
    }

    get totals() {
        const a = this.activity || { created: 0, updated: 0, failed: 0 };
        return `${a.created} created · ${a.updated} updated · ${a.failed} failed`;
    }

    get isEmpty() {
        return !this.loading && this.summaries.length === 0 && this.failures.length === 0;
    }

    get hasFailures() {
        return this.failures.length > 0;
    }

    async handleRetry(event) {
        const { id, label } = event.currentTarget.dataset;
        try {
            await retry({ activityId: id });
            this.notice = `${label}: retry requested; the connector tries it again on its next cycle.`;
            this.error = undefined;
            await this.refresh();
        } catch (error) {
            this.error = errorText(error);
        }
    }
}
