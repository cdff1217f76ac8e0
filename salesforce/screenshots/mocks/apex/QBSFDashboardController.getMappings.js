import { mappings } from "../sample.js";
export default () => Promise.resolve(mappings);
