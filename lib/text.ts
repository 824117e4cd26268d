/** True when the text holds ASCII control characters (newlines, NUL, escape…), never wanted in one-line fields. */
export function hasControlCharacters(value: string): boolean {
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
