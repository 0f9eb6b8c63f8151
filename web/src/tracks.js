// The plan's keyframe tracks, evaluated exactly as docs/plan-format.md says (no three.js here).
//
// A track has keys at integer frames; interpolation[i] governs the stretch from key i to key i+1:
// CONSTANT holds values[i], LINEAR runs straight to values[i+1]. Before the first key the first
// value holds, after the last the last. Frames may be fractional (smooth playback).

let f16 = null;

function half(bytes) {
  if (!f16) {
    f16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      f16[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  const src = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16[src[i]];
  return out;
}

export function base64Bytes(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function decodeRows(text, dtype) {
  const bytes = base64Bytes(text);
  if (dtype === "f2") return half(bytes);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

// Largest i with frames[i] <= f, or -1.
function keyBefore(frames, f) {
  let lo = 0;
  let hi = frames.length - 1;
  if (f < frames[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frames[mid] <= f) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Where frame f falls: key i and the fraction a (0 unless key i is LINEAR and f is past it).
function locate(frames, linear, f) {
  const k = frames.length;
  const i = keyBefore(frames, f);
  if (i < 0) return [0, 0];
  if (i >= k - 1 || !linear[i]) return [i, 0];
  const a = (f - frames[i]) / (frames[i + 1] - frames[i]);
  return [i, a > 0 ? Math.min(a, 1) : 0];
}

function parseInterp(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) === 76 ? 1 : 0; // "L"
  return out;
}

// One number per key, shared by every item (the pulses' progress).
export class SharedTrack {
  constructor(spec) {
    this.frames = Float64Array.from(spec.frames);
    this.linear = parseInterp(spec.interp);
    this.values = Float64Array.from(spec.values);
  }

  at(f) {
    const [i, a] = locate(this.frames, this.linear, f);
    const v = this.values[i];
    return a > 0 ? v + (this.values[i + 1] - v) * a : v;
  }
}

// K rows of N numbers, stored as distinct rows (each key names its row); rows of synapse values
// that depend only on the sender (gather "source") or the receiver ("target") are stored per neuron.
export class RowTrack {
  constructor(spec, blobs, nSrc = 0) {
    this.frames = Float64Array.from(spec.frames);
    this.linear = parseInterp(spec.interp);
    this.n = spec.n;
    this.width = spec.width;
    this.gather = spec.gather || null;
    this.nSrc = nSrc;
    this.rows = decodeRows(blobs[spec.rows], spec.dtype);
    this.index = Int32Array.from(spec.index);
    this.tmp = this.gather ? new Float32Array(this.width) : null;
    this.last = null; // [row0, row1, a] last written
  }

  row(r) {
    return this.rows.subarray(r * this.width, (r + 1) * this.width);
  }

  // Write the values at frame f into out (length n); false when out already holds them.
  into(f, out) {
    const [i, a0] = locate(this.frames, this.linear, f);
    const r0 = this.index[i];
    const r1 = a0 > 0 ? this.index[i + 1] : r0;
    const a = r0 === r1 ? 0 : a0;
    const last = this.last;
    if (last && last[0] === r0 && last[1] === r1 && last[2] === a) return false;
    this.last = [r0, r1, a];
    const dst = this.gather ? this.tmp : out; // out may be longer than a row (texture padding)
    const x = this.row(r0);
    if (a === 0) dst.set(x);
    else {
      const y = this.row(r1);
      for (let p = 0; p < x.length; p++) dst[p] = x[p] + (y[p] - x[p]) * a;
    }
    if (this.gather === "source") {
      const ns = this.nSrc;
      for (let p = 0; p < this.n; p++) out[p] = dst[p % ns];
    } else if (this.gather === "target") {
      const ns = this.nSrc;
      for (let p = 0; p < this.n; p++) out[p] = dst[(p / ns) | 0];
    }
    return true;
  }
}

// The text table: entry e holds from frames[e] until the next entry.
export function textEntry(frames, f) {
  return Math.max(0, keyBefore(frames, f));
}

// How many of the non-decreasing reveal frames are <= f.
export function revealed(frames, f) {
  return keyBefore(frames, f) + 1;
}
