import { describe, expect, it } from 'vitest';
import { closest, inFlagLanguage, unknownFlagMessage } from '../../functions/cli/flags.js';
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

describe('a mistyped flag or command gets a did-you-mean', () => {
  const ROTATE = ['config', 'dry-run', 'force', 'only', 'all', 'json', 'quiet', 'time-budget'];

  it.each([
    ['--dryrun', '--dry-run'],
    ['--dry_run', '--dry-run'],
    ['--DryRun', '--dry-run'],
    ['--jsn', '--json'],
    ['--confg', '--config'],
    ['--timebudget', '--time-budget'],
    ['--quite', '--quiet'],
  ])('%s: did you mean %s?', (given, meant) => {
    expect(
      unknownFlagMessage(
        `Unknown option '${given}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${given}"`,
        ROTATE,
      ),
    ).toBe(`Unknown option '${given}': did you mean ${meant}?`);
  });

  it('names the options when nothing is close, and keeps other messages as they are', () => {
    expect(unknownFlagMessage("Unknown option '--verbose'", ['config', 'json'])).toBe(
      "Unknown option '--verbose' (options: --config, --json)",
    );
    expect(unknownFlagMessage("Unknown option '--dryrun=true'", ROTATE)).toBe(
      "Unknown option '--dryrun': did you mean --dry-run?",
    );
    expect(unknownFlagMessage('Option --only <value> argument missing', ROTATE)).toBe(
      'Option --only <value> argument missing',
    );
  });

  it('suggests a command one or two edits away, and nothing for a stranger', () => {
    const commands = ['rotate', 'disable-customer-x509', 'doctor'];
    expect(closest('rotat', commands)).toBe('rotate');
    expect(closest('docter', commands)).toBe('doctor');
    expect(closest('disable', commands)).toBeUndefined();
    expect(closest('ls', commands)).toBeUndefined();
  });

  it('drops "(and redeploy)" from a refusal the CLI shows: it reads the file it is given', () => {
    const config = { projects: [{ projectId: '5e2211c17a3e5a48f5497de3' }] } as never;
    const stranger = caught(() =>
      checkDisableAllowed(config, { projectId: '6a1f00aa00bb00cc00dd00ee' }),
    );
    expect(stranger.remedy).toContain('(and redeploy)');
    expect(inFlagLanguage(stranger, 'disable-customer-x509').remedy).toBe(
      'Add the project to the config if this is really the project you mean.',
    );
  });
});
