/**
 * Colour declared by code points (ITU-T H.273 `nclx`, in AVIF/HEIC `colr`
 * boxes) instead of an ICC profile: builds the equivalent ICC matrix/shaper
 * profile (D50-adapted colorants by Bradford, a parametric tone curve), so
 * that `color.ts` converts it with LittleCMS like any embedded profile.
 *
 * @module
 */

import type { Nclx } from "./isobmff.ts";

/** The chromaticities (x, y) of red, green, blue and white per H.273 colour_primaries. */
const PRIMARIES: Record<number, { name: string; rgbw: [number, number][] }> = {
  4: {
    name: "BT.470 M",
    rgbw: [[0.67, 0.33], [0.21, 0.71], [0.14, 0.08], [0.310, 0.316]],
  },
  5: {
    name: "BT.601 625",
    rgbw: [[0.64, 0.33], [0.29, 0.60], [0.15, 0.06], [0.3127, 0.3290]],
  },
  6: {
    name: "BT.601 525",
    rgbw: [[0.630, 0.340], [0.310, 0.595], [0.155, 0.070], [0.3127, 0.3290]],
  },
  9: {
    name: "BT.2020",
    rgbw: [[0.708, 0.292], [0.170, 0.797], [0.131, 0.046], [0.3127, 0.3290]],
  },
  11: {
    name: "DCI-P3",
    rgbw: [[0.680, 0.320], [0.265, 0.690], [0.150, 0.060], [0.314, 0.351]],
  },
  12: {
    name: "Display P3",
    rgbw: [[0.680, 0.320], [0.265, 0.690], [0.150, 0.060], [0.3127, 0.3290]],
  },
};

/** ICC parametric curve type 3 parameters [g, a, b, c, d] per H.273 transfer_characteristics. */
const TRANSFERS: Record<number, { name: string; params: number[] }> = {
  1: { name: "BT.709", params: [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081] },
  4: { name: "gamma 2.2", params: [2.2, 1, 0, 0, 0] },
  5: { name: "gamma 2.8", params: [2.8, 1, 0, 0, 0] },
  6: { name: "BT.601", params: [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081] },
  8: { name: "linear", params: [1, 1, 0, 0, 0] },
  13: { name: "sRGB", params: [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045] },
  14: { name: "BT.2020", params: [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081] },
  15: { name: "BT.2020", params: [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081] },
};

/** What {@link nclxToIcc} decided. */
export type NclxColour =
  | { kind: "srgb" }
  | { kind: "profile"; icc: Uint8Array; name: string }
  | { kind: "unsupported"; reason: string };

/**
 * The ICC profile equivalent to `nclx`: `srgb` for BT.709/sRGB primaries
 * (or unspecified ones) with the sRGB curve (or an unspecified one), where
 * nothing needs doing; `unsupported` for HDR transfers (PQ, HLG) and
 * unknown code points.
 */
export function nclxToIcc(nclx: Nclx): NclxColour {
  const p = nclx.primaries === 2 ? 1 : nclx.primaries;
  const t = nclx.transfer === 2 ? 13 : nclx.transfer;
  if (p === 1 && t === 13) return { kind: "srgb" };
  if (t === 16 || t === 18) {
    return { kind: "unsupported", reason: `HDR transfer (${t === 16 ? "PQ" : "HLG"})` };
  }
  const primaries = p === 1
    ? { name: "BT.709", rgbw: [[0.64, 0.33], [0.30, 0.60], [0.15, 0.06], [0.3127, 0.3290]] }
    : PRIMARIES[p];
  const transfer = TRANSFERS[t];
  if (!primaries || !transfer) {
    return {
      kind: "unsupported",
      reason: `unknown nclx code points (primaries ${nclx.primaries}, transfer ${nclx.transfer})`,
    };
  }
  const name = `${primaries.name} primaries, ${transfer.name} transfer (nclx)`;
  return {
    kind: "profile",
    name,
    icc: buildIcc(name, primaries.rgbw as [number, number][], transfer.params),
  };
}

type M3 = number[][];

const D50 = [0.9642, 1.0, 0.8249];
const BRADFORD: M3 = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [
  0.0389,
  -0.0685,
  1.0296,
]];

