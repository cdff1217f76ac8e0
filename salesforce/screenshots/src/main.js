// One scene per page load (index.html#scene): the dashboard online or offline, or the invoices related list.
import "@lwc/synthetic-shadow";
import { createElement } from "lwc";
import Dashboard from "c/qbsfDashboard";
import Invoices from "c/qbsfInvoices";

const scene = window.location.hash.slice(1) || "dashboard";
window.QBSF_SCENE = scene;
const root = document.querySelector("#root");
if (scene === "invoices") {
    const element = createElement("c-qbsf-invoices", { is: Invoices });
    element.recordId = "001000000000001AAA";
    root.appendChild(element);
} else {
    root.appendChild(createElement("c-qbsf-dashboard", { is: Dashboard }));
}
