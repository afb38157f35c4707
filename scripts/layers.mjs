#!/usr/bin/env node
// The layering check: keygate's modules form a one-way stack.
//
// Reads every non-test `.rs` file under src/, finds what each imports from
// the crate (`use crate::…`, `use super::…`, `self::`, a child module, and
// the same paths written inline in code), follows `pub use` re-exports to
// the file that defines the name, and fails when
//   * two or more files import each other in a loop (a circle), or
//   * a file imports a room on its own line of the layer table or above it
//     (an upward or sideways import), or
//   * a file belongs to no room of the table.
//
// The table (scripts/layers.txt) lists rooms top first, one line per floor;
// a room is a module path (`control`, `key::layout`), a file belongs to the
// longest room that is a prefix of its module path. Rooms on one line are
// siblings and never import each other; a room imports only rooms on lower
// lines. Files of one room may import each other, without circles.
//
// Usage: node scripts/layers.mjs [--src DIR] [--table FILE] [--report]
// --report prints the counts and the edges without failing.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Removes comments, and string and char literals' contents (keeps quotes). */
export function strip(text, keepStrings = false) {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === "/" && d === "/") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && d === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === "/" && text[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (text[i] === "*" && text[i + 1] === "/") {
          depth--;
          i += 2;
        } else {
          if (text[i] === "\n") out += "\n";
          i++;
        }
      }
      continue;
    }
    // Raw strings: r"…", r#"…"#, br#"…"#.
    const raw = /^b?r(#*)"/.exec(text.slice(i, i + 12));
    if (raw && (i === 0 || !/[A-Za-z0-9_]/.test(text[i - 1]))) {
      const close = '"' + raw[1];
      const end = text.indexOf(close, i + raw[0].length);
      const stop = end < 0 ? n : end + close.length;
      out += keepStrings ? text.slice(i, stop) : '""';
      i = stop;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += keepStrings ? text.slice(i, j + 1) : '""';
      i = j + 1;
      continue;
    }
    if (c === "'") {
      // A char literal ('a', '\n', '\u{1F}'), not a lifetime ('a).
      const m = /^'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'/.exec(text.slice(i, i + 12));
      if (m) {
        out += "' '";
        i += m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

/** Drops the bodies of inline `#[cfg(test)] mod name { … }` blocks. */
function dropTestBlocks(code) {
  const re = /#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{/g;
  let m;
  while ((m = re.exec(code))) {
    let depth = 1;
    let j = m.index + m[0].length;
    while (j < code.length && depth > 0) {
      if (code[j] === "{") depth++;
      else if (code[j] === "}") depth--;
      j++;
    }
    code = code.slice(0, m.index) + code.slice(j);
    re.lastIndex = m.index;
  }
  return code;
}

/** Expands a use tree (`a::{b, c::{self, D@E}}`) into [[segments]]. */
export function expandUse(tree) {
  tree = tree.replace(/\s+/g, "");
  const out = [];
  const walk = (prefix, t) => {
    if (t === "") return;
    const brace = t.indexOf("{");
    if (brace < 0) {
      const parts = t.split("::").filter(Boolean);
      out.push([prefix.concat(parts)]);
      return;
    }
    const head = t.slice(0, brace).split("::").filter(Boolean);
    const inner = t.slice(brace + 1, t.lastIndexOf("}"));
    let depth = 0;
    let start = 0;
    for (let k = 0; k <= inner.length; k++) {
      const ch = inner[k];
      if (ch === "{") depth++;
      else if (ch === "}") depth--;
      if ((ch === "," && depth === 0) || k === inner.length) {
        walk(prefix.concat(head), inner.slice(start, k));
        start = k + 1;
      }
    }
  };
  walk([], tree);
  return out;
}

/** Splits `X as Y` keeping the spacing, before expandUse drops it. */
function normaliseAs(tree) {
  return tree.replace(/\s+as\s+([A-Za-z_]\w*)/g, "@$1");
}

/** Every module file under srcDir: { file, mod (array), test } */
export function readTree(srcDir) {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".rs")) files.push(p);
    }
  };
  walk(srcDir);
  const mods = new Map(); // "a::b" -> file
  const byFile = new Map();
  for (const f of files) {
    const rel = path.relative(srcDir, f).split(path.sep);
    let segs = rel.slice();
    const last = segs.pop().replace(/\.rs$/, "");
    if (!(segs.length === 0 && (last === "lib" || last === "main")) && last !== "mod") segs.push(last);
    const key = segs.join("::");
    const rec = { file: f, rel: rel.join("/"), mod: segs, text: fs.readFileSync(f, "utf8") };
    byFile.set(f, rec);
    if (!mods.has(key)) mods.set(key, rec);
  }
  // Test-only files: declared under #[cfg(test)], or named *_tests.rs/tests.rs.
  const test = new Set();
  for (const rec of byFile.values()) {
    const code = strip(rec.text, true);
    const re = /#\[cfg\(test\)\]\s*((?:#\[[^\]]*\]\s*)*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/g;
    let m;
    while ((m = re.exec(code))) {
      const p = /#\[path\s*=\s*"([^"]+)"\]/.exec(m[1]);
      const dir = path.dirname(rec.file);
      const base = path.basename(rec.file, ".rs");
      const childDir = base === "mod" || base === "lib" ? dir : path.join(dir, base);
      if (p) test.add(path.join(dir, p[1]));
      else {
        test.add(path.join(childDir, m[2] + ".rs"));
        test.add(path.join(childDir, m[2], "mod.rs"));
      }
    }
  }
  for (const rec of byFile.values()) {
    rec.test = test.has(rec.file) || /(^|_)tests\.rs$/.test(path.basename(rec.file));
  }
  // Files under a test-only module's folder are test-only too.
  for (const rec of byFile.values()) {
    for (let k = rec.mod.length - 1; k > 0 && !rec.test; k--) {
      const parent = mods.get(rec.mod.slice(0, k).join("::"));
      if (parent && parent.test) rec.test = true;
    }
  }
  return { mods, files: [...byFile.values()] };
}

