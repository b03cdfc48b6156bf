import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/domain/config/errors.js';
import { jsonErrorOffset, loadConfigFile } from '../../../functions/domain/config/load.js';
import { example } from './example.js';

describe('config', () => {
  it('loads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(example));
    expect((await loadConfigFile(good)).projects).toHaveLength(2);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    await expect(loadConfigFile(bad)).rejects.toThrow(`Invalid rotation config in ${bad}`);
    await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toThrow(
      'cannot read the file: ENOENT',
    );
  });

  it("names the line and column where a file stops being JSON, keeping V8's words", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const cases: [string, string][] = [
      ['', 'line 1, column 1: Unexpected end of JSON input'],
      ['{\n  "projects": [\n', 'line 3, column 1: Unexpected end of JSON input'],
      ['{\n  "defaults": { "kmsKeyId": "alias/x", },\n}', 'line 2, column 40: '],
      ['{\n  "a": "tab\there"\n}', 'line 2, column 12: '],
      ['{"a": 1} trailing', 'line 1, column 10: '],
    ];
    for (const [text, where] of cases) {
      const path = join(dir, 'c.json');
      await writeFile(path, text);
      const err = await loadConfigFile(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(`Invalid rotation config in ${path}:`);
      expect((err as ConfigError).issues[0]).toMatch(new RegExp(`^not valid JSON at ${where}`));
    }
    expect(jsonErrorOffset('{"a": [1, {"b": null}], "c": -1.5e3}')).toBe(-1);
  });
});
