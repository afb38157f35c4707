// Lists the function names of a wasm module from its `name` custom section
// (https://webassembly.github.io/spec/core/appendix/custom.html#name-section).
// Usage: node tests/wasm/names.mjs file.wasm   (one demangled name a line)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { leb } from "../../scripts/wasm-names.mjs";


function text(buf, at) {
  const len = leb(buf, at);
  const s = buf.toString("utf8", at.pos, at.pos + len);
  at.pos += len;
  return s;
}

/** The function names of the wasm module in `buf`; [] if it has no name section. */
export function functionNames(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error("not a wasm module");
  const at = { pos: 8 };
  const names = [];
  while (at.pos < buf.length) {
    const id = buf[at.pos++];
    const size = leb(buf, at);
    const end = at.pos + size;
    if (id === 0) {
      const section = { pos: at.pos };
      if (text(buf, section) === "name") {
        while (section.pos < end) {
          const sub = buf[section.pos++];
          const subSize = leb(buf, section);
          const subEnd = section.pos + subSize;
          if (sub === 1) {
            const count = leb(buf, section);
            for (let i = 0; i < count; i++) {
              leb(buf, section);
              names.push(text(buf, section));
            }
          }
          section.pos = subEnd;
        }
      }
    }
    at.pos = end;
  }
  return names;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of functionNames(readFileSync(process.argv[2]))) console.log(name);
}
