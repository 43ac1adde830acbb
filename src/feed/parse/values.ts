/**
 * Field readers shared by every GBFS document parser. They run once per station field on every
 * document of a replay, so they return plain numbers with negative sentinel codes instead of
 * allocating result objects, and they never use a regex.
 */

/** Value absent (`undefined` or `null`). */
export const MISSING = -1;
/** Value present but of the wrong type or form. */
export const BAD = -2;
/** A count below zero. */
export const NEGATIVE = -3;

/**
 * Earliest plausible timestamp: 2000-01-01T00:00:00Z. GBFS dates from 2015 (the v1.1 schema sets
 * `minimum: 1450155600`); anything older is a broken clock or a sentinel (Lyft sends
 * `last_reported: 86400` for stations that never reported).
 */
export const MIN_PLAUSIBLE_SEC = 946_684_800;
/** Above this a numeric timestamp is milliseconds (1e11 s is the year 5138, 1e11 ms is 1973). */
const MS_THRESHOLD = 1e11;

/** A count: the integer itself (>= 0), or MISSING, BAD (not an integer), NEGATIVE. */
export function readCount(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return BAD;
    return v < 0 ? NEGATIVE : v;
  }
  return v === undefined || v === null ? MISSING : BAD;
}

/**
 * A GBFS flag: 1 (true), 0 (false), MISSING or BAD. GBFS 1.x uses 0/1 numbers, 2.0+ booleans, Vélib'
 * 0/1 integers, and some feeds send the strings "true"/"false".
 */
export function readFlag(v: unknown): number {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  if (v === undefined || v === null) return MISSING;
  if (v === 'true') return 1;
  if (v === 'false') return 0;
  return BAD;
}

/**
 * A timestamp as POSIX seconds (integer), or MISSING / BAD. Accepts POSIX seconds, milliseconds
 * (> 1e11, some feeds send JavaScript time) and RFC 3339 strings (GBFS 3.x).
 */
export function readTimestampSec(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return BAD;
    const sec = v > MS_THRESHOLD ? v / 1000 : v;
    if (sec > MS_THRESHOLD) return BAD; // microseconds or garbage
    return Math.floor(sec);
  }
  if (typeof v === 'string') return rfc3339ToSec(v);
  return v === undefined || v === null ? MISSING : BAD;
}

/** Time-to-live in seconds, null when absent or not a non-negative number. */
export function readTtlSec(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function digits2(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Where `YYYY-MM-DDTHH:MM:SS` must have digits. */
const DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/**
 * RFC 3339 `date-time` (section 5.6) to POSIX seconds, or BAD. Checked character by character
 * because `Date.parse` alone accepts many other formats and rolls 31 February over into March.
 */
export function rfc3339ToSec(s: string): number {
  const n = s.length;
  if (n < 20) return BAD;
  for (const i of DIGIT_POSITIONS) if (!isDigit(s, i)) return BAD;
  const t = s[10];
  if (s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return BAD;
  if (t !== 'T' && t !== 't' && t !== ' ') return BAD;
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  if (month < 1 || month > 12 || day < 1 || day > (DAYS_IN_MONTH[month - 1] ?? 0)) return BAD;
  let i = 19;
  if (s[i] === '.') {
    i++;
    const start = i;
    while (i < n && isDigit(s, i)) i++;
    if (i === start) return BAD;
  }
  const z = s[i];
  if (z === 'Z' || z === 'z') {
    if (i + 1 !== n) return BAD;
  } else if (z === '+' || z === '-') {
    if (i + 6 !== n || !isDigit(s, i + 1) || !isDigit(s, i + 2) || s[i + 3] !== ':') return BAD;
    if (!isDigit(s, i + 4) || !isDigit(s, i + 5)) return BAD;
  } else {
    return BAD;
  }
  // Date.parse wants the upper-case ISO form; lower-case and space separators are RFC 3339 too.
  const iso = t === 'T' && z !== 'z' ? s : `${s.slice(0, 10)}T${s.slice(11).toUpperCase()}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? BAD : Math.floor(ms / 1000);
}

/** A short printable form of an offending value for rejection messages (error path only). */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    // undefined only for functions and symbols, which JSON.parse never produces.
    text = JSON.stringify(v) ?? typeof v;
  } catch {
    text = typeof v; // cyclic object: cannot come from JSON.parse either
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
