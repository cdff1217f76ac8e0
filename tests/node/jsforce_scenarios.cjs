// Drives the Salesforce emulator with jsforce, unchanged: `node jsforce_scenarios.cjs <scenario>`.
// The emulator's URL and credentials come from QBSF_SF_URL, QBSF_SF_TOKEN, QBSF_SF_USERNAME and QBSF_SF_PASSWORD
// (its CA certificate from NODE_EXTRA_CA_CERTS). Prints one JSON object: what each step saw, for pytest to check.
'use strict';

const jsforce = require('jsforce');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// An API error as jsforce surfaces it: its errorCode, message and HTTP status (or the plain message).
const failure = async (promise) => {
  try {
    const value = await promise;
    return { ok: true, value };
  } catch (err) {
    return { ok: false, name: err.name, errorCode: err.errorCode, message: err.message, fields: err.fields };
  }
};

const tokenConnection = () => new jsforce.Connection({
  instanceUrl: env('QBSF_SF_URL'), accessToken: env('QBSF_SF_TOKEN'), version: process.env.QBSF_SF_VERSION || '62.0',
});

const scenarios = {
  // Session by access token: identity, the record life cycle, upsert by external id, query, describe, limits.
  async crud() {
    const conn = tokenConnection();
    const out = {};
    out.identity = await conn.identity();
    const accounts = conn.sobject('Account');
    out.created = await accounts.create({ Name: 'Acme Corp', BillingCity: 'Paris' });
    const id = out.created.id;
    out.retrieved = await accounts.retrieve(id);
    out.updated = await accounts.update({ Id: id, BillingCity: 'Lyon' });
    out.upsertCreated = await accounts.upsert({ Name: 'Globex', QB_Customer_ID__c: '80000001-1' }, 'QB_Customer_ID__c');
    out.upsertUpdated = await accounts.upsert({ Name: 'Globex Corp', QB_Customer_ID__c: '80000001-1' },
      'QB_Customer_ID__c');
    out.query = await conn.query("SELECT Id, Name, BillingCity FROM Account ORDER BY Name");
    out.describe = await accounts.describe();
    out.limits = await conn.limits();
    out.destroyed = await accounts.destroy(id);
    out.retrieveDeleted = await failure(accounts.retrieve(id));
    out.updateDeleted = await failure(accounts.update({ Id: id, Name: 'again' }));
    out.destroyDeleted = await failure(accounts.destroy(id));
    return out;
  },

  // Query paging: queryMore through nextRecordsUrl until done.
  async paging() {
    const conn = tokenConnection();
    const records = [];
    for (let i = 0; i < 2100; i += 1) records.push({ Name: `Paged ${String(i).padStart(4, '0')}` });
    const created = [];
    for (let start = 0; start < records.length; start += 200) {
      created.push(...await conn.sobject('Account').create(records.slice(start, start + 200), { allOrNone: true }));
    }
    const first = await conn.query('SELECT Id, Name FROM Account ORDER BY Name');
    const all = await conn.query('SELECT Id, Name FROM Account ORDER BY Name', { autoFetch: true, maxFetch: 5000 });
    const names = all.records.map((r) => r.Name);
    return { created: created.filter((r) => r.success).length, firstPage: first.records.length, done: first.done,
      totalSize: first.totalSize, hasNext: Boolean(first.nextRecordsUrl), fetched: names.length,
      distinct: new Set(all.records.map((r) => r.Id)).size, sorted: names.every((n, i) => i === 0 || names[i - 1] <= n) };
  },

  // What Salesforce's errors look like through jsforce: SOQL, JSON types, repeated external ids in one request.
  async errors() {
    const conn = tokenConnection();
    const out = {};
    out.badField = await failure(conn.query('SELECT Nme FROM Account'));
    out.badType = await failure(conn.sobject('Account').create({ Name: 'Typed', NumberOfEmployees: 'many' }));
    out.spaceDatetime = await failure(conn.sobject('Contact').create({ LastName: 'Doe',
      EmailBouncedDate: '2026-01-05 10:00:00' }));
    out.upserted = await conn.sobject('Account').upsert([
      { Name: 'One', QB_Customer_ID__c: 'J-1' }, { Name: 'Two', QB_Customer_ID__c: 'J-1' },
      { Name: 'Three', QB_Customer_ID__c: 'J-2' }], 'QB_Customer_ID__c');
    return out;
  },

  // Bulk API 2.0 through jsforce's bulk2: create, upload, close, poll, results.
  async bulk2() {
    const conn = tokenConnection();
    conn.bulk2.pollInterval = 200;
    conn.bulk2.pollTimeout = 30000;
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account', operation: 'upsert', externalIdFieldName: 'QB_Customer_ID__c',
      input: 'Name,QB_Customer_ID__c\nBulk A,K-1\nBulk B,K-2\n,K-3\n',
    });
    return results;
  },

  // The partner SOAP API's login(): username and password, no connected app.
  async soap_login() {
    const url = env('QBSF_SF_URL');
    const conn = new jsforce.Connection({ loginUrl: url, version: '62.0' });
    const out = {};
    out.userInfo = await conn.login(env('QBSF_SF_USERNAME'), env('QBSF_SF_PASSWORD'));
    out.instanceUrl = conn.instanceUrl;
    out.organization = await conn.query('SELECT Id, Name, IsSandbox FROM Organization');
    out.badPassword = await failure(new jsforce.Connection({ loginUrl: url, version: '62.0' })
      .login(env('QBSF_SF_USERNAME'), 'wrong'));
    out.retiredVersion = await failure(new jsforce.Connection({ loginUrl: url, version: '65.0' })
      .login(env('QBSF_SF_USERNAME'), env('QBSF_SF_PASSWORD')));
    return out;
  },
};

(async () => {
  const name = process.argv[2];
  if (!scenarios[name]) throw new Error(`unknown scenario ${name}: choose one of ${Object.keys(scenarios).join(', ')}`);
  const result = await scenarios[name]();
  process.stdout.write(`${JSON.stringify(result)}\n`);
})().catch((err) => {
  process.stderr.write(`${err.stack || err}\n${JSON.stringify({ errorCode: err.errorCode, message: err.message })}\n`);
  process.exit(1);
});
