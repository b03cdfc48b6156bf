import { readFileSync } from 'node:fs';

/** A recorded Atlas response, split into status line, headers and the exact body bytes. */
export interface Recorded {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const loadRecorded = (name: string): Recorded => {
  const raw = readFileSync(new URL(`../fixtures/atlas-recorded/${name}`, import.meta.url), 'utf8');
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).split(/\r?\n/);
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const status = Number(head[0]?.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body };
};
