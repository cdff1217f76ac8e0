import { createElement } from "lwc";
import QbsfMappings, { precheck } from "c/qbsfMappings";
import LightningConfirm from "lightning/confirm";
import getMappings from "@salesforce/apex/QBSFDashboardController.getMappings";
import uploadMapping from "@salesforce/apex/QBSFDashboardController.uploadMapping";
import getMappingBody from "@salesforce/apex/QBSFDashboardController.getMappingBody";
import deleteMapping from "@salesforce/apex/QBSFDashboardController.deleteMapping";

jest.mock("lightning/confirm", () => ({ __esModule: true, default: { open: jest.fn() } }));
jest.mock("@salesforce/apex/QBSFDashboardController.getMappings", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.uploadMapping", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.getMappingBody", () => ({ default: jest.fn() }), { virtual: true });
jest.mock("@salesforce/apex/QBSFDashboardController.deleteMapping", () => ({ default: jest.fn() }), { virtual: true });

const HEADER = "SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes";
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

const ACTIVE = {
    Id: "a01000000000001",
    Name: "Acct_to_Customer.csv",
    Sheet__c: "Account to Customer",
    State__c: "Active"
};
const REJECTED = {
    Id: "a01000000000002",
    Name: "Oppty_to_Invoice.csv",
    State__c: "Rejected",
    Errors__c:
        "Oppty_to_Invoice.csv:3: Opportunity has no field Amout__c (did you mean Amount?)\nOppty_to_Invoice.csv:7: unknown transformation Trimm"
};
const PENDING = { Id: "a01000000000003", Name: "Product_to_Item.csv", State__c: "Pending" };

async function mount(rows) {
    getMappings.mockResolvedValue(rows);
    const element = createElement("c-qbsf-mappings", { is: QbsfMappings });
    document.body.appendChild(element);
    await flush();
    return element;
}

function chooseFile(element, name, text) {
    const input = element.shadowRoot.querySelector('[data-id="upload"]');
    const file = { name, text: () => Promise.resolve(text) };
    input.dispatchEvent(new CustomEvent("change", { detail: { files: [file] } }));
}

const row = (element, name) => element.shadowRoot.querySelector(`[data-row="${name}"]`);

describe("c-qbsf-mappings", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
    });

    it("says the local folder is used when no mapping is stored", async () => {
        const element = await mount([]);
        expect(element.shadowRoot.querySelector('[data-id="empty"]').textContent).toContain("local mappings folder");
    });

    it("lists active, pending and rejected mappings, with the rejected one's line errors", async () => {
        const element = await mount([ACTIVE, REJECTED, PENDING]);
        expect(row(element, "Acct_to_Customer.csv").querySelector('[data-id="state"]').className).toContain(
            "slds-theme_success"
        );
        expect(row(element, "Product_to_Item.csv").textContent).toContain("Waiting for the connector");
        const errors = [...row(element, "Oppty_to_Invoice.csv").querySelectorAll('[data-id="rejected-errors"] li')];
        expect(errors.map((li) => li.textContent)).toEqual([
            "Oppty_to_Invoice.csv:3: Opportunity has no field Amout__c (did you mean Amount?)",
            "Oppty_to_Invoice.csv:7: unknown transformation Trimm"
        ]);
        expect(row(element, "Acct_to_Customer.csv").querySelector('[data-id="rejected-errors"]')).toBeNull();
    });

    it("uploads a CSV as a pending mapping and lists it", async () => {
        const element = await mount([]);
        uploadMapping.mockResolvedValue(PENDING.Id);
        getMappings.mockResolvedValue([PENDING]);
        chooseFile(element, "Product_to_Item.csv", `${HEADER}\nName,Name,Y,Trim,,\n`);
        await flush();
        await flush();
        expect(uploadMapping).toHaveBeenCalledWith({
            fileName: "Product_to_Item.csv",
            body: `${HEADER}\nName,Name,Y,Trim,,\n`
        });
        expect(element.shadowRoot.querySelector('[data-id="notice"]').textContent).toContain(
            "checks it on its next cycle"
        );
        expect(row(element, "Product_to_Item.csv")).not.toBeNull();
    });

    it("shows line errors and stores nothing when the file has no mapping header", async () => {
        const element = await mount([ACTIVE]);
        chooseFile(element, "notes.csv", "Name,Phone\nAcme,555\n");
        await flush();
        await flush();
        expect(uploadMapping).not.toHaveBeenCalled();
        const lines = [...element.shadowRoot.querySelectorAll('[data-id="line-errors"] li')].map(
            (li) => li.textContent
        );
        expect(lines).toEqual([
            "notes.csv:1: the header row has no SF_Field_API_Name or QB_Field_Name column (export the sheet as CSV with its header)"
        ]);
    });

    it("shows the server's refusal", async () => {
        const element = await mount([]);
        uploadMapping.mockRejectedValue({
            body: { message: "big.csv: 200000 characters; a mapping holds at most 131072." }
        });
        chooseFile(element, "big.csv", `${HEADER}\n`);
        await flush();
        await flush();
        expect(element.shadowRoot.querySelector('[data-id="error"]').textContent).toContain("at most 131072");
    });

    it("downloads the stored CSV", async () => {
        const element = await mount([ACTIVE]);
        getMappingBody.mockResolvedValue(`${HEADER}\n`);
        const click = jest.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
        row(element, "Acct_to_Customer.csv").querySelector('[data-action="download"]').click();
        await flush();
        expect(getMappingBody).toHaveBeenCalledWith({ mappingId: ACTIVE.Id });
        expect(click).toHaveBeenCalled();
        click.mockRestore();
    });

    it("deletes after confirmation only", async () => {
        const element = await mount([ACTIVE]);
        LightningConfirm.open.mockResolvedValue(false);
        row(element, "Acct_to_Customer.csv").querySelector('[data-action="delete"]').click();
        await flush();
        expect(deleteMapping).not.toHaveBeenCalled();
        LightningConfirm.open.mockResolvedValue(true);
        deleteMapping.mockResolvedValue();
        getMappings.mockResolvedValue([]);
        row(element, "Acct_to_Customer.csv").querySelector('[data-action="delete"]').click();
        await flush();
        await flush();
        expect(deleteMapping).toHaveBeenCalledWith({ mappingId: ACTIVE.Id });
        expect(row(element, "Acct_to_Customer.csv")).toBeNull();
    });

    it("prechecks names the file and line", () => {
        expect(precheck("a.csv", "")).toEqual(["a.csv:1: the file is empty"]);
        expect(precheck("a.csv", `sep=,\n${HEADER}\nName,Name,Y,,,`)).toEqual([]);
        expect(precheck("a.csv", "\uFEFF" + HEADER.replace(/,/g, ";"))).toEqual([]);
    });
});
