import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../functions/domain/config/load.js';
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
});