/** The crate-relative imports of one file: [{ segs, pub, alias }]. */
function importsOf(rec, mods) {
  const code = dropTestBlocks(strip(rec.text));
  // Inline modules (`mod name { … }`): where `self` and `super` start from.
  const inline = [];
  const modRe = /\bmod\s+(\w+)\s*\{/g;
  let mm;
  while ((mm = modRe.exec(code))) {
    let depth = 1;
    let j = mm.index + mm[0].length;
    while (j < code.length && depth > 0) {
      if (code[j] === "{") depth++;
      else if (code[j] === "}") depth--;
      j++;
    }
    inline.push([mm.index, j, mm[1]]);
  }
  const out = [];
  let here = rec.mod;
  const at = (offset) => {
    here = rec.mod.concat(inline.filter(([a, b]) => a <= offset && offset < b).map(([, , n]) => n));
  };
  const absolute = (segs) => {
    let base;
    let k = 0;
    if (segs[0] === "crate") {
      base = [];
      k = 1;
    } else if (segs[0] === "self") {
      base = here.slice();
      k = 1;
    } else if (segs[0] === "super") {
      base = here.slice();
      while (segs[k] === "super") {
        base = base.slice(0, -1);
        k++;
      }
    } else if (mods.has(here.concat(segs[0]).join("::"))) {
      base = here.slice();
    } else return null; // an external crate or a local name
    return base.concat(segs.slice(k));
  };
  const aliases = new Map();
  const useRe = /(^|[;{}\]\s])(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);/g;
  let m;
  const useSpans = [];
  while ((m = useRe.exec(code))) {
    useSpans.push([m.index, m.index + m[0].length]);
    at(m.index);
    for (const [raw] of expandUse(normaliseAs(m[3]))) {
      let segs = raw.slice();
      let alias = null;
      const lastSeg = segs[segs.length - 1] || "";
      if (lastSeg.includes("@")) {
        const [name, a] = lastSeg.split("@");
        segs[segs.length - 1] = name;
        alias = a;
      }
      if (segs[segs.length - 1] === "self") segs = segs.slice(0, -1);
      const abs = absolute(segs);
      if (!abs) continue;
      const name = alias || abs[abs.length - 1];
      if (name && name !== "*") aliases.set(name, abs);
      // A glob re-export (`pub use model::*`) is followed for names not
      // re-exported by name.
      out.push({ segs: abs, pub: Boolean(m[2]), name });
    }
  }
  // Inline paths outside use statements.
  let rest = "";
  let last = 0;
  for (const [a, b] of useSpans) {
    rest += code.slice(last, a) + " ";
    last = b;
  }
  rest += code.slice(last);
  here = rec.mod;
  const pathRe = /(?<![\w:])([A-Za-z_]\w*)((?:\s*::\s*[A-Za-z_]\w*)+)/g;
  while ((m = pathRe.exec(rest))) {
    const segs = [m[1]].concat(m[2].split("::").map((s) => s.trim()).filter(Boolean));
    let abs = null;
    if (["crate", "self", "super"].includes(segs[0])) abs = absolute(segs);
    else if (aliases.has(segs[0])) abs = aliases.get(segs[0]).concat(segs.slice(1));
    else if (mods.has(here.concat(segs[0]).join("::"))) abs = here.concat(segs);
    if (abs) out.push({ segs: abs, pub: false });
  }
  return out;
}

