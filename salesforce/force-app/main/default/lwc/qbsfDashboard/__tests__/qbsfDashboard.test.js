import { createElement } from "lwc";
import QbsfDashboard from "c/qbsfDashboard";
import LightningConfirm from "lightning/confirm";
import getStatus from "@salesforce/apex/QBSFDashboardController.getStatus";
import requestSync from "@salesforce/apex/QBSFDashboardController.requestSync";

jest.mock("lightning/confirm", () => ({ __esModule: true, default: { open: jest.fn() } }));
jest.mock("@salesforce/apex/QBSFDashboardController.getStatus", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.requestSync", () => ({ default: jest.fn() }), { virtual: true });
// The panels below the status have their own tests; here they only need to answer refresh().
jest.mock(
    "@salesforce/apex/QBSFDashboardController.getMappings",
    () => ({ default: jest.fn(() => Promise.resolve([])) }),
    { virtual: true }
);
jest.mock(
    "@salesforce/apex/QBSFDashboardController.getWatermarks",
    () => ({ default: jest.fn(() => Promise.resolve([])) }),
    { virtual: true }
);
jest.mock(
    "@salesforce/apex/QBSFDashboardController.getActivity",
    () => ({
        default: jest.fn(() => Promise.resolve({ summaries: [], failures: [], created: 0, updated: 0, failed: 0 }))
    }),
    { virtual: true }
);

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

async function mount(status) {
    getStatus.mockResolvedValue(status);
    const element = createElement("c-qbsf-dashboard", { is: QbsfDashboard });
    document.body.appendChild(element);
    await flush();
    return element;
}

const text = (element, id) => {
    const node = element.shadowRoot.querySelector(`[data-id="${id}"]`);
    return node ? node.textContent.trim() : null;
};

describe("c-qbsf-dashboard", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
    });

    it("shows an online connector with QuickBooks connected", async () => {
        const element = await mount({
            connectorOnline: true,
            quickbooksConnected: true,
            lastSeen: "2026-12-06T08:00:00.000Z",
            pendingRequests: 0
        });
        expect(text(element, "salesforce")).toBe("Salesforce — Connected");
        expect(text(element, "connector")).toBe("Desktop Connector — Online");
        expect(text(element, "quickbooks")).toBe("QuickBooks — Connected");
        expect(text(element, "connector-hint")).toBe("");
    });

    it("shows a stopped connector as Offline and QuickBooks as unknown", async () => {
        const element = await mount({
            connectorOnline: false,
            quickbooksConnected: false,
            lastSeen: "2026-12-06T07:00:00.000Z",
            pendingRequests: 2
        });
        expect(text(element, "connector")).toBe("Desktop Connector — Offline");
        expect(text(element, "quickbooks")).toBe("QuickBooks — Unknown (connector offline)");
        expect(text(element, "connector-hint")).toContain("check that qbsf is running");
        expect(text(element, "pending")).toBe("2 sync request(s) waiting for the connector");
    });

    it("says when the connector never reported in", async () => {
        const element = await mount({ connectorOnline: false, quickbooksConnected: false, pendingRequests: 0 });
        expect(text(element, "connector-hint")).toContain("never reported in");
    });

    it("shows QuickBooks not connected while the connector is online", async () => {
        const element = await mount({
            connectorOnline: true,
            quickbooksConnected: false,
            lastSeen: "x",
            pendingRequests: 0
        });
        expect(text(element, "quickbooks")).toBe("QuickBooks — Not connected");
    });

    it("shows the error when the status cannot be read", async () => {
        getStatus.mockRejectedValue({ body: { message: "Insufficient access to QBSF_Heartbeat__c" } });
        const element = createElement("c-qbsf-dashboard", { is: QbsfDashboard });
        document.body.appendChild(element);
        await flush();
        expect(text(element, "error")).toBe("Insufficient access to QBSF_Heartbeat__c");
    });

    it.each([
        ["sf-to-qb", "SF_TO_QB", "↑ SF → QB"],
        ["qb-to-sf", "QB_TO_SF", "↓ QB → SF"]
    ])("%s asks for confirmation, then requests the sync", async (id, direction, label) => {
        const element = await mount({
            connectorOnline: true,
            quickbooksConnected: true,
            lastSeen: "x",
            pendingRequests: 0
        });
        LightningConfirm.open.mockResolvedValue(true);
        requestSync.mockResolvedValue("a0X000000000001");
        element.shadowRoot.querySelector(`[data-id="${id}"]`).click();
        await flush();
        await flush();
        expect(LightningConfirm.open).toHaveBeenCalledWith(expect.objectContaining({ label }));
        expect(requestSync).toHaveBeenCalledWith({ direction });
        expect(text(element, "notice")).toContain(`${label} requested`);
        expect(getStatus).toHaveBeenCalledTimes(2);
    });

    it("does nothing when the confirmation is cancelled", async () => {
        const element = await mount({
            connectorOnline: true,
            quickbooksConnected: true,
            lastSeen: "x",
            pendingRequests: 0
        });
        LightningConfirm.open.mockResolvedValue(false);
        element.shadowRoot.querySelector('[data-id="qb-to-sf"]').click();
        await flush();
        expect(requestSync).not.toHaveBeenCalled();
    });

    it("Refresh reloads the status", async () => {
        const element = await mount({ connectorOnline: false, quickbooksConnected: false, pendingRequests: 0 });
        getStatus.mockResolvedValue({
            connectorOnline: true,
            quickbooksConnected: true,
            lastSeen: "x",
            pendingRequests: 0
        });
        element.shadowRoot.querySelector('[data-id="refresh"]').click();
        await flush();
        expect(text(element, "connector")).toBe("Desktop Connector — Online");
    });
});
