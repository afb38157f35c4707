// Bundles the API Keys page (portal/app.js, portal/app.css) into
// build/portal/, which the control Worker embeds (include_str!). Usage:
// node portal/build.mjs [outdir]. Prints the gzipped size and fails when
// the page's assets pass 60 KB gzipped.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] ?? join(root, "build/portal"));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, "portal/app.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outfile: join(out, "app.js"),
  legalComments: "none",
  logLevel: "warning",
});
await build({
  entryPoints: [join(root, "portal/app.css")],
  bundle: true,
  minify: true,
  outfile: join(out, "app.css"),
  logLevel: "warning",
});
const LIMIT = 60 * 1024;
let total = 0;
for (const file of ["app.js", "app.css"]) {
  const bytes = readFileSync(join(out, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.error(`[portal] ${file}: ${(bytes.length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
}
if (total > LIMIT) {
  console.error(`[portal] assets are ${total} bytes gzipped, over the ${LIMIT}-byte budget`);
  process.exit(1);
}
