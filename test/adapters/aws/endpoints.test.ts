import { describe, expect, it } from 'vitest';
import {
  endpointOverride,
  endpointVariable,
  isLocalEndpoint,
} from '../../../functions/adapters/aws/endpoints.js';
import { eventTarget } from '../../../functions/adapters/aws/events.js';

const MOTO = 'http://127.0.0.1:5000';

describe('endpointOverride: as the SDK reads the environment', () => {
  it('names the variables the SDK reads', () => {
    expect(endpointVariable('Secrets Manager')).toBe('AWS_ENDPOINT_URL_SECRETS_MANAGER');
    expect(endpointVariable('DynamoDB')).toBe('AWS_ENDPOINT_URL_DYNAMODB');
    expect(endpointVariable('EventBridge')).toBe('AWS_ENDPOINT_URL_EVENTBRIDGE');
  });

  it.each<[string, NodeJS.ProcessEnv, ReturnType<typeof endpointOverride>]>([
    ['nothing set (the Lambda)', {}, undefined],
    [
      'the service’s own variable',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: MOTO, AWS_ENDPOINT_URL: 'http://other:1' },
      { url: MOTO, variable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER' },
    ],
    ['the general one', { AWS_ENDPOINT_URL: MOTO }, { url: MOTO, variable: 'AWS_ENDPOINT_URL' }],
    [
      'an empty one, as unset',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: '', AWS_ENDPOINT_URL: MOTO },
      { url: MOTO, variable: 'AWS_ENDPOINT_URL' },
    ],
    [
      'both, ignored by AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
      { AWS_ENDPOINT_URL_SECRETS_MANAGER: MOTO, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      undefined,
    ],
  ])('%s', (_label, env, expected) => {
    expect(endpointOverride('Secrets Manager', env)).toEqual(expected);
  });

  it.each([
    ['http://127.0.0.1:5000', true],
    ['http://localhost:4566', true],
    ['https://localhost:4566', true],
    ['https://[::1]:4566', true],
    ['https://moto.localhost', true],
    ['https://host.docker.internal:4566', true],
    ['http://localstack:4566', true],
    ['https://secretsmanager.eu-west-1.amazonaws.com', false],
    ['https://vpce-0a1b-2c3d.secretsmanager.eu-west-1.vpce.amazonaws.com', false],
    ['not a url', false],
  ])('isLocalEndpoint(%s) is %s', (url, local) => {
    expect(isLocalEndpoint(url)).toBe(local);
  });
});

describe('eventTarget: a local run does not publish to a real bus', () => {
  const local = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: MOTO,
    AWS_ENDPOINT_URL_DYNAMODB: MOTO,
  };

  it('skips events when Secrets Manager is local and EventBridge is not', () => {
    expect(eventTarget(local)).toEqual({
      skipped: `Secrets Manager is local (AWS_ENDPOINT_URL_SECRETS_MANAGER=${MOTO}) and EventBridge is not (set AWS_ENDPOINT_URL_EVENTBRIDGE to publish locally): not publishing to a real bus`,
    });
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['no endpoint at all (the Lambda)', {}, 'default'],
    ['the Lambda with a bus of its own', { ROTATOR_EVENT_BUS: 'ops' }, 'ops'],
    ['a local EventBridge too', { ...local, AWS_ENDPOINT_URL_EVENTBRIDGE: MOTO }, 'default'],
    ['one general endpoint for everything', { AWS_ENDPOINT_URL: MOTO }, 'default'],
    [
      'Secrets Manager through a VPC endpoint (AWS, not local)',
      {
        AWS_ENDPOINT_URL_SECRETS_MANAGER:
          'https://vpce-0a1b-2c3d.secretsmanager.eu-west-1.vpce.amazonaws.com',
      },
      'default',
    ],
  ])('publishes with %s', (_label, env, bus) => {
    expect(eventTarget(env)).toEqual({ bus });
  });
});
