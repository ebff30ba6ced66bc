// Reproducible build of the Opsure ledger contracts with the pinned npm `solc`.
//
//   node build.mjs          compile and write the artifacts (npm run build)
//   node build.mjs --check  compile into a temp dir and fail if any committed
//                           artifact differs by one byte (npm run check)
//
// Artifacts are written to contracts/artifacts/<Name>.json and, so the Python
// package is self-contained, to ledger/artifacts/<Name>.json (identical bytes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const NODE_MODULES = path.join(HERE, 'node_modules');

// Contracts to build: source unit name (relative to contracts/) -> contract names.
const CONTRACTS = {
  'src/AnchorRegistry.sol': ['AnchorRegistry'],
};

// Where the committed artifacts live (relative to the repo root).
const OUTPUT_DIRS = ['contracts/artifacts', 'ledger/artifacts'];

// Compiler settings. `paris` (no PUSH0, MCOPY, TSTORE) runs on Hyperledger Besu at any
// milestone from London on, on ganache 7.9 and on py-evm. `bytecodeHash: none` keeps
// source comments and paths out of the bytecode.
const SETTINGS = {
  evmVersion: 'paris',
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  metadata: { bytecodeHash: 'none', useLiteralContent: true },
  remappings: [],
};

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

function findImports(importPath) {
  // Only npm packages (e.g. @openzeppelin/contracts/...) are resolved from node_modules;
  // project sources are passed in directly.
  const candidate = path.resolve(NODE_MODULES, importPath);
  if (!candidate.startsWith(NODE_MODULES + path.sep)) {
    return { error: `import escapes node_modules: ${importPath}` };
  }
  try {
    return { contents: fs.readFileSync(candidate, 'utf8') };
  } catch {
    return { error: `not found: ${importPath} (run "npm ci" in contracts/)` };
  }
}

function compile() {
  const sources = {};
  for (const unit of Object.keys(CONTRACTS)) {
    sources[unit] = { content: fs.readFileSync(path.join(HERE, unit), 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      ...SETTINGS,
      outputSelection: {
        '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diagnostics = output.errors ?? [];
  for (const d of diagnostics) {
    process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
  }
  if (diagnostics.some((d) => d.severity === 'error')) {
    throw new Error('solc reported errors');
  }
  const compiler = { version: solc.version(), settings: sortKeys(SETTINGS) };
  const artifacts = {};
  for (const [unit, names] of Object.entries(CONTRACTS)) {
    for (const name of names) {
      const c = output.contracts?.[unit]?.[name];
      if (!c) throw new Error(`solc produced no output for ${unit}:${name}`);
      if (!c.evm.bytecode.object) throw new Error(`${name} has empty bytecode`);
      const artifact = {
        contractName: name,
        abi: sortKeys(c.abi),
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        compiler,
      };
      artifacts[`${name}.json`] = `${JSON.stringify(artifact, null, 2)}\n`;
    }
  }
  return artifacts;
}

function writeAll(rootDir, artifacts) {
  for (const dir of OUTPUT_DIRS) {
    const target = path.join(rootDir, dir);
    fs.mkdirSync(target, { recursive: true });
    for (const [file, text] of Object.entries(artifacts)) {
      fs.writeFileSync(path.join(target, file), text);
    }
  }
}

function check(artifacts) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opsure-contracts-'));
  const problems = [];
  try {
    writeAll(tmp, artifacts);
    for (const dir of OUTPUT_DIRS) {
      for (const file of Object.keys(artifacts)) {
        const rel = path.join(dir, file);
        const fresh = fs.readFileSync(path.join(tmp, rel));
        let committed;
        try {
          committed = fs.readFileSync(path.join(REPO, rel));
        } catch {
          problems.push(`${rel}: missing (run "npm run build" in contracts/)`);
          continue;
        }
        if (!fresh.equals(committed)) {
          let at = 0;
          while (at < fresh.length && at < committed.length && fresh[at] === committed[at]) at++;
          problems.push(
            `${rel}: differs from a fresh build at byte ${at} ` +
              `(committed ${committed.length} bytes, rebuilt ${fresh.length} bytes)`,
          );
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    process.stderr.write(
      `artifact check FAILED: committed artifacts do not match a rebuild with solc ${solc.version()}\n` +
        problems.map((p) => `  - ${p}\n`).join('') +
        'Rebuild with "npm run build --prefix contracts" and commit the result.\n',
    );
    return false;
  }
  const n = Object.keys(artifacts).length * OUTPUT_DIRS.length;
  process.stdout.write(`artifact check OK: ${n} artifact(s) byte-identical (solc ${solc.version()})\n`);
  return true;
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`usage: node build.mjs [--check]\n`);
    process.exit(2);
  }
  const artifacts = compile();
  if (args.includes('--check')) {
    process.exit(check(artifacts) ? 0 : 1);
  }
  writeAll(REPO, artifacts);
  for (const dir of OUTPUT_DIRS) {
    for (const file of Object.keys(artifacts)) process.stdout.write(`wrote ${path.join(dir, file)}\n`);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`build failed: ${err.message}\n`);
  process.exit(1);
}
