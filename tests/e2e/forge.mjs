// Forged keys, written independently of the Rust code from the documented
// format: `<prefix>_<env>_<43 base62 random><9 base62 tag><6 base62 CRC32>`.
// The CRC32 is public, so a forger gets it right; the tag needs the key
// secret, so a random one is wrong (but in range, < 2^48).
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC32 (IEEE) of an ASCII string. */
export function crc32(text) {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The big-endian number in `bytes` as `width` base62 digits. */
export function base62(bytes, width) {
  let n = BigInt("0x" + (Buffer.from(bytes).toString("hex") || "0"));
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(width, "0");
}

/** A key with the right shape and checksum and a random (wrong) tag. */
export function forgedKey(prefix, env) {
  const text = `${prefix}_${env}_${base62(randomBytes(32), 43)}${base62(randomBytes(6), 9)}`;
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(text));
  return text + base62(sum, 6);
}

// Self-check against the documented check value: CRC32("123456789") = 0xCBF43926 = "3jZRME".
if (crc32("123456789") !== 0xcbf43926 || base62(Buffer.from("cbf43926", "hex"), 6) !== "3jZRME") {
  throw new Error("forge.mjs: CRC32 or base62 is wrong");
}
