import { describe, expect, it } from 'vitest';
import { inFlagLanguage } from '../../functions/cli/flags.js';
import { checkDisableAllowed, parseDisableRequest } from '../../functions/domain/customer-x509.js';
import type { RotatorError } from '../../functions/domain/errors.js';
import { parseRotateEvent } from '../../functions/domain/request.js';

const caught = (f: () => unknown): RotatorError => {
  try {
    f();
  } catch (err) {
    return err as RotatorError;
  }
  throw new Error('did not throw');
};

describe('CLI errors in flag language', () => {
  it('names --only by its position and points at --help instead of a payload', () => {
    const err = caught(() =>
      parseRotateEvent({
        force: true,
        requestedAt: new Date().toISOString(),
        only: [
          { projectId: '5e2211c17a3e5a48f5497de3', username: 'a' },
          { projectId: 'nope', username: 'b' },
        ],
      }),
    );
    expect(err.remedy).toMatch(/^Send \{/);
    expect(inFlagLanguage(err, 'rotate')).toEqual({
      message: 'Invalid options: --only #2: the project id: must be a 24-character hex project id',
      remedy: 'See `atlas-x509-rotator rotate --help`.',
    });
  });

  it('says --force needs --only or --all', () => {
    const err = caught(() =>
      parseRotateEvent({ force: true, requestedAt: new Date().toISOString() }),
    );
    expect(inFlagLanguage(err, 'rotate').message).toBe(
      'Invalid options: --force needs --only <projectId>:<username> or --all',
    );
  });

  it('renames the disable request fields to --project, --confirm, --requested-by, --reason', () => {
    expect(
      inFlagLanguage(
        caught(() => parseDisableRequest({ projectId: 'x' })),
        'disable-customer-x509',
      ).message,
    ).toMatch(/^Invalid options: --project: must be/);
    const config = { projects: [{ projectId: '5e2211c17a3e5a48f5497de3' }] } as never;
    const unconfirmed = caught(() =>
      checkDisableAllowed(config, {
        projectId: '5e2211c17a3e5a48f5497de3',
        confirm: '5e2211c17a3e5a48f5497de3',
      }),
    );
    const said = inFlagLanguage(unconfirmed, 'disable-customer-x509');
    expect(said.message).toMatch(/needs requestedBy and reason|needs --requested-by/);
    expect(said.remedy).toBe('Say who asks and why: add --requested-by and --reason.');
  });
});
