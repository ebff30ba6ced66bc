// Copy the GraphiQL builds Opsure serves from web/node_modules into opsure/static/graphiql.
//
//   npm ci --prefix web && npm run vendor --prefix web
//
// The files and their npm paths are listed in opsure/static/graphiql/manifest.json; the
// versions are pinned in web/package.json. tests/opsure/test_graphiql.py checks that every
// vendored file equals the installed package's bytes, so a version bump without a refresh
// (or a hand edit of a vendored file) fails the suite.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TARGET = path.resolve(HERE, '..', 'opsure', 'static', 'graphiql');
const manifest = JSON.parse(fs.readFileSync(path.join(TARGET, 'manifest.json'), 'utf8'));

for (const [name, source] of Object.entries(manifest.files)) {
  const from = path.join(HERE, 'node_modules', source);
  if (!fs.existsSync(from)) {
    console.error(`${from} is missing: run \`npm ci --prefix web\` first`);
    process.exit(1);
  }
  fs.copyFileSync(from, path.join(TARGET, name));
  console.log(`${name} <- ${source}`);
}
