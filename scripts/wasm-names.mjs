// Keeps a wasm module's function names out of what ships.
// Usage: node scripts/wasm-names.mjs split MODULE.wasm SYMBOLS.wasm
//   copies MODULE.wasm (with its `name` section) to SYMBOLS.wasm, then
//   rewrites MODULE.wasm without its `name` custom section. Every other
//   byte is kept as is: sections are copied, never re-encoded.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** An unsigned LEB128 number at `at.pos`, advancing it. */
export function leb(buf, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = buf[at.pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return value;
}

export function withoutNames(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error("not a wasm module");
  const kept = [buf.subarray(0, 8)];
  const at = { pos: 8 };
  while (at.pos < buf.length) {
    const start = at.pos;
    const id = buf[at.pos++];
    const size = leb(buf, at);
    const body = at.pos;
    const end = body + size;
    let drop = false;
    if (id === 0) {
      const inner = { pos: body };
      const len = leb(buf, inner);
      drop = buf.toString("utf8", inner.pos, inner.pos + len) === "name";
    }
    if (!drop) kept.push(buf.subarray(start, end));
    at.pos = end;
  }
  return Buffer.concat(kept);
}

// Run as a command only, not when imported (tests/wasm/names.mjs uses leb).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, module, symbols] = process.argv.slice(2);
  if (command !== "split" || !module || !symbols) {
    console.error("usage: node scripts/wasm-names.mjs split MODULE.wasm SYMBOLS.wasm");
    process.exit(2);
  }
  copyFileSync(module, symbols);
  writeFileSync(module, withoutNames(readFileSync(module)));
}
