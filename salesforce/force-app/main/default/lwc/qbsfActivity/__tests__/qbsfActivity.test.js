import { createElement } from "lwc";
import QbsfActivity from "c/qbsfActivity";
import getActivity from "@salesforce/apex/QBSFDashboardController.getActivity";
import retry from "@salesforce/apex/QBSFDashboardController.retry";

jest.mock("@salesforce/apex/QBSFDashboardController.getActivity", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.retry", () => ({ default: jest.fn() }), { virtual: true });

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const FAILURE = {
    Id: "a03000000000009",
    Entity__c: "Customer",
    Direction__c: "SF_TO_QB",
    Record_Key__c: "001000000000001AAA",
    Record_Name__c: "Acme Ltd",
    Message__c: "Name is used by a vendor: rename one of them"
};
const ACTIVITY = {
    summaries: [
        {
            Id: "a03000000000001",
            Entity__c: "Customer",
            Direction__c: "SF_TO_QB",
            Created_Count__c: 2,
            Updated_Count__c: 3,
            Failed_Count__c: 1
        },
        {
            Id: "a03000000000002",
            Entity__c: "Invoice",
            Direction__c: "QB_TO_SF",
            Created_Count__c: 1,
            Updated_Count__c: 0,
            Failed_Count__c: 0
        }
    ],
    failures: [FAILURE],
    created: 3,
    updated: 3,
    failed: 1
};

async function mount(activity) {
    getActivity.mockResolvedValue(activity);
    const element = createElement("c-qbsf-activity", { is: QbsfActivity });
    document.body.appendChild(element);
    await flush();
    return element;
}

describe("c-qbsf-activity", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
    });

    it("says when nothing was synced yet", async () => {
        const element = await mount({ summaries: [], failures: [], created: 0, updated: 0, failed: 0 });
        expect(element.shadowRoot.querySelector('[data-id="empty"]')).not.toBeNull();
        expect(element.shadowRoot.querySelector('[data-id="failures"]')).toBeNull();
    });

    it("shows totals, each entity and direction, and the failed records", async () => {
        const element = await mount(ACTIVITY);
        expect(element.shadowRoot.querySelector('[data-id="totals"]').textContent).toBe(
            "3 created · 3 updated · 1 failed"
        );
        const rows = [...element.shadowRoot.querySelectorAll('[data-id="summaries"] tr')].map((tr) => tr.textContent);
        expect(rows[0]).toContain("Customer");
        expect(rows[0]).toContain("SF → QB");
        expect(rows[1]).toContain("QB → SF");
        const failure = element.shadowRoot.querySelector(`[data-row="${FAILURE.Record_Key__c}"]`);
        expect(failure.textContent).toContain("Acme Ltd");
        expect(failure.textContent).toContain("rename one of them");
    });

    it("Retry asks the connector to retry that record", async () => {
        const element = await mount(ACTIVITY);
        retry.mockResolvedValue();
        getActivity.mockResolvedValue({ ...ACTIVITY, failures: [] });
        element.shadowRoot.querySelector('[data-action="retry"]').click();
        await flush();
        await flush();
        expect(retry).toHaveBeenCalledWith({ activityId: FAILURE.Id });
        expect(element.shadowRoot.querySelector('[data-id="notice"]').textContent).toContain(
            "Acme Ltd: retry requested"
        );
        expect(element.shadowRoot.querySelector('[data-id="failures"]')).toBeNull();
    });

    it("shows why Retry failed", async () => {
        const element = await mount(ACTIVITY);
        retry.mockRejectedValue({ body: { message: "This failure is gone (retried or purged); refresh the list." } });
        element.shadowRoot.querySelector('[data-action="retry"]').click();
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="error"]').textContent).toContain("refresh the list");
    });
});
