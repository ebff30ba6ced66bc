#!/usr/bin/env node
// An assessor firm's side of Opsure in Node.js, top to bottom (copy it, then adapt it).
//
// 1. log in with the firm's OAuth2 client credentials (POST /oauth/token);
// 2. read the EIP-712 signing domain and record types the API publishes (partnerSigningDomain);
// 3. find the survey assignment for a case among the firm's own assignments;
// 4. build a SurveyReport, sign it with the firm's signer key (ethers), submit it (submitSignedRecord);
// 5. wait until Opsure anchors it on its ledger and fetch its proof bundle;
// 6. verify the bundle without trusting Opsure: the Merkle proof (@openzeppelin/merkle-tree)
//    and the root on chain through /rpc (ethers JsonRpcProvider).
//
// Needs Node.js >= 20 and `npm install ethers@6 @openzeppelin/merkle-tree` (examples/package.json).
// Settings come from arguments or the environment:
//
//   node partner_node.mjs --base-url http://127.0.0.1:8000 --client-id pc_… --client-secret … \
//       --signer-key-file assessor.key --case CLM-2026-0042 [--bundle-out bundle.json]
//
//   (OPSURE_BASE_URL, OPSURE_CLIENT_ID, OPSURE_CLIENT_SECRET, OPSURE_SIGNER_KEY_FILE, OPSURE_CASE)
//
// --verify-bundle FILE runs step 6 alone on a saved bundle (no login). Exit status: 0 when the
// record was accepted and its proof verified, 1 when verification failed, 2 when Opsure refused
// something (the printed error codes say what).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { ethers } from "ethers";

// Only what we call of Opsure's AnchorRegistry contract (a view, the contract's own check, its event).
const REGISTRY_ABI = [
  "function anchoredAt(bytes32 root) view returns (uint256 blockNumber)",
  "function verify(bytes32[] proof, bytes32 root, bytes32 leaf) view returns (bool)",
  "event Anchored(bytes32 indexed root, uint64 count, uint8 indexed kind, uint256 blockNumber, address indexed anchorer)",
];

const SIGNING_DOMAIN = `{ partnerSigningDomain { name version chainId verifyingContract
  types { name fields { name type } } } }`;
const ASSIGNMENTS = `query($after: String) { assignments(kind: SURVEY, first: 100, after: $after) {
  edges { node { id caseReference investigationId active } } pageInfo { hasNextPage endCursor } } }`;
const SUBMIT = `mutation($input: SignedRecordInput!) { submitSignedRecord(input: $input) {
  record { id digest commitment proof { status } } errors { field code message } } }`;
const PROOF = `query($id: ID!) { signedRecord(id: $id) { proof { status blockNumber txHash document } } }`;

/** Opsure refused a request; the message lists its error codes. */
class Refused extends Error {}

function step(n, text) {
  console.log(`[${n}] ${text}`);
}

// --- 1. log in -----------------------------------------------------------------------------------

/** An access token for the firm (OAuth2 client_credentials, credentials as HTTP Basic). */
async function login(baseUrl, clientId, clientSecret) {
  const resp = await fetch(`${baseUrl}/oauth/token`, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from(`${clientId}:${clientSecret}`).toString("base64") },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  if (resp.status !== 200) throw new Refused(`login refused (${resp.status}): ${await resp.text()}`);
  const token = await resp.json();
  step(1, `logged in as ${clientId}: ${token.token_type} token for ${token.expires_in} s`);
  return token.access_token;
}

/** Run one GraphQL document; a request-level error (bad token, forbidden, invalid) throws. */
async function graphql(baseUrl, token, query, variables = {}) {
  const resp = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await resp.json();
  if (body.errors?.length) {
    throw new Refused(body.errors.map((e) => `${e.extensions?.code ?? "?"}: ${e.message}`).join("; "));
  }
  return body.data;
}

// --- 2. the signing domain -----------------------------------------------------------------------

/** The EIP-712 domain and the record types, exactly as the API publishes them (never hard-coded). */
async function signingDomain(baseUrl, token) {
  const { partnerSigningDomain: published } = await graphql(baseUrl, token, SIGNING_DOMAIN);
  const { name, version, chainId, verifyingContract } = published;
  const domain = { name, version, chainId, verifyingContract };
  const types = Object.fromEntries(published.types.map((t) => [t.name, t.fields]));
  step(2, `signing domain ${name} v${version}, chain ${chainId}, contract ${verifyingContract}; ` +
    `record types ${Object.keys(types).join(", ")}`);
  return { domain, types };
}

