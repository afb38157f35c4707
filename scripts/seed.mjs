// make dev: demo keys through the management API, then ready-to-paste curl
// commands. Usage: node scripts/seed.mjs GATEWAY_URL PRODUCTS_JSON VARS_FILE,
// with KEYGATE_ADMIN_TOKEN in the environment (PRODUCTS_JSON is
// `keygate check --json`; VARS_FILE is the .dev.vars holding the token, which
// is never printed). Re-running revokes the demo keys of the previous run, so
// the account never reaches its key limit.
const [gateway, productsJson, varsFile] = process.argv.slice(2);
const token = process.env.KEYGATE_ADMIN_TOKEN;
const { products, management } = JSON.parse(productsJson);
if (!management) {
  console.log("The management API is turned off in this config; no demo keys were made.");
  process.exit(0);
}
const ACCOUNT = "acct_demo";
const host = management.host ? { Host: management.host } : {};
const api = `${gateway}${management.path_prefix}`;

async function admin(method, path, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...host },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Retire the previous run's demo keys: their values were shown once and are gone.
try {
  const { keys } = await admin("GET", `/accounts/${ACCOUNT}/keys?status=active`);
  for (const key of keys.filter((k) => k.name.endsWith(" demo key"))) {
    await admin("DELETE", `/accounts/${ACCOUNT}/keys/${key.id}`);
  }
} catch (e) {
  if (!String(e.message).includes("404")) throw e;
}

const made = [];
for (const product of products) {
  const key = await admin("POST", `/accounts/${ACCOUNT}/keys`, {
    product: product.id,
    name: `${product.id} demo key`,
  });
  made.push({ product, key });
}
const first = made[0];
const revoked = await admin("POST", `/accounts/${ACCOUNT}/keys`, {
  product: first.product.id,
  name: `${first.product.id} revoked demo key`,
});
await admin("DELETE", `/accounts/${ACCOUNT}/keys/${revoked.id}`);

const header = (p, key) =>
  p.scheme ? `-H '${p.header}: ${p.scheme} ${key}'` : `-H '${p.header}: ${key}'`;
const url = (p, path) => {
  const prefix = p.path_prefix === "/" ? "" : p.path_prefix;
  const hostHeader = p.host ? `-H 'Host: ${p.host}' ` : "";
  return `${hostHeader}'${gateway}${prefix}${path}'`;
};

console.log(`Demo keys of account ${ACCOUNT} (made through the management API; shown once):`);
for (const { product, key } of made) console.log(`  ${product.id.padEnd(12)} ${key.key}`);
console.log(`  ${(first.product.id + "*").padEnd(12)} ${revoked.key}  (revoked)`);
console.log("\nReady-to-paste requests:");
for (const { product, key } of made) {
  console.log(`  # passes: a ${product.name} key, forwarded with signed identity headers`);
  console.log(`  curl -i ${header(product, key.key)} ${url(product, "/v1/hello?x=1")}`);
}
const other = made.find((m) => m.product.header !== first.product.header);
if (other) {
  console.log(`  # 401 wrong_product: a ${other.product.name} key sent to ${first.product.name}`);
  console.log(`  curl -i ${header(other.product, other.key.key)} ${url(first.product, "/v1/hello")}`);
}
console.log("  # 401 revoked_key");
console.log(`  curl -i ${header(first.product, revoked.key)} ${url(first.product, "/v1/hello")}`);
const hostArg = management.host ? ` -H 'Host: ${management.host}'` : "";
console.log("\nManagement API (the admin token is in .dev.vars):");
console.log(`  export KEYGATE_ADMIN_TOKEN="$(sed -n 's/^KEYGATE_ADMIN_TOKEN=//p' '${varsFile}')"`);
for (const path of ["keys", "events"]) {
  console.log(
    `  curl -s${hostArg} -H "Authorization: Bearer $KEYGATE_ADMIN_TOKEN" '${api}/accounts/${ACCOUNT}/${path}'`,
  );
}
console.log(`  OpenAPI document: ${api}/openapi.json`);

// A ready portal link for the demo account (works once, for an hour).
try {
  const portal = await admin("POST", `/accounts/${ACCOUNT}/portal-sessions`, {
    return_url: `${gateway}/`,
  });
  console.log(`\nAPI Keys page for ${ACCOUNT} (the link works once, for an hour):\n  ${portal.url}`);
} catch (e) {
  console.log(`\nThe API Keys page is not served by this config (${e.message.split(":")[0]}).`);
}
