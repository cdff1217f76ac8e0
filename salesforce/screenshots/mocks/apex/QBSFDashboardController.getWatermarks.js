import { watermarks } from "../sample.js";
export default () => Promise.resolve(watermarks);
