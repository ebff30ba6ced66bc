#!/usr/bin/env node
// Run every graphql-http server audit (MUST, SHOULD and MAY) against a GraphQL endpoint.
//
// Usage: node tests/js/graphql_http_audit.mjs http://127.0.0.1:8000/graphql
//
// graphql-http is resolved from contracts/node_modules (pinned in contracts/package.json;
// install with `npm ci --prefix contracts`), or from GRAPHQL_HTTP_DIR when set.
// Prints a JSON summary on stdout: counts per status and one entry per audit.
// Exit status: 0 when every audit is "ok"; 1 when any is "warn", "notice" or "error";
// 2 on usage errors or when graphql-http cannot be loaded.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const contracts = process.env.GRAPHQL_HTTP_DIR || path.resolve(here, '..', '..', 'contracts');

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql_http_audit.mjs <graphql-url>');
  process.exit(2);
}

let serverAudits;
let version = 'unknown';
try {
  const require = createRequire(path.join(contracts, 'package.json'));
  ({ serverAudits } = require('graphql-http'));
  version = require('graphql-http/package.json').version;
} catch (err) {
  console.error(`cannot load graphql-http from ${contracts}/node_modules: ${err.message}`);
  process.exit(2);
}

const audits = serverAudits({ url });
const results = [];
for (const audit of audits) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    result = { id: audit.id, name: audit.name, status: 'error', reason: `audit threw: ${err.message}` };
  }
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    if (result.response) {
      entry.httpStatus = result.response.status;
      entry.contentType = result.response.headers.get('content-type');
      try {
        entry.body = (await result.response.text()).slice(0, 500);
      } catch {
        // body already consumed by the audit
      }
    }
  }
  results.push(entry);
}

const count = (s) => results.filter((r) => r.status === s).length;
const summary = {
  graphqlHttpVersion: version,
  url,
  total: results.length,
  ok: count('ok'),
  notice: count('notice'),
  warn: count('warn'),
  error: count('error'),
  failures: results.filter((r) => r.status !== 'ok'),
  audits: results.map(({ id, name, status }) => ({ id, name, status })),
};
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok === summary.total ? 0 : 1);
