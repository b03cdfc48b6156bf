import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { parseConfig } from './resolve.js';
import type { RotatorConfig } from './types.js';

const unreadable = (err: unknown, path: string): ConfigError =>
  new ConfigError([`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? err}`], path);

/**
 * The offset where `text` stops being JSON (RFC 8259), or -1. V8's messages name no position
 * for most errors (`Unexpected end of JSON input`), so the loader finds it itself; this runs
 * only after `JSON.parse` failed.
 */
export const jsonErrorOffset = (text: string): number => {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const expect = (ch: string): void => {
    ws();
    if (text[i] !== ch) fail();
    i++;
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < ' ') fail();
      i++;
      if (ch === '"') return;
      if (ch === '\\') {
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
        else fail();
      }
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (close === '}') {
          ws();
          string();
          expect(':');
        }
        value();
        ws();
        if (text[i] !== ',') {
          expect(close);
          return;
        }
        i++;
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
    literal.lastIndex = i;
    const match = literal.exec(text);
    if (!match) fail();
    i += (match as RegExpExecArray)[0].length;
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
};

/** Line and column (1-based) of `offset` in `text`. */
const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
};

/** The file's JSON; not JSON -> a ConfigError naming the file, the line and the column. */
export const parseConfigJson = (text: string, path: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (err) {
    const offset = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset < 0 ? text.length : offset);
    throw new ConfigError(
      [`not valid JSON at line ${line}, column ${column}: ${(err as Error).message}`],
      path,
    );
  }
};

/** Reads and validates a config file. Every failure is a ConfigError naming the file. */
export const loadConfigFile = async (path: string): Promise<RotatorConfig> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw unreadable(err, path);
  }
  return parseConfig(parseConfigJson(text, path), path);
};

/**
 * The file's raw JSON, validated, read synchronously (a CDK construct is built synchronously).
 * The raw form is what ships with the functions, which apply the defaults themselves.
 */
export const readConfigFileSync = (path: string): { raw: unknown; config: RotatorConfig } => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(err, path);
  }
  const raw = parseConfigJson(text, path);
  return { raw, config: parseConfig(raw, path) };
};
