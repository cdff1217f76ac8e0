import { activity } from "../sample.js";
export default () => Promise.resolve(activity);
