/**
 * Untrusted text (process names, interface descriptions, domain names) must never drive the
 * user's terminal: C0/C1 controls, DEL, bidi overrides and other invisible format characters
 * are shown as escapes. JSON output is exact instead (JSON.stringify escapes controls).
 */
// C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, zero-width and BOM,
// line/paragraph separators, and U+FFFD (marks bytes that were not valid UTF-8).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffd]/g;

export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const cp = ch.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}
