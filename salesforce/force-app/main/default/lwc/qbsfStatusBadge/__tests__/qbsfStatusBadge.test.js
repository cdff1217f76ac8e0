import { createElement } from "lwc";
import QbsfStatusBadge from "c/qbsfStatusBadge";

function mount(status) {
    const element = createElement("c-qbsf-status-badge", { is: QbsfStatusBadge });
    element.status = status;
    document.body.appendChild(element);
    return element.shadowRoot.querySelector('[data-id="badge"]');
}

describe("c-qbsf-status-badge", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it.each([
        ["Paid", "slds-theme_success", "Paid"],
        ["OverDue", "slds-theme_error", "Overdue"],
        ["Open", "slds-theme_warning", "Open"]
    ])("shows %s as a %s badge", (status, theme, label) => {
        const badge = mount(status);
        expect(badge.classList).toContain("slds-badge");
        expect(badge.classList).toContain(theme);
        expect(badge.textContent).toBe(label);
    });

    it("shows an unknown status plainly", () => {
        const badge = mount("Voided");
        expect(badge.className).toBe("slds-badge");
        expect(badge.textContent).toBe("Voided");
    });

    it("says Unknown when there is no status", () => {
        expect(mount(undefined).textContent).toBe("Unknown");
    });
});
