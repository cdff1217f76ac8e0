import { status } from "../sample.js";
export default () => Promise.resolve(status());
