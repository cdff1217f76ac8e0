import { LightningElement, api } from "lwc";

// QuickBooks invoice status → SLDS badge theme: Paid green, OverDue red, Open amber; anything else stays neutral.
const THEMES = {
    Paid: "slds-theme_success",
    OverDue: "slds-theme_error",
    Open: "slds-theme_warning"
};
const LABELS = { Paid: "Paid", OverDue: "Overdue", Open: "Open" };

export default class QbsfStatusBadge extends LightningElement {
    @api status;

    get badgeClass() {
        const theme = THEMES[this.status];
        return theme ? `slds-badge ${theme}` : "slds-badge";
    }

    get label() {
        return LABELS[this.status] || this.status || "Unknown";
    }
}
