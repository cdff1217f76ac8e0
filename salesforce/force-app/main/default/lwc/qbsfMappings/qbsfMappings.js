import { LightningElement, api } from "lwc";
import LightningConfirm from "lightning/confirm";
import getMappings from "@salesforce/apex/QBSFDashboardController.getMappings";
import uploadMapping from "@salesforce/apex/QBSFDashboardController.uploadMapping";
import getMappingBody from "@salesforce/apex/QBSFDashboardController.getMappingBody";
import deleteMapping from "@salesforce/apex/QBSFDashboardController.deleteMapping";

const REQUIRED_COLUMNS = ["SF_Field_API_Name", "QB_Field_Name"];

function errorText(error) {
    if (error && error.body && error.body.message) {
        return error.body.message;
    }
    return (error && error.message) || String(error);
}

/**
 * The checks the browser can make before anything is stored: a header row naming the two columns every mapping
 * has. Everything else (transformations, fields against the org's describe) is checked by the connector, which
 * writes its line errors back. Returns "FILE:LINE: problem" strings.
 */
export function precheck(fileName, text) {
    const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
    let index = lines.findIndex((line) => line.trim() !== "" && !line.startsWith("sep="));
    if (index < 0) {
        return [`${fileName}:1: the file is empty`];
    }
    const header = lines[index].split(/[,;\t]/).map((cell) => cell.trim().replace(/^"|"$/g, ""));
    const missing = REQUIRED_COLUMNS.filter((column) => !header.includes(column));
    if (missing.length) {
        return [
            `${fileName}:${index + 1}: the header row has no ${missing.join(" or ")} column (export the sheet as CSV with its header)`
        ];
    }
    return [];
}

export default class QbsfMappings extends LightningElement {
    mappings = [];
    error;
    notice;
    lineErrors = [];
    loading = true;

    connectedCallback() {
        this.refresh();
    }

    @api
    async refresh() {
        this.loading = true;
        try {
            const rows = await getMappings();
            this.mappings = rows.map((row) => ({
                ...row,
                errorLines: row.Errors__c ? row.Errors__c.split("\n").filter((line) => line) : [],
                isRejected: row.State__c === "Rejected",
                isPending: row.State__c === "Pending",
                stateClass:
                    row.State__c === "Active"
                        ? "slds-badge slds-theme_success"
                        : row.State__c === "Rejected"
                          ? "slds-badge slds-theme_error"
                          : "slds-badge slds-theme_warning"
            }));
            this.error = undefined;
        } catch (error) {
            this.error = errorText(error);
        } finally {
            this.loading = false;
        }
    }

    get isEmpty() {
        return !this.loading && this.mappings.length === 0;
    }

    get hasLineErrors() {
        return this.lineErrors.length > 0;
    }

    async handleFile(event) {
        // lightning-input type="file" reports the chosen files in event.detail.files (and on the element itself)
        const files = (event.detail && event.detail.files) || (event.target && event.target.files);
        const file = files && files[0];
        if (!file) {
            return;
        }
        this.notice = undefined;
        this.error = undefined;
        const text = await file.text();
        this.lineErrors = precheck(file.name, text);
        if (this.lineErrors.length) {
            return; // nothing stored, nothing replaced
        }
        try {
            await uploadMapping({ fileName: file.name, body: text });
            this.notice = `${file.name} uploaded. The connector checks it on its next cycle; the mapping in use stays until it is accepted.`;
            await this.refresh();
        } catch (error) {
            this.error = errorText(error);
        }
    }

    async handleDownload(event) {
        const { id, name } = event.currentTarget.dataset;
        try {
            const body = await getMappingBody({ mappingId: id });
            const link = document.createElement("a");
            link.href = "data:text/csv;charset=utf-8," + encodeURIComponent(body);
            link.download = name;
            link.click();
        } catch (error) {
            this.error = errorText(error);
        }
    }

    async handleDelete(event) {
        const { id, name } = event.currentTarget.dataset;
        const confirmed = await LightningConfirm.open({
            label: "Delete mapping",
            message: `Delete ${name}? The connector stops using it on its next cycle.`,
            theme: "warning"
        });
        if (!confirmed) {
            return;
        }
        try {
            await deleteMapping({ mappingId: id });
            await this.refresh();
        } catch (error) {
            this.error = errorText(error);
        }
    }
}
