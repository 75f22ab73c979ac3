/**
 * @file Text from input files (dataset fields, headers, file names, Hub answers) is echoed in messages; raw, its
 * control characters reach the terminal (ESC sequences recolour or rewrite the screen, OSC 52 writes the
 * clipboard). Everything printed goes through escapeControlChars: C0 controls other than newline and tab, DEL,
 * C1 controls and the Unicode bidirectional overrides become visible `\xNN` / `\u{NNNN}` escapes.
 */

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with every unsafe control character written as a visible escape (newline and tab kept). */
export function escapeControlChars(text: string): string {
  return text.replace(UNSAFE, visible);
}
