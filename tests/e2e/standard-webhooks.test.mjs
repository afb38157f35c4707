// The official Standard Webhooks library (npm `standardwebhooks`) verifies
// deliveries signed by keygate's Rust code (src/webhook/sign.rs). The
// vectors in tests/vectors/standard-webhooks.json are written by a Rust
// test that fails when they no longer match what the code signs, so this
// file checks the live implementation. No server is needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const { vectors } = JSON.parse(
  readFileSync(new URL("../vectors/standard-webhooks.json", import.meta.url), "utf8"),
);

// The library checks the timestamp against the clock; pin the clock to
// each vector's timestamp.
function atTime(seconds, fn) {
  const real = Date.now;
  Date.now = () => seconds * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

test("there are vectors, including a rotation overlap", () => {
  assert.ok(vectors.length >= 3);
  assert.ok(vectors.some((v) => v.secrets.length === 2));
});

for (const v of vectors) {
  const ts = Number(v.headers["webhook-timestamp"]);

  test(`official library verifies: ${v.name}`, () => {
    const signatures = v.headers["webhook-signature"].split(" ");
    assert.equal(signatures.length, v.secrets.length);
    for (const [i, secret] of v.secrets.entries()) {
      const wh = new Webhook(secret);
      // Each secret verifies the delivery on its own (rotation overlap).
      const payload = atTime(ts, () => wh.verify(v.body, v.headers));
      assert.deepEqual(payload, JSON.parse(v.body));
      assert.deepEqual(Object.keys(payload), ["type", "timestamp", "data"]);
      // And the library's own signature is the one we sent for it.
      assert.equal(wh.sign(v.headers["webhook-id"], new Date(ts * 1000), v.body), signatures[i]);
    }
  });

  test(`official library refuses tampering: ${v.name}`, () => {
    const wh = new Webhook(v.secrets[0]);
    const tampered = [
      [v.body.replace('"data":{', '"data":{"x":1,'), v.headers],
      [v.body, { ...v.headers, "webhook-id": v.headers["webhook-id"] + "x" }],
      [v.body, { ...v.headers, "webhook-timestamp": String(ts + 1) }],
    ];
    for (const [body, headers] of tampered) {
      assert.throws(() => atTime(ts, () => wh.verify(body, headers)), /No matching signature/);
    }
    // Outside the five-minute tolerance it is refused too.
    assert.throws(() => atTime(ts + 301, () => wh.verify(v.body, v.headers)), /too old/);
    // A secret that is not one of the vector's does not verify.
    const other = new Webhook("whsec_" + Buffer.alloc(32, 7).toString("base64"));
    assert.throws(() => atTime(ts, () => other.verify(v.body, v.headers)), /No matching signature/);
  });
}