// --- 3. the assignment ---------------------------------------------------------------------------

/** The firm's active survey assignment for `caseReference` (Opsure lists only our own). */
async function findAssignment(baseUrl, token, caseReference) {
  let after = null;
  for (;;) {
    const { assignments: page } = await graphql(baseUrl, token, ASSIGNMENTS, { after });
    const found = page.edges.map((e) => e.node).find((a) => a.caseReference === caseReference && a.active);
    if (found) {
      step(3, `assignment ${found.id}: case ${caseReference}, investigation ${found.investigationId}`);
      return found;
    }
    if (!page.pageInfo.hasNextPage) throw new Refused(`no active survey assignment for case ${caseReference}`);
    after = page.pageInfo.endCursor;
  }
}

// --- 4. sign and submit --------------------------------------------------------------------------

/** The SurveyReport message: the findings travel only as a hash (the document stays with us). */
function surveyReport(assignment, assessor, findings, conclusion) {
  return {
    investigationId: assignment.investigationId, // uint256 as a decimal string, as the API gives it
    caseReference: assignment.caseReference,
    findingsCommitment: "0x" + createHash("sha256").update(findings).digest("hex"),
    conclusionCode: conclusion,
    assessor,
    nonce: ethers.toBigInt(ethers.randomBytes(8)).toString(), // fresh per signer: a reused one is NONCE_REUSED
    deadline: String(Math.floor(Date.now() / 1000) + 600), // refused after this (DEADLINE_PASSED)
  };
}

/** Sign the report as EIP-712 typed data and submit it; returns the accepted record. */
async function signAndSubmit(baseUrl, token, domain, types, wallet, message) {
  const recordTypes = { SurveyReport: types.SurveyReport };
  const signature = await wallet.signTypedData(domain, recordTypes, message);
  // What we submit is the typed data exactly as signed: {types (with EIP712Domain), primaryType, domain, message}.
  const typedData = ethers.TypedDataEncoder.getPayload(domain, recordTypes, message);
  const { submitSignedRecord: result } = await graphql(baseUrl, token, SUBMIT, { input: { typedData, signature } });
  if (result.errors.length) { // every refusal has a code: NOT_ASSIGNED, WRONG_SIGNER, NONCE_REUSED, ...
    throw new Refused(result.errors.map((e) => `${e.code} (${e.field}): ${e.message}`).join("; "));
  }
  const record = result.record;
  step(4, `signed SurveyReport (digest ${record.digest}) as ${wallet.address}; accepted as record ` +
    `${record.id}, commitment ${record.commitment}, proof ${record.proof.status}`);
  return record;
}

// --- 5. wait for the anchor ----------------------------------------------------------------------

