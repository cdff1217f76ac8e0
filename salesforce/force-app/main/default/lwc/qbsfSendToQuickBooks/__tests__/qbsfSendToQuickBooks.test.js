import { createElement } from "lwc";
import QbsfSendToQuickBooks from "c/qbsfSendToQuickBooks";
import sendToQuickBooks from "@salesforce/apex/QBSFRecordController.sendToQuickBooks";

// The event lightning/platformShowToastEvent's ShowToastEvent dispatches.
const ShowToastEventName = "lightning__showtoast";

jest.mock("@salesforce/apex/QBSFRecordController.sendToQuickBooks", () => ({ default: jest.fn() }), { virtual: true });

function mount() {
    const element = createElement("c-qbsf-send-to-quick-books", { is: QbsfSendToQuickBooks });
    element.recordId = "001000000000001AAA";
    document.body.appendChild(element);
    const toasts = [];
    element.addEventListener(ShowToastEventName, (event) => toasts.push(event.detail));
    return { element, toasts };
}

describe("c-qbsf-send-to-quick-books", () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
    });

    it("queues the record and says so", async () => {
        sendToQuickBooks.mockResolvedValue("Queued for QuickBooks: the connector sends it on its next cycle.");
        const { element, toasts } = mount();
        await element.invoke();
        expect(sendToQuickBooks).toHaveBeenCalledWith({ recordId: "001000000000001AAA" });
        expect(toasts).toEqual([
            expect.objectContaining({
                variant: "success",
                message: "Queued for QuickBooks: the connector sends it on its next cycle."
            })
        ]);
    });

    it("shows the reason when the record cannot be sent", async () => {
        sendToQuickBooks.mockRejectedValue({ body: { message: "Lead records are not synced to QuickBooks." } });
        const { element, toasts } = mount();
        await element.invoke();
        expect(toasts).toEqual([
            expect.objectContaining({ variant: "error", message: "Lead records are not synced to QuickBooks." })
        ]);
    });

    it("a double click sends once", async () => {
        let finish;
        sendToQuickBooks.mockReturnValue(new Promise((resolve) => (finish = resolve)));
        const { element } = mount();
        const first = element.invoke();
        await element.invoke();
        finish("ok");
        await first;
        expect(sendToQuickBooks).toHaveBeenCalledTimes(1);
    });
});
