/**
 * The keys that appear more than once in one object of a JSON text. JSON.parse keeps
 * the last of them and so hides the duplicate a log parser would also drop; this reads
 * the raw text instead.
 */
export function duplicateKeys(text: string): string[] {
  const duplicates: string[] = [];
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') {
        if (end >= text.length) throw new Error(`unterminated string in ${text}`);
        end += text[end] === '\\' ? 2 : 1;
      }
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = text.slice(i + 1, end);
        if (keys.has(key)) duplicates.push(key);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
  return duplicates;
}