/** The file a crate path lands in, following `pub use` re-exports. */
function resolve(segs, mods, exportsOf, depth = 0) {
  let k = 0;
  let mod = [];
  while (k < segs.length && mods.has(mod.concat(segs[k]).join("::"))) {
    mod = mod.concat(segs[k]);
    k++;
  }
  const rec = mods.get(mod.join("::"));
  if (!rec) return null;
  if (k < segs.length && depth < 16) {
    const ex = exportsOf(rec);
    const target = ex.get(segs[k]);
    if (target) return resolve(target.concat(segs.slice(k + 1)), mods, exportsOf, depth + 1) || rec;
    if (ex.globs.length > 0 && !mods.has(mod.concat(segs[k]).join("::"))) {
      return resolve(ex.globs[0].concat(segs.slice(k)), mods, exportsOf, depth + 1) || rec;
    }
  }
  return rec;
}

/** The import graph: Map(rel -> Map(rel -> Set(names))). */
export function graph(srcDir) {
  const { mods, files } = readTree(srcDir);
  const imports = new Map();
  const exportCache = new Map();
  const importsCached = (rec) => {
    if (!imports.has(rec.file)) imports.set(rec.file, importsOf(rec, mods));
    return imports.get(rec.file);
  };
  const exportsOf = (rec) => {
    if (!exportCache.has(rec.file)) {
      const ex = new Map();
      ex.globs = [];
      for (const i of importsCached(rec)) {
        if (!i.pub || !i.name) continue;
        if (i.name === "*") ex.globs.push(i.segs.slice(0, -1));
        else ex.set(i.name, i.segs);
      }
      exportCache.set(rec.file, ex);
    }
    return exportCache.get(rec.file);
  };
  const edges = new Map();
  for (const rec of files) {
    if (rec.test) continue;
    const to = new Map();
    for (const i of importsCached(rec)) {
      const target = resolve(i.segs, mods, exportsOf);
      if (!target || target.file === rec.file || target.test) continue;
      if (!to.has(target.rel)) to.set(target.rel, new Set());
      to.get(target.rel).add(i.segs.join("::"));
    }
    edges.set(rec.rel, to);
  }
  const modOf = new Map(files.filter((r) => !r.test).map((r) => [r.rel, r.mod]));
  return { edges, modOf };
}

