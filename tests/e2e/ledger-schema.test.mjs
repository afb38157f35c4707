// The account ledger's schema upgrade (src/control/account/sql_ledger.rs), run on
// SQLite — the engine under a Durable Object's storage — through Python's
// sqlite3 (the venv scripts/setup.sh makes): an object made with the first
// schema gains the key columns, filled from its rows' JSON, and the lists
// and limits then read through indexes. The SQL is read from the Rust
// source, so the test runs what the object runs. Starts no server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./harness.mjs";

const python = process.env.PYTHON ?? join(ROOT, ".tools/venv/bin/python");
const source = readFileSync(join(ROOT, "src/control/account/sql_ledger.rs"), "utf8");

/** The text of the Rust `const NAME: &str = "…";`. */
function constant(name) {
  const match = new RegExp(`const ${name}: &str =\\s*"([\\s\\S]*?)";`).exec(source);
  assert.ok(match, `const ${name} in sql_ledger.rs`);
  return match[1];
}

// The schema objects were first made with (before the key columns).
const FIRST_SCHEMA = `CREATE TABLE account (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE keys (id TEXT PRIMARY KEY, body TEXT NOT NULL, last_used_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);`;

const SCRIPT = String.raw`
import json, sqlite3, sys
sql = json.load(sys.stdin)
current = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'keys' AND sql LIKE '%replaced_by%'"
def upgrade(db):
    db.executescript(sql["schema"])
    if db.execute(current).fetchone()[0] == 0:
        db.executescript(sql["upgrade"])
    db.executescript(sql["indexes"])
old = sqlite3.connect(":memory:")
old.executescript(sql["first"])
rows = [
    ("key_a", {"product": "forgeai", "owner_id": "u1", "created_at": 5, "expires_at": None, "revoked_at": 9, "replaced_by": "key_b"}),
    ("key_b", {"product": "forgeai", "owner_id": None, "created_at": 9, "expires_at": 99, "revoked_at": None, "replaced_by": None}),
]
for id, body in rows:
    old.execute("INSERT INTO keys (id, body) VALUES (?, ?)", (id, json.dumps(body)))
upgrade(old)
upgrade(old)  # a second start changes nothing
out = {"rows": old.execute("SELECT id, product, owner_id, created_at, expires_at, revoked_at, replaced_by FROM keys ORDER BY id").fetchall()}
new = sqlite3.connect(":memory:")
upgrade(new)
out["new_columns"] = [r[1] for r in new.execute("PRAGMA table_info(keys)")]
out["plans"] = [
    " ".join(str(r[3]) for r in old.execute("EXPLAIN QUERY PLAN " + q).fetchall())
    for q in [
        "SELECT count(*) FROM keys WHERE product = 'forgeai' AND (revoked_at IS NULL OR revoked_at > 1) AND (expires_at IS NULL OR expires_at > 1)",
        "SELECT body FROM keys WHERE owner_id = 'u1' ORDER BY created_at DESC, id DESC LIMIT 3",
        "SELECT body FROM keys WHERE replaced_by = 'key_b'",
        "SELECT body FROM keys ORDER BY created_at DESC, id DESC LIMIT 3",
    ]
]
print(json.dumps(out))
`;

test("an object made with the first schema is upgraded in place, and reads use indexes", () => {
  const sql = {
    first: FIRST_SCHEMA,
    schema: constant("SCHEMA"),
    upgrade: constant("UPGRADE"),
    indexes: constant("INDEXES"),
  };
  const out = JSON.parse(execFileSync(python, ["-c", SCRIPT], { input: JSON.stringify(sql), encoding: "utf8" }));
  assert.deepEqual(out.rows, [
    ["key_a", "forgeai", "u1", 5, null, 9, "key_b"],
    ["key_b", "forgeai", null, 9, 99, null, null],
  ]);
  for (const column of ["product", "owner_id", "created_at", "expires_at", "revoked_at", "replaced_by"]) {
    assert.ok(out.new_columns.includes(column), column);
  }
  const [count, owner, successor, all] = out.plans;
  assert.match(count, /USING INDEX keys_by_product/);
  assert.match(owner, /USING INDEX keys_by_owner/);
  assert.match(successor, /USING (COVERING )?INDEX keys_by_successor/);
  assert.match(all, /keys_by_age/);
});
