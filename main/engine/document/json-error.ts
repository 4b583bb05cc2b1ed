/**
 * Locates a JSON syntax error as line and column. `JSON.parse` only sometimes says where
 * ("at position N"), so a small scanner finds the first offending character itself.
 */

export interface JsonErrorLocation {
  /** 0-based offset into the text. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, counted in UTF-16 code units like editors do. */
  column: number;
  message: string;
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Scans `text` as JSON and returns where and why it is invalid, or undefined when it is
 * valid (or nested too deeply to scan). Messages are short and human ("expected ',' or '}' after a property value").
 */
export function findJsonError(text: string): JsonErrorLocation | undefined {
  let i = 0;
  const n = text.length;
  const show = (at: number): string => {
    if (at >= n) return 'end of file';
    const ch = text[at];
    return ch === '\n' ? 'end of line' : `'${ch}'`;
  };
  const fail = (at: number, expected: string): never => {
    throw new Stop(at, `expected ${expected}, found ${show(at)}`);
  };
  const skip = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++) {
      if (text[i + k] !== word[k]) fail(i + k, `'${word}'`);
    }
    i += word.length;
  };
  const string = (): void => {
    const start = i;
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          throw new Stop(i, 'invalid escape in string');
        }
        continue;
      }
      if (c < 0x20) throw new Stop(i, c === 0x0a ? 'string not closed before end of line' : 'control character in string');
      i++;
    }
    throw new Stop(start, 'string is never closed');
  };
  const numberPattern = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const number = (): void => {
    numberPattern.lastIndex = i;
    const m = numberPattern.exec(text);
    if (!m) fail(i, 'a value');
    i += m![0].length;
  };
  const value = (): void => {
    skip();
    const ch = text[i];
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    fail(i, 'a value');
  };
  const object = (): void => {
    i++;
    skip();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') fail(i, text[i] === '}' ? 'a property name (no trailing commas in JSON)' : 'a double-quoted property name');
      string();
      skip();
      if (text[i] !== ':') fail(i, "':' after a property name");
      i++;
      value();
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(i, "',' or '}' after a property value");
    }
  };
  const array = (): void => {
    i++;
    skip();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      skip();
      if (text[i] === ']') fail(i, 'a value (no trailing commas in JSON)');
      value();
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(i, "',' or ']' after an array element");
    }
  };
  try {
    skip();
    if (i >= n) throw new Stop(i, 'the file is empty');
    value();
    skip();
    if (i < n) fail(i, 'end of file after the top-level value');
    return undefined;
  } catch (error) {
    // Absurd nesting can exhaust the stack; the caller then falls back to Node's position.
    if (error instanceof RangeError) return undefined;
    if (!(error instanceof Stop)) throw error;
    return { offset: error.offset, ...lineColumn(text, error.offset), message: error.message };
  }
}

/**
 * Where a failed `JSON.parse` failed: the scanner's answer, or, if the scanner disagrees that
 * the text is invalid, the position in Node's own message.
 */
export function locateJsonError(text: string, parseError: unknown): JsonErrorLocation {
  const found = findJsonError(text);
  if (found) return found;
  const message = parseError instanceof Error ? parseError.message : String(parseError);
  const m = /at position (\d+)/.exec(message);
  const offset = m ? Number(m[1]) : text.length;
  return { offset, ...lineColumn(text, offset), message: message.replace(/ in JSON at position \d+.*$/, '') };
}
