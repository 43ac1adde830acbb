/**
 * The document time of a JSON line without parsing it: what `documentTimeSec(JSON.parse(line))`
 * gives, read from the line's tail, or NaN when the tail does not settle it (then parse the line).
 *
 * Why: the replay's reader thread must know a status document's time to merge the feeds in order,
 * but it may leave the parsing itself to the other thread (pipeline/replay-reader.ts). GBFS
 * documents end with their top-level `last_updated` (`…]},"last_updated":1680308113,"ttl":5}`).
 *
 * How: walking back from the closing brace over the top-level members, as long as their values
 * are numbers, literals or strings, to the last `last_updated` key (JSON.parse keeps the last of
 * duplicate keys). It gives up (NaN) at a nested value, a key with an escape, or a `last_updated`
 * that is not a number (`null` would make documentTimeSec read `lastUpdatedOther`; strings are
 * rare). For valid JSON a number it returns is exactly documentTimeSec's; for a damaged line it
 * may return anything, which the caller must allow for (the line fails to parse later).
 */
export function scanDocumentTimeSec(line: Uint8Array): number {
  let i = skipSpaceBack(line, line.length - 1);
  if (i < 0 || line[i] !== CLOSE_BRACE) return NaN;
  i--;
  for (;;) {
    // One member, backwards: value, ':', key, then ',' (more members) or '{' (the first one).
    i = skipSpaceBack(line, i);
    if (i < 0) return NaN;
    const valueEnd = i + 1;
    const c = line[i]!;
    if (c === QUOTE) {
      i = openingQuote(line, i);
      if (i < 0) return NaN;
      i--;
    } else if (isScalarByte(c)) {
      while (i >= 0 && isScalarByte(line[i]!)) i--;
    } else return NaN; // a nested object or array (or a damaged line)
    const valueStart = i + 1;
    i = skipSpaceBack(line, i);
    if (i < 0 || line[i] !== COLON) return NaN;
    i = skipSpaceBack(line, i - 1);
    if (i < 0 || line[i] !== QUOTE) return NaN;
    const keyEnd = i;
    i--;
    while (i >= 0 && line[i] !== QUOTE) {
      if (line[i] === BACKSLASH) return NaN; // an escaped key might spell last_updated
      i--;
    }
    if (i < 0) return NaN;
    if (isKey(line, i + 1, keyEnd, LAST_UPDATED)) {
      if (line[valueStart] === QUOTE || !isNumberStart(line[valueStart]!)) return NaN;
      const v = Number(latin1(line, valueStart, valueEnd));
      if (!Number.isFinite(v)) return NaN;
      return v > 1e11 ? Math.floor(v / 1000) : v;
    }
    i = skipSpaceBack(line, i - 1);
    if (i < 0 || line[i] !== COMMA) return NaN; // '{': no last_updated at the top level
    i--;
  }
}

const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LAST_UPDATED = Buffer.from('last_updated', 'latin1');

function skipSpaceBack(b: Uint8Array, i: number): number {
  while (i >= 0) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i--;
  }
  return i;
}

/** Digits, sign, point, exponent and the letters of true/false/null. */
function isScalarByte(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2b ||
    c === 0x2e ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x45
  );
}

function isNumberStart(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d;
}

/** Index of the quote opening the string whose closing quote is at `end`, or -1. */
function openingQuote(b: Uint8Array, end: number): number {
  let i = end - 1;
  for (;;) {
    while (i >= 0 && b[i] !== QUOTE) i--;
    if (i < 0) return -1;
    // Escaped when an odd number of backslashes precede it.
    let n = 0;
    while (i - 1 - n >= 0 && b[i - 1 - n] === BACKSLASH) n++;
    if (n % 2 === 0) return i;
    i--;
  }
}

function isKey(b: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key[k]) return false;
  return true;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(b[k]!);
  return s;
}
