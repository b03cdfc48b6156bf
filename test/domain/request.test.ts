import { describe, expect, it } from 'vitest';
import { InvalidEventError, parseRotateEvent } from '../../functions/domain/request.js';

const P1 = '5e2211c17a3e5a48f5497de3';
const only = [{ projectId: P1, username: 'app1' }];

describe('the rotate payload (#24.3, D3)', () => {
  it("accepts docs/deploy.md step 4's forced payload, with neither requestedAt nor requestId", () => {
    const request = parseRotateEvent({ force: true, only });
    expect(request).toMatchObject({ force: true, only });
    expect(request.requestId).toBeUndefined();
    expect(request.requestedAt).toBeUndefined();
  });

  it('takes an optional requestId, and keeps requestedAt for callers that send it', () => {
    expect(
      parseRotateEvent({ force: true, all: true, requestId: 'ticket-4711:retry.2' }),
    ).toMatchObject({ requestId: 'ticket-4711:retry.2' });
    const at = '2026-12-01T10:00:00Z';
    expect(
      parseRotateEvent({ force: true, only, requestedAt: at }, new Date(at)).requestedAt,
    ).toEqual(new Date(at));
  });

  it.each([
    ['', 'requestId: must be 1 to 128 characters'],
    ['two words', 'requestId: must be 1 to 128 characters'],
    ['x'.repeat(129), 'requestId: must be 1 to 128 characters'],
    ['ünï', 'requestId: must be 1 to 128 characters'],
  ])('refuses requestId %j, naming the field', (requestId, message) => {
    expect(() => parseRotateEvent({ force: true, only, requestId })).toThrow(InvalidEventError);
    expect(() => parseRotateEvent({ force: true, only, requestId })).toThrow(message);
  });

  it('refuses a requestId without force: nothing would record or serve it', () => {
    expect(() => parseRotateEvent({ requestId: 'ticket-4711' })).toThrow(
      'requestId is only meaningful with force',
    );
    expect(() => parseRotateEvent({ dryRun: true, requestId: 'ticket-4711' })).toThrow(
      InvalidEventError,
    );
  });
});
