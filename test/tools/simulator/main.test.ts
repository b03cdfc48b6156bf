import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../../tools/simulator/main.ts', import.meta.url));

it('main.ts prints export lines, serves the project and stops on SIGINT', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (/listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`main.ts exited early with ${code}`)));
    });
    await ready;

    const id = /^export MONGODB_ATLAS_CLIENT_ID=(\S+)$/m.exec(stdout)?.[1];
    const secret = /^export MONGODB_ATLAS_CLIENT_SECRET=(\S+)$/m.exec(stdout)?.[1];
    const baseUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    expect(id).toBe('mdb_sa_id_sim');
    expect(secret).toMatch(/^mdb_sa_sk_[0-9a-f]{48}$/);
    // The secret is printed exactly once.
    expect(stdout.split(secret ?? '').length - 1).toBe(1);

    const tokenRes = await request(`${baseUrl}/api/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await tokenRes.body.json()) as { access_token: string };
    const users = await request(
      `${baseUrl}/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/databaseUsers`,
      {
        headers: {
          authorization: `Bearer ${access_token}`,
          accept: 'application/vnd.atlas.2023-01-01+json',
        },
      },
    );
    const body = (await users.body.json()) as { results: { username: string }[] };
    expect(body.results.map((u) => u.username)).toContain('svc.reporting+eu@corp');

    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
