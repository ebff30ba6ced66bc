// A frontend on another origin, as a developer would write it: plain fetch with a bearer
// token against Opsure (?api=<base URL>&token=<bearer>&claim=<claim id>). It uploads a
// document, reads the claim with its documents and timeline, downloads every document and
// checks its bytes, then sets window.__smoke = {ok, checks, ...} for the test to read.
"use strict";

const QUERY = `query SmokeClaim($id: ID!) {
  claim(id: $id) {
    id
    number
    state
    documents(first: 100) { totalCount edges { node { id kind filename contentType size sha256 downloadUrl } } }
    timeline(last: 20) { totalCount edges { node { at kind reasonCode } } }
  }
}`;
const UPLOAD = new TextEncoder().encode("%PDF-1.7\n%smoke\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n" +
  "<< /Root 1 0 R >>\n%%EOF\n");

const params = new URLSearchParams(window.location.search);
const api = params.get("api");
const auth = { authorization: `Bearer ${params.get("token")}` };

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function upload(claimId) {
  const resp = await fetch(`${api}/claims/${encodeURIComponent(claimId)}/documents`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/pdf", "x-document-kind": "invoice",
               "x-filename": encodeURIComponent("发票 smoke.pdf") },
    body: UPLOAD,
  });
  return { status: resp.status, location: resp.headers.get("location"), requestId: resp.headers.get("x-request-id") };
}

async function readClaim(claimId) {
  const resp = await fetch(`${api}/graphql`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query: QUERY, variables: { id: claimId } }),
  });
  return { status: resp.status, requestId: resp.headers.get("x-request-id"), body: await resp.json() };
}

async function download(doc) {
  const url = new URL(doc.downloadUrl, api);
  const whole = await fetch(url, { headers: auth });
  const bytes = await whole.arrayBuffer();
  const part = await fetch(url, { headers: { ...auth, range: "bytes=0-4" } });
  const again = await fetch(url, { headers: { ...auth, "if-none-match": whole.headers.get("etag") } });
  return {
    id: doc.id, status: whole.status, size: bytes.byteLength, sha256: await sha256(bytes),
    etag: whole.headers.get("etag"), disposition: whole.headers.get("content-disposition"),
    requestId: whole.headers.get("x-request-id"),
    partStatus: part.status, contentRange: part.headers.get("content-range"),
    partText: new TextDecoder().decode(await part.arrayBuffer()), revalidated: again.status,
  };
}

async function loginIsBlocked() {
  try {
    await fetch(`${api}/oauth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    return false;
  } catch (error) {
    return error instanceof TypeError; // the browser refused: no CORS on the partner login
  }
}

async function run() {
  const claimId = params.get("claim");
  const uploaded = await upload(claimId);
  const read = await readClaim(claimId);
  const found = read.body.data?.claim;
  const nodes = (connection) => (connection?.edges ?? []).map((edge) => edge.node);
  const claim = found && { ...found, documents: nodes(found.documents), timeline: nodes(found.timeline) };
  const downloads = [];
  for (const doc of claim?.documents ?? []) downloads.push(await download(doc));
  const checks = [];
  const expect = (ok, what) => { if (!ok) checks.push(what); };
  expect(uploaded.status === 201 && uploaded.location, `upload answered ${uploaded.status}`);
  expect(read.status === 200 && !read.body.errors, `claim read answered ${read.status}`);
  expect(claim && claim.id === claimId, "the claim is the one asked for");
  expect(claim && claim.documents.length >= 2, "the claim lists the factory's and the uploaded document");
  expect(claim && claim.timeline.length >= 1, "the claim has a timeline");
  expect(read.requestId, "x-request-id is readable");
  for (const [i, got] of downloads.entries()) {
    const doc = claim.documents[i];
    expect(got.status === 200 && got.size === doc.size && got.sha256 === doc.sha256, `bytes of ${doc.id}`);
    expect(got.etag === `"${doc.sha256}"` && got.disposition?.startsWith("attachment"), `headers of ${doc.id}`);
    expect(got.partStatus === 206 && got.contentRange === `bytes 0-4/${doc.size}` && got.partText === "%PDF-",
      `range of ${doc.id}`);
    expect(got.revalidated === 304, `If-None-Match of ${doc.id}`);
  }
  const blocked = await loginIsBlocked();
  expect(blocked, "the partner login is not callable from a page");
  return { ok: checks.length === 0, checks, uploaded, claim, downloads, loginBlocked: blocked };
}

run().then(
  (report) => { window.__smoke = report; },
  (error) => { window.__smoke = { ok: false, error: `${error.name}: ${error.message}` }; },
).finally(() => { document.getElementById("status").textContent = JSON.stringify(window.__smoke); });
