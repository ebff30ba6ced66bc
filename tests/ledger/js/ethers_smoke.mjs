// ethers v6 JsonRpcProvider against the embedded node's RPC (run by test_node_ethers.py).
// usage: node ethers_smoke.mjs <rpc-url> <private-key> <chain-id> <init-code-hex>
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const require = createRequire(path.join(repo, "contracts", "package.json"));
const { ethers } = require("ethers");

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

const [url, key, chainIdArg, initCode] = process.argv.slice(2);
// ethers shares identical requests for 250 ms by default; this node mines within
// milliseconds, so back-to-back txs of one wallet would reuse a stale "pending" nonce.
// Disable the cache (or use ethers.NonceManager) when sending several txs quickly.
const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 50, cacheTimeout: -1 });
provider.pollingInterval = 50;

const network = await provider.getNetwork();
check(network.chainId === BigInt(chainIdArg), `chainId ${network.chainId}`);
const startNumber = await provider.getBlockNumber();
const genesis = await provider.getBlock(0);
check(genesis.number === 0 && genesis.hash.length === 66, "genesis block");

const wallet = new ethers.Wallet(key, provider);
const to = ethers.Wallet.createRandom().address;
const feeData = await provider.getFeeData();
check(feeData.maxFeePerGas > 0n, "fee data");
const transfer = await wallet.sendTransaction({ to, value: 12345n });
const transferReceipt = await transfer.wait();
check(transferReceipt.status === 1, "transfer status");
check((await provider.getBalance(to)) === 12345n, "balance of recipient");

const deploy = await wallet.sendTransaction({ data: initCode });
const deployReceipt = await deploy.wait();
check(deployReceipt.contractAddress !== null, "contract address");
const contract = deployReceipt.contractAddress;
const payload = ethers.concat([ethers.zeroPadValue("0x2a", 32), ethers.toUtf8Bytes("ethers")]);
const callTx = await wallet.sendTransaction({ to: contract, data: payload });
const callReceipt = await callTx.wait();
check(callReceipt.logs.length === 1, "one log");
const stored = await provider.call({ to: contract, data: "0x" });
check(BigInt(stored) === 42n, `stored value ${stored}`);
const logs = await provider.getLogs({ address: contract, fromBlock: 0, toBlock: "latest" });
check(logs.length === 1 && logs[0].transactionHash === callTx.hash, "getLogs");

let reverted = false;
try {
  await provider.call({ to: contract, data: "0xff01" });
} catch (err) {
  reverted = err.code === "CALL_EXCEPTION" && err.data === "0xff01";
}
check(reverted, "eth_call revert surfaces CALL_EXCEPTION with data");

const block = await provider.getBlock(callReceipt.blockNumber, true);
check(block.prefetchedTransactions.some((t) => t.hash === callTx.hash), "full block");
const fetched = await provider.getTransaction(callTx.hash);
check(fetched.from === wallet.address && fetched.type === 2, "transaction by hash");
const receipt = await provider.getTransactionReceipt(callTx.hash);

console.log(JSON.stringify({
  chainId: network.chainId.toString(),
  startNumber,
  endNumber: await provider.getBlockNumber(),
  transferHash: transfer.hash,
  callHash: callTx.hash,
  contract,
  receiptBlock: receipt.blockNumber,
  receiptBlockHash: receipt.blockHash,
  gasUsed: receipt.gasUsed.toString(),
}));
