// Actions are not taken in a screenshot.
export default () => Promise.resolve();
