/**
 * File names as the system has them: bytes, not always UTF-8, with any character but / and NUL.
 * A name travels as a string; a byte that is not part of valid UTF-8 is carried as a lone
 * surrogate U+DC80..U+DCFF (Python's "surrogateescape"), which no valid UTF-8 decodes to, so
 * `fsPath` gives the file back its exact bytes. `printable` is the one way a name is shown.
 */

const LONE_BYTE = /[\udc80-\udcff]/;

/** The bytes of a name (a directory entry, an argument) as a string; see the module comment. */
export function decodeName(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  if (!s.includes('\ufffd') || Buffer.from(s, 'utf8').equals(b)) return s;
  let out = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let cp = n === 1 ? c : n === 2 ? c & 0x1f : n === 3 ? c & 0x0f : c & 0x07;
    let ok = n > 0 && i + n <= b.length;
    for (let k = 1; ok && k < n; k++) {
      ok = (b[i + k] & 0xc0) === 0x80;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    if (ok && ((n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += n;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/** What to give node:fs for a name from decodeName: the string, or its exact bytes. */
export function fsPath(name: string): string | Buffer {
  if (!LONE_BYTE.test(name)) return name;
  const parts: Buffer[] = [];
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    parts.push(cp >= 0xdc80 && cp <= 0xdcff ? Buffer.from([cp - 0xdc00]) : Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}

/**
 * Characters a name must not put on a terminal or into XML as they are: C0 and C1 controls
 * and DEL (a name can clear the screen or retitle the terminal), lone surrogates (bytes that
 * were not UTF-8), U+FFFE and U+FFFF and U+FDD0..U+FDEF (not characters: not allowed in XML),
 * and the invisible marks that reorder or hide text (bidirectional overrides, line separators).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A name (or any text from outside) made safe to print: what could act on a terminal or break XML is shown as \xNN or \u{N}. */
export function printable(name: string): string {
  return name.replace(UNPRINTABLE, (ch) => {
    const c = ch.charCodeAt(0);
    if (c < 0x100) return `\\x${c.toString(16).padStart(2, '0')}`;
    if (c >= 0xdc80 && c <= 0xdcff) return `\\x${(c - 0xdc00).toString(16)}`; // a byte that was not UTF-8
    return `\\u{${c.toString(16)}}`;
  });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A name as UTF-8 text can hold it (a database, JSON for other tools): bytes that were not UTF-8 become U+FFFD. */
export function wellFormed(name: string): string {
  return name.replace(LONE_SURROGATE, '\ufffd');
}

/** Text of several lines (a message listing names): each line made printable, the line breaks kept. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
