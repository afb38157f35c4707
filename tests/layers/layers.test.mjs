// The layering check (scripts/layers.mjs) passes on keygate's tree and
// fails on a planted circle, an upward import, a sideways import between
// siblings and a file in no room, each in a small tree of its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { check } from "../../scripts/layers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A temp crate from { "rel/path.rs": text }, and a table; returns check()'s verdict. */
function tree(files, table) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layers-"));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, "src", rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", rel), text);
  }
  fs.writeFileSync(path.join(dir, "layers.txt"), table);
  try {
    return check(path.join(dir, "src"), path.join(dir, "layers.txt"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const clean = {
  "lib.rs": "pub mod top;\npub mod low;\n",
  "top/mod.rs": "mod a;\nmod b;\npub use a::run;\n",
  "top/a.rs": "use super::b::helper;\nuse crate::low::{self, Thing};\npub fn run() { helper(); low::make(); }\n",
  "top/b.rs": "pub fn helper() {}\n",
  "low.rs": "pub struct Thing;\npub fn make() {}\n#[cfg(test)]\nmod tests { use crate::top::run; }\n",
};
const table = "crate\ntop\nlow\n";

test("a one-way tree passes (a test module may import upward)", () => {
  const r = tree(clean, table);
  assert.deepEqual([r.circles.length, r.upward.length, r.sideways.length, r.unplaced.length], [0, 0, 0, 0]);
  assert.equal(r.arrows, 3); // mod.rs -> a, a -> b, a -> low
});

test("a planted circle between two files is caught", () => {
  const r = tree({ ...clean, "top/b.rs": "pub fn helper() { super::a::run(); }\n" }, table);
  assert.equal(r.circles.length, 1);
  assert.deepEqual(r.circles[0].files, ["top/a.rs", "top/b.rs"]);
});

test("a circle through a re-export in mod.rs is caught", () => {
  const r = tree({ ...clean, "top/b.rs": "use crate::top::run;\npub fn helper() { run(); }\n" }, table);
  assert.equal(r.circles.length, 1);
  assert.deepEqual(r.circles[0].files, ["top/a.rs", "top/b.rs"]);
});

test("names re-exported by a glob or pub(crate) use resolve to their file", () => {
  const r = tree(
    {
      ...clean,
      "top/mod.rs": "mod a;\nmod b;\nmod model;\npub use model::*;\npub(crate) use a::run;\n",
      "top/model.rs": "pub struct Kind;\n",
      "top/b.rs": "use super::Kind;\npub fn helper() {}\n",
    },
    table,
  );
  // b -> model (through the glob), not b -> mod.rs, which imports a, which imports b.
  assert.equal(r.circles.length, 0);
  const loop = tree({ ...clean, "top/b.rs": "use super::run;\npub fn helper() {}\n" }, table);
  assert.equal(loop.circles.length, 1, "b -> a through mod.rs's pub use closes a circle");
});

test("an upward import, inline in code, is caught", () => {
  const r = tree({ ...clean, "low.rs": "pub struct Thing;\npub fn make() { crate::top::run() }\n" }, table);
  assert.equal(r.upward.length, 1);
  assert.equal(r.upward[0].from, "low.rs");
  assert.equal(r.upward[0].toRoom, "top");
  // …and it closes a circle across rooms.
  assert.equal(r.circles.length, 1);
});

test("siblings on one line may not import each other", () => {
  const r = tree(
    { ...clean, "lib.rs": "pub mod top;\npub mod low;\npub mod side;\n", "side.rs": "use crate::top::run;\n" },
    "crate\ntop side\nlow\n",
  );
  assert.equal(r.sideways.length, 1);
  assert.equal(r.sideways[0].from, "side.rs");
});

test("a file in no room is reported", () => {
  const r = tree({ ...clean, "lib.rs": "pub mod top;\npub mod low;\npub mod stray;\n", "stray.rs": "" }, table);
  assert.deepEqual(r.unplaced, ["stray.rs"]);
});

test("comments, strings and doc links are not imports", () => {
  const r = tree(
    {
      ...clean,
      "low.rs": '//! See [`crate::top::run`].\npub struct Thing;\n/* crate::top::run() */\npub fn make() { let _ = "crate::top::run"; }\n',
    },
    table,
  );
  assert.equal(r.upward.length, 0);
});

test("keygate's own tree keeps its layers (scripts/layers.txt)", () => {
  const out = execFileSync(process.execPath, [path.join(root, "scripts/layers.mjs")], { encoding: "utf8" });
  assert.match(out, /0 circles, 0 upward, 0 sideways, 0 unplaced/);
});
