import { createElement } from "lwc";
import QbsfTimestamps, { RESET_ALL_WARNING } from "c/qbsfTimestamps";
import LightningConfirm from "lightning/confirm";
import getWatermarks from "@salesforce/apex/QBSFDashboardController.getWatermarks";
import resetWatermarks from "@salesforce/apex/QBSFDashboardController.resetWatermarks";

jest.mock("lightning/confirm", () => ({ __esModule: true, default: { open: jest.fn() } }));
jest.mock("@salesforce/apex/QBSFDashboardController.getWatermarks", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.resetWatermarks", () => ({ default: jest.fn() }), {
    virtual: true
});

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const CUSTOMER = {
    Id: "a02000000000001",
    Name: "Customer",
    Entity__c: "Customer",
    Last_Modified__c: "2026-12-01T10:00:00.000Z",
    Reset_Requested__c: false
};
const INVOICE = {
    Id: "a02000000000002",
    Name: "Invoice",
    Entity__c: "Invoice",
    Last_Modified__c: null,
    Reset_Requested__c: false
};

async function mount(rows) {
    getWatermarks.mockResolvedValue(rows);
    const element = createElement("c-qbsf-timestamps", { is: QbsfTimestamps });
    document.body.appendChild(element);
    await flush();
    return element;
}
const row = (element, entity) => element.shadowRoot.querySelector(`[data-row="${entity}"]`);

describe("c-qbsf-timestamps", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
    });

    it("says when there are no timestamps yet", async () => {
        const element = await mount([]);
        expect(element.shadowRoot.querySelector('[data-id="empty"]').textContent).toContain("first QB → SF sync");
    });

    it("lists each entity's timestamp, never-synced ones as such", async () => {
        const element = await mount([CUSTOMER, INVOICE]);
        expect(row(element, "Customer").querySelector("lightning-formatted-date-time").value).toBe(
            CUSTOMER.Last_Modified__c
        );
        expect(row(element, "Invoice").querySelector('[data-id="when"]').textContent).toContain("never");
    });

    it("Reset asks, then requests the reset of that entity", async () => {
        const element = await mount([CUSTOMER, INVOICE]);
        LightningConfirm.open.mockResolvedValue(true);
        resetWatermarks.mockResolvedValue(1);
        getWatermarks.mockResolvedValue([{ ...CUSTOMER, Reset_Requested__c: true }, INVOICE]);
        row(element, "Customer").querySelector('[data-action="reset"]').click();
        await flush();
        await flush();
        expect(resetWatermarks).toHaveBeenCalledWith({ entities: ["Customer"] });
        expect(row(element, "Customer").querySelector('[data-id="requested"]').textContent).toBe("Reset requested");
        expect(element.shadowRoot.querySelector('[data-id="notice"]').textContent).toContain(
            "Customer: reset requested"
        );
    });

    it("Reset All shows the large-data warning and resets every entity", async () => {
        const element = await mount([CUSTOMER, INVOICE]);
        LightningConfirm.open.mockResolvedValue(true);
        resetWatermarks.mockResolvedValue(2);
        element.shadowRoot.querySelector('[data-id="reset-all"]').click();
        await flush();
        await flush();
        expect(LightningConfirm.open).toHaveBeenCalledWith(expect.objectContaining({ message: RESET_ALL_WARNING }));
        expect(RESET_ALL_WARNING).toContain("For large datasets this may take several minutes");
        expect(resetWatermarks).toHaveBeenCalledWith({ entities: [] });
    });

    it("cancelled Reset All changes nothing", async () => {
        const element = await mount([CUSTOMER]);
        LightningConfirm.open.mockResolvedValue(false);
        element.shadowRoot.querySelector('[data-id="reset-all"]').click();
        await flush();
        expect(resetWatermarks).not.toHaveBeenCalled();
    });

    it("shows a failed reset", async () => {
        const element = await mount([CUSTOMER]);
        LightningConfirm.open.mockResolvedValue(true);
        resetWatermarks.mockRejectedValue({ body: { message: "insufficient access rights on QBSF_Watermark__c" } });
        row(element, "Customer").querySelector('[data-action="reset"]').click();
        await flush();
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="error"]').textContent).toContain("insufficient access");
    });
});
