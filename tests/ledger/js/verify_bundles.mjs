// Independent check of Opsure proof bundles with OpenZeppelin's merkle-tree library
// (run by tests/ledger/test_anchoring.py and test_proofs_verify.py).
// stdin:  {"bundles": [bundle, ...]}
// stdout: {"results": [bool, ...], "leafHashes": [hex, ...]}
//   results[i] = StandardMerkleTree.verify(root, leafEncoding, value, proof) of bundles[i]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const require = createRequire(path.join(repo, "contracts", "package.json"));
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { standardLeafHash } = require("@openzeppelin/merkle-tree/dist/hashes");

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function verify(bundle) {
  try {
    return StandardMerkleTree.verify(bundle.root, bundle.leafEncoding, bundle.value, bundle.proof);
  } catch {
    return false;
  }
}

function leafHash(bundle) {
  try {
    return standardLeafHash(bundle.leafEncoding, bundle.value);
  } catch {
    return null;
  }
}

const { bundles } = JSON.parse(await readStdin());
process.stdout.write(
  JSON.stringify({ results: bundles.map(verify), leafHashes: bundles.map(leafHash) }),
);
