/**
 * Split one CSV record (RFC 4180 §2) into fields. Vendor inventory records never span
 * lines, so a quoted field must close on the same line. Unquoted fields are trimmed;
 * quoted ones are taken as written, with "" standing for one quote.
 * Returns null for a malformed quote.
 */
export function splitCsvLine(line: string): string[] | null {
  if (!line.includes('"')) {
    const fields = line.split(',');
    // Most fields have nothing to trim: keep those strings as split made them.
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.length > 0 && (isSpace(f.charCodeAt(0)) || isSpace(f.charCodeAt(f.length - 1)))) fields[i] = f.trim();
    }
    return fields;
  }
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close === -1) return null;
        value += line.slice(i, close);
        if (line[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') return null;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      const value = line.slice(i, end);
      if (value.includes('"')) return null;
      fields.push(value.trim());
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** Whether String.prototype.trim removes this character (ECMA-262 WhiteSpace and LineTerminator). */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
