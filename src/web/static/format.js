// Formatting and DOM helpers. Every string from the kernel (process names, addresses, interface
// names, states) reaches the page through textContent only, never as HTML.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB": three significant digits, binary units (as `ntstat top`). */
export function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)} ${UNITS[u]}`;
}

export function rate(n) {
  return `${bytes(n)}/s`;
}

export function count(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function dateTime(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function endpoint(e) {
  if (!e) return '';
  if (e.address === '0.0.0.0' || e.address === '::') return e.port ? `*:${e.port}` : '*';
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

// Invisible or reordering characters a kernel string may carry (C0/C1 controls, bidi overrides
// and isolates, zero-width, BOM, U+FFFD): shown as visible escapes, as `ntstat top` does, so
// `evil\u{202e}gnp.exe` cannot pass for "evilexe.png".
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffd]/g;

/** Untrusted text as it will be shown (still set with textContent, never as HTML). */
export function shown(text) {
  return String(text).replace(INVISIBLE, (ch) => {
    const cp = ch.codePointAt(0);
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

/** An element with text (textContent: never parsed as HTML). */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// Colour-blind-friendly-ish palette, readable on light and dark backgrounds.
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#3fb6dc', '#8cd17d', '#d37295'];
const assigned = new Map();

/** A stable colour per name for the whole session (the chart's and the table's swatches agree). */
export function colorFor(name, other = false) {
  if (other) return '#9aa3ad';
  let c = assigned.get(name);
  if (!c) {
    c = PALETTE[assigned.size % PALETTE.length];
    assigned.set(name, c);
  }
  return c;
}

export async function getJson(url) {
  const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(body.error || `${r.status} ${r.statusText}`);
    e.status = r.status;
    throw e;
  }
  return body;
}
