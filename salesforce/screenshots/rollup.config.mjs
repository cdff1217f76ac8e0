// Builds dist/main.js: the package's components mounted outside an org with LWC OSS, lightning-base-components and
// synthetic shadow (so SLDS styles them as in Lightning Experience). Apex calls are answered by mocks/apex/*.js.
import path from "node:path";
import { fileURLToPath } from "node:url";
import lwc from "@lwc/rollup-plugin";
import alias from "@rollup/plugin-alias";
import replace from "@rollup/plugin-replace";
import { nodeResolve } from "@rollup/plugin-node-resolve";

const here = path.dirname(fileURLToPath(import.meta.url));
const components = path.resolve(here, "../force-app/main/default/lwc");
const names = ["qbsfDashboard", "qbsfMappings", "qbsfTimestamps", "qbsfActivity", "qbsfInvoices", "qbsfStatusBadge"];

export default {
    input: path.join(here, "src/main.js"),
    output: { dir: path.join(here, "dist"), format: "esm", inlineDynamicImports: true },
    plugins: [
        alias({
            entries: [
                // one engine for everything: the components' own `import "lwc"` would otherwise find the jest copy
                { find: /^lwc$/, replacement: path.join(here, "node_modules/@lwc/engine-dom/dist/index.js") },
                { find: /^@salesforce\/apex\/(.*)$/, replacement: path.join(here, "mocks/apex/$1.js") }
            ]
        }),
        lwc({
            rootDir: here,
            modules: [
                ...names.map((name) => ({ name: `c/${name}`, path: path.join(components, name, `${name}.js`) })),
                { dir: path.join(here, "node_modules/lightning-base-components/src") }
            ]
        }),
        replace({
            preventAssignment: true,
            values: { "process.env.NODE_ENV": JSON.stringify("production"), "import.meta.env.SSR": "false" }
        }),
        nodeResolve()
    ]
};