/** Poll the record until its proof is ANCHORED; returns the proof bundle (its JSON document). */
async function waitAnchored(baseUrl, token, recordId, timeoutSeconds) {
  const until = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const { signedRecord } = await graphql(baseUrl, token, PROOF, { id: recordId });
    const proof = signedRecord.proof;
    if (proof.status === "ANCHORED") {
      step(5, `anchored in block ${proof.blockNumber}, transaction ${proof.txHash}`);
      return JSON.parse(proof.document);
    }
    if (Date.now() > until) throw new Refused(`not anchored after ${timeoutSeconds} s (status ${proof.status})`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// --- 6. verify it independently ------------------------------------------------------------------

/** Every reason the bundle fails (empty: it holds), checked off chain and then on chain. */
async function verify(bundle, rpcUrl, { commitment, contract } = {}) {
  const problems = [];
  if (commitment && bundle.value[0].toLowerCase() !== commitment.toLowerCase()) {
    problems.push("the bundle is not for our record's commitment");
  }
  if (contract && bundle.contract.toLowerCase() !== contract.toLowerCase()) {
    problems.push("the bundle names another contract than the signing domain's");
  }
  let merkleOk = false;
  try {
    merkleOk = StandardMerkleTree.verify(bundle.root, bundle.leafEncoding, bundle.value, bundle.proof);
  } catch (err) { // a malformed value or proof node
    problems.push(`the Merkle proof cannot be read: ${err.message}`);
  }
  if (merkleOk) console.log(`    Merkle proof: StandardMerkleTree.verify holds for root ${bundle.root}`);
  else problems.push("the Merkle proof does not lead to the bundle's root");

  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    const { chainId } = await provider.getNetwork();
    if (chainId !== BigInt(bundle.chainId)) return [...problems, `the RPC serves chain ${chainId}, not ${bundle.chainId}`];
    const registry = new ethers.Contract(bundle.contract, REGISTRY_ABI, provider);
    const atBlock = await registry.anchoredAt(bundle.root);
    if (atBlock !== BigInt(bundle.blockNumber)) {
      problems.push(`the registry has the root anchored at block ${atBlock}, not ${bundle.blockNumber}`);
    } else {
      console.log(`    on chain: anchoredAt(root) = block ${atBlock}`);
    }
    const receipt = await provider.getTransactionReceipt(bundle.txHash);
    const anchored = (receipt?.logs ?? [])
      .filter((log) => log.address.toLowerCase() === bundle.contract.toLowerCase())
      .map((log) => registry.interface.parseLog(log))
      .some((event) => event?.name === "Anchored" && event.args.root === bundle.root.toLowerCase());
    if (!anchored || BigInt(receipt.blockNumber) !== atBlock) {
      problems.push("the anchoring transaction did not emit Anchored for this root in that block");
    } else {
      console.log(`    on chain: transaction ${bundle.txHash} emitted Anchored(root)`);
    }
    // The leaf as the contract takes it: keccak256(bytes.concat(keccak256(abi.encode(value)))).
    const encoded = ethers.AbiCoder.defaultAbiCoder().encode(bundle.leafEncoding, bundle.value);
    const leaf = ethers.keccak256(ethers.keccak256(encoded));
    if (!(await registry.verify(bundle.proof, bundle.root, leaf))) {
      problems.push("the registry's own verify(proof, root, leaf) says no");
    } else {
      console.log("    on chain: AnchorRegistry.verify(proof, root, leaf) = true");
    }
  } catch (err) { // no such transaction, no registry at that address, ...
    problems.push(`the chain could not confirm it: ${err.shortMessage ?? err.message}`);
  } finally {
    provider.destroy();
  }
  return problems;
}

function verdict(problems) {
  if (problems.length) {
    console.log("verdict: NOT VERIFIED: " + problems.join("; "));
    return 1;
  }
  console.log("verdict: VERIFIED");
  return 0;
}

async function main() {
  const env = process.env;
  const { values: args } = parseArgs({
    options: {
      "base-url": { type: "string", default: env.OPSURE_BASE_URL ?? "http://127.0.0.1:8000" },
      "client-id": { type: "string", default: env.OPSURE_CLIENT_ID },
      "client-secret": { type: "string", default: env.OPSURE_CLIENT_SECRET },
      "signer-key-file": { type: "string", default: env.OPSURE_SIGNER_KEY_FILE },
      case: { type: "string", default: env.OPSURE_CASE },
      conclusion: { type: "string", default: "1" },
      findings: { type: "string" },
      "bundle-out": { type: "string" },
      timeout: { type: "string", default: "60" },
      "verify-bundle": { type: "string" },
    },
  });
  const baseUrl = args["base-url"].replace(/\/+$/, "");

  if (args["verify-bundle"]) {
    step(6, `verifying ${args["verify-bundle"]} against ${baseUrl}/rpc`);
    return verdict(await verify(JSON.parse(readFileSync(args["verify-bundle"], "utf8")), `${baseUrl}/rpc`));
  }
  const missing = ["client-id", "client-secret", "signer-key-file", "case"].filter((name) => !args[name]);
  if (missing.length) {
    console.error(`missing ${missing.map((m) => "--" + m).join(", ")}`);
    return 2;
  }
  const wallet = new ethers.Wallet(readFileSync(args["signer-key-file"], "utf8").trim());
  const findings = args.findings ? readFileSync(args.findings) : `Survey of case ${args.case}`;
  let record, bundle, domain;
  try {
    const token = await login(baseUrl, args["client-id"], args["client-secret"]);
    let types;
    ({ domain, types } = await signingDomain(baseUrl, token));
    const assignment = await findAssignment(baseUrl, token, args.case);
    const message = surveyReport(assignment, wallet.address, findings, Number(args.conclusion));
    record = await signAndSubmit(baseUrl, token, domain, types, wallet, message);
    bundle = await waitAnchored(baseUrl, token, record.id, Number(args.timeout));
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    console.log(`refused: ${err.message}`);
    return 2;
  }
  if (args["bundle-out"]) {
    writeFileSync(args["bundle-out"], JSON.stringify(bundle, null, 2) + "\n");
    console.log(`    saved the proof bundle to ${args["bundle-out"]}`);
  }
  step(6, `verifying the proof bundle against ${baseUrl}/rpc`);
  return verdict(await verify(bundle, `${baseUrl}/rpc`, {
    commitment: record.commitment, contract: domain.verifyingContract,
  }));
}

process.exitCode = await main();
