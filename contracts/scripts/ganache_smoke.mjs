// Deploys the committed AnchorRegistry artifact on in-process ganache nodes (one per
// hardfork given on the command line, default: merge shanghai) and exercises it with
// ethers and @openzeppelin/merkle-tree. Prints one JSON line per hardfork; exits
// non-zero on the first failure. Used by tests/ledger/test_contracts.py.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ganache = require('ganache');
const { ethers } = require('ethers');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const artifact = JSON.parse(
  fs.readFileSync(path.join(HERE, '..', 'artifacts', 'AnchorRegistry.json'), 'utf8'),
);

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

async function expectCustomError(promise, iface, name) {
  try {
    await promise;
  } catch (err) {
    const data = err?.data ?? err?.info?.error?.data ?? err?.error?.data;
    const hex = typeof data === 'string' ? data : data?.data;
    const parsed = hex ? iface.parseError(hex) : null;
    assert(parsed?.name === name, `expected ${name}, got ${parsed?.name ?? err.message}`);
    return;
  }
  throw new Error(`expected revert ${name}, call succeeded`);
}

async function run(hardfork) {
  const node = ganache.provider({
    chain: { hardfork, chainId: 1337 },
    wallet: { totalAccounts: 2, deterministic: true },
    logging: { quiet: true },
  });
  try {
    const provider = new ethers.BrowserProvider(node);
    const admin = await provider.getSigner(0);
    const other = await provider.getSigner(1);
    const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, admin);
    const registry = await factory.deploy(await admin.getAddress());
    await registry.waitForDeployment();
    const code = await provider.getCode(await registry.getAddress());
    assert(code === artifact.deployedBytecode, 'deployed code equals artifact deployedBytecode');

    const values = [1, 2, 3, 4, 5].map((i) => [ethers.keccak256(ethers.toBeHex(i, 32)), `${i}`]);
    const tree = StandardMerkleTree.of(values, ['bytes32', 'uint256']);
    const receipt = await (await registry.anchor(tree.root, values.length, 1)).wait();
    assert(receipt.status === 1, 'anchor succeeded');
    const ev = receipt.logs.map((l) => registry.interface.parseLog(l)).find((e) => e?.name === 'Anchored');
    assert(ev && ev.args.root === tree.root && ev.args.count === 5n, 'Anchored event');
    const at = await registry.anchoredAt(tree.root);
    assert(at === BigInt(receipt.blockNumber), 'anchoredAt is the block number');

    const leaf = ethers.keccak256(
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], values[2])),
    );
    assert(await registry.verify(tree.getProof(2), tree.root, leaf), 'verify(proof) is true');
    assert(!(await registry.verify(tree.getProof(3), tree.root, leaf)), 'wrong proof is false');

    await expectCustomError(
      registry.anchor.staticCall(tree.root, 5, 1),
      registry.interface,
      'RootAlreadyAnchored',
    );
    await expectCustomError(
      registry.connect(other).anchor.staticCall(ethers.ZeroHash.replace(/0$/, '1'), 1, 1),
      registry.interface,
      'AccessControlUnauthorizedAccount',
    );
    return { hardfork, ok: true, blockNumber: receipt.blockNumber, gasUsed: `${receipt.gasUsed}` };
  } finally {
    await node.disconnect();
  }
}

const forks = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['merge', 'shanghai'];
for (const hardfork of forks) {
  try {
    process.stdout.write(`${JSON.stringify(await run(hardfork))}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ hardfork, ok: false, error: String(err?.message ?? err) })}\n`);
    process.exit(1);
  }
}
