// Cross-check helper for tests/ledger/test_merkle.py. Reads {"cases": [request, ...]}
// as JSON on stdin and writes {"results": [response, ...]} with what
// @openzeppelin/merkle-tree computes for each request.
//
// request:  { leafEncoding, values, root, pythonDump, proofs: [{value, proof}],
//             multiIndices?: [int], pythonMultiProof?: {leaves, proof, proofFlags} }
// response: { root, dump, render, jsProofs, verify: [bool], loadedRoot,
//             jsMultiProof?, verifyPythonMultiProof? }
// `dump` is JSON.stringify(tree.dump()); `loadedRoot` is the root of
// StandardMerkleTree.load(JSON.parse(pythonDump)), which re-validates every leaf.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function check(req) {
  const tree = StandardMerkleTree.of(req.values, req.leafEncoding);
  const loaded = StandardMerkleTree.load(JSON.parse(req.pythonDump));
  const res = {
    root: tree.root,
    dump: JSON.stringify(tree.dump()),
    render: tree.render(),
    jsProofs: req.values.map((_, i) => tree.getProof(i)),
    verify: (req.proofs ?? []).map(({ value, proof }) =>
      StandardMerkleTree.verify(req.root, req.leafEncoding, value, proof),
    ),
    loadedRoot: loaded.root,
  };
  if (req.multiIndices) {
    res.jsMultiProof = tree.getMultiProof(req.multiIndices);
  }
  if (req.pythonMultiProof) {
    res.verifyPythonMultiProof = StandardMerkleTree.verifyMultiProof(
      req.root,
      req.leafEncoding,
      req.pythonMultiProof,
    );
  }
  return res;
}

const { cases } = JSON.parse(await readStdin());
process.stdout.write(JSON.stringify({ results: cases.map(check) }));
