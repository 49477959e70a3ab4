// Draws the app icons (PNG) from geometry: a violet tile with a white lightning bolt. No binary
// assets in git, no image tools needed. Run by `build`; writes public/icons/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BOLT = [
  [0.56, 0.14],
  [0.28, 0.55],
  [0.47, 0.55],
  [0.41, 0.86],
  [0.72, 0.42],
  [0.53, 0.42],
  [0.6, 0.14],
];

function inside(x, y, poly) {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** `pad`: share of the tile kept clear (maskable icons keep the bolt in the safe zone). */
function icon(size, { rounded, scale }) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const r = rounded ? size * 0.22 : 0;
  const SS = 3; // supersampling for smooth edges
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      let tile = 0;
      let bolt = 0;
      for (let sy = 0; sy < SS; sy++)
        for (let sx = 0; sx < SS; sx++) {
          const px = x + (sx + 0.5) / SS;
          const py = y + (sy + 0.5) / SS;
          const cx = Math.min(Math.max(px, r), size - r);
          const cy = Math.min(Math.max(py, r), size - r);
          if ((px - cx) ** 2 + (py - cy) ** 2 <= r * r) tile++;
          const u = (px / size - 0.5) / scale + 0.5;
          const v = (py / size - 0.5) / scale + 0.5;
          if (inside(u, v, BOLT)) bolt++;
        }
      const n = SS * SS;
      const t = tile / n;
      const b = bolt / n;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = Math.round(0x5b * (1 - b) + 255 * b);
      raw[o + 1] = Math.round(0x3c * (1 - b) + 255 * b);
      raw[o + 2] = Math.round(0xc4 * (1 - b) + 255 * b);
      raw[o + 3] = Math.round(255 * t);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../public/icons/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('icon-192.png', dir), icon(192, { rounded: true, scale: 1 }));
writeFileSync(new URL('icon-512.png', dir), icon(512, { rounded: true, scale: 1 }));
writeFileSync(new URL('maskable-512.png', dir), icon(512, { rounded: false, scale: 0.7 }));
writeFileSync(new URL('apple-touch-icon.png', dir), icon(180, { rounded: false, scale: 0.8 }));