function mul(a: M3, b: M3): M3 {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

function apply(a: M3, v: number[]): number[] {
  return a.map((row) => row.reduce((s, x, k) => s + x * v[k], 0));
}

function inv(m: M3): M3 {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/** The D50-adapted XYZ of the red, green and blue primaries. */
function colorants(rgbw: [number, number][]): number[][] {
  const xyz = ([x, y]: [number, number]) => [x / y, 1, (1 - x - y) / y];
  const cols = rgbw.slice(0, 3).map(xyz);
  let m: M3 = [0, 1, 2].map((i) => cols.map((c) => c[i]));
  const w = xyz(rgbw[3]);
  const s = apply(inv(m), w);
  m = m.map((row) => row.map((v, j) => v * s[j]));
  const src = apply(BRADFORD, w), dst = apply(BRADFORD, D50);
  const scale: M3 = [0, 1, 2].map((i) => [0, 1, 2].map((j) => i === j ? dst[i] / src[i] : 0));
  m = mul(mul(inv(BRADFORD), mul(scale, BRADFORD)), m);
  return [0, 1, 2].map((j) => m.map((row) => row[j]));
}

/** A minimal ICC v2 RGB display profile: desc, wtpt, colorants, one para curve for all three. */
function buildIcc(name: string, rgbw: [number, number][], curve: number[]): Uint8Array {
  const s15 = (v: number) => Math.round(v * 65536);
  const enc = new TextEncoder();
  const tag = (type: string, body: number[] | Uint8Array) => {
    const bytes = new Uint8Array(8 + body.length);
    bytes.set(enc.encode(type));
    bytes.set(body, 8);
    return bytes;
  };
  const ints = (values: number[]) => {
    const b = new Uint8Array(values.length * 4);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setInt32(4 * i, x));
    return b;
  };
  const text = enc.encode(name.slice(0, 120) + "\0");
  const desc = new Uint8Array(4 + text.length + 4 + 4 + 3 + 67);
  new DataView(desc.buffer).setUint32(0, text.length);
  desc.set(text, 4);
  const [r, g, b] = colorants(rgbw);
  const para = new Uint8Array(4 + 20);
  para[1] = 3; // function type 3
  para.set(ints(curve.map(s15)), 4);
  const tags: [string, Uint8Array][] = [
    ["desc", tag("desc", desc)],
    ["wtpt", tag("XYZ ", ints(D50.map(s15)))],
    ["rXYZ", tag("XYZ ", ints(r.map(s15)))],
    ["gXYZ", tag("XYZ ", ints(g.map(s15)))],
    ["bXYZ", tag("XYZ ", ints(b.map(s15)))],
    ["rTRC", tag("para", para)],
  ];
  const tableSize = 4 + 12 * (tags.length + 2);
  let offset = 128 + tableSize;
  const entries: [string, number, number][] = [];
  const bodies: Uint8Array[] = [];
  for (const [sig, data] of tags) {
    const pad = (4 - (offset % 4)) % 4;
    if (pad) bodies.push(new Uint8Array(pad));
    offset += pad;
    entries.push([sig, offset, data.length]);
    bodies.push(data);
    offset += data.length;
  }
  const trc = entries[entries.length - 1];
  entries.push(["gTRC", trc[1], trc[2]], ["bTRC", trc[1], trc[2]]);
  const out = new Uint8Array(offset);
  const v = new DataView(out.buffer);
  v.setUint32(0, offset);
  out.set(enc.encode("lcms"), 4);
  out.set([2, 0x10, 0, 0], 8);
  out.set(enc.encode("mntrRGB XYZ "), 12);
  out.set(enc.encode("acsp"), 36);
  out.set(ints(D50.map(s15)), 68);
  v.setUint32(128, entries.length);
  entries.forEach(([sig, at, size], i) => {
    out.set(enc.encode(sig), 132 + 12 * i);
    v.setUint32(136 + 12 * i, at);
    v.setUint32(140 + 12 * i, size);
  });
  let at = 128 + tableSize;
  for (const body of bodies) {
    out.set(body, at);
    at += body.length;
  }
  return out;
}
