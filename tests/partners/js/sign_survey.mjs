// Sign Opsure records with ethers v6 (independent of Opsure's Python code).
// stdin: {"records": [{"privateKey", "domain", "primaryType", "types", "message"}]}
//   types: the record's struct types WITHOUT EIP712Domain (as Wallet.signTypedData takes them)
// stdout: {"results": [{"address", "signature", "digest", "typedData"}]}
//   typedData = TypedDataEncoder.getPayload(domain, types, message): what a client submits.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const require = createRequire(path.join(repo, "contracts", "package.json"));
const { ethers } = require("ethers");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { records } = JSON.parse(input);

const results = [];
for (const r of records) {
  const wallet = new ethers.Wallet(r.privateKey);
  const signature = await wallet.signTypedData(r.domain, r.types, r.message);
  const digest = ethers.TypedDataEncoder.hash(r.domain, r.types, r.message);
  const recovered = ethers.verifyTypedData(r.domain, r.types, r.message, signature);
  if (recovered !== wallet.address) throw new Error(`ethers recovered ${recovered}, not ${wallet.address}`);
  results.push({
    address: wallet.address,
    signature,
    digest,
    typedData: ethers.TypedDataEncoder.getPayload(r.domain, r.types, r.message),
  });
}
process.stdout.write(JSON.stringify({ results }));