/** Strongly connected components with more than one file (Tarjan). */
export function circles(edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of (edges.get(v) || new Map()).keys()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The layer table: [[room, …], …], top first. */
export function readTable(file) {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/));
}

/** Checks the graph against the table. */
export function check(srcDir, tableFile) {
  const { edges, modOf } = graph(srcDir);
  const table = readTable(tableFile);
  const rooms = [];
  table.forEach((line, floor) => line.forEach((r) => rooms.push({ room: r, segs: r.split("::"), floor })));
  // `crate` is lib.rs alone; any other room holds its module and those below it.
  const roomOf = (rel) => {
    const mod = modOf.get(rel);
    let best = null;
    for (const r of rooms) {
      const fits = r.room === "crate" ? mod.length === 0 : r.segs.every((s, k) => mod[k] === s);
      if (fits && (!best || r.segs.length > best.segs.length)) best = r;
    }
    return best;
  };
  const unplaced = [];
  const upward = [];
  const sideways = [];
  let arrows = 0;
  for (const [from, to] of edges) {
    const a = roomOf(from);
    if (!a) unplaced.push(from);
    for (const [target, names] of to) {
      arrows++;
      const b = roomOf(target);
      if (!a || !b || a.room === b.room) continue;
      const row = { from, to: target, fromRoom: a.room, toRoom: b.room, names: [...names] };
      if (b.floor < a.floor) upward.push(row);
      else if (b.floor === a.floor) sideways.push(row);
    }
  }
  const loops = circles(edges).map((files) => ({
    files,
    ties: files.flatMap((f) =>
      [...(edges.get(f) || new Map())]
        .filter(([t]) => files.includes(t))
        .map(([t, names]) => `${f} -> ${t}: ${[...names].join(", ")}`),
    ),
  }));
  const perRoom = new Map();
  for (const rel of modOf.keys()) {
    const r = roomOf(rel);
    const key = r ? r.room : "(unplaced)";
    const lines = fs.readFileSync(path.join(srcDir, rel), "utf8").split("\n").length - 1;
    const e = perRoom.get(key) || { files: 0, lines: 0 };
    e.files++;
    e.lines += lines;
    perRoom.set(key, e);
  }
  return { files: modOf.size, arrows, circles: loops, upward, sideways, unplaced, perRoom };
}

function main(argv) {
  const arg = (name, dflt) => {
    const k = argv.indexOf(name);
    return k >= 0 ? argv[k + 1] : dflt;
  };
  const root = path.resolve(here, "..");
  const src = arg("--src", path.join(root, "src"));
  const table = arg("--table", path.join(here, "layers.txt"));
  const report = argv.includes("--report");
  const r = check(src, table);
  const bad = r.circles.length + r.upward.length + r.sideways.length + r.unplaced.length;
  for (const c of r.circles) {
    console.log(`circle of ${c.files.length} files: ${c.files.join(", ")}`);
    for (const t of c.ties) console.log(`  ${t}`);
  }
  for (const u of r.upward) console.log(`upward: ${u.from} (${u.fromRoom}) -> ${u.to} (${u.toRoom}): ${u.names.join(", ")}`);
  for (const u of r.sideways) console.log(`sideways: ${u.from} (${u.fromRoom}) -> ${u.to} (${u.toRoom}): ${u.names.join(", ")}`);
  for (const f of r.unplaced) console.log(`unplaced: ${f} is in no room of ${path.relative(root, table)}`);
  if (report) {
    for (const [room, e] of [...r.perRoom].sort()) console.log(`room ${room}: ${e.files} files, ${e.lines} lines`);
  }
  console.log(
    `layers: ${r.files} files, ${r.arrows} imports, ${r.circles.length} circles, ` +
      `${r.upward.length} upward, ${r.sideways.length} sideways, ${r.unplaced.length} unplaced`,
  );
  return bad === 0 || report ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
