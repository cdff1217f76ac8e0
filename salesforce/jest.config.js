// LWC unit tests (sfdx-lwc-jest): every component under force-app/**/lwc has its tests in __tests__/.
const { jestConfig } = require("@salesforce/sfdx-lwc-jest/config");

module.exports = {
    ...jestConfig,
    testPathIgnorePatterns: ["<rootDir>/node_modules/", "<rootDir>/.sfdx/", "<rootDir>/.sf/"]
};
