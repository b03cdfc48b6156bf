import { afterAll, inject } from 'vitest';
import { AwsFaultProxy, setAwsProxy } from '../../tools/aws/fault-proxy.js';

// Before any test module is imported: the module-scope SDK clients must see the proxy.
const proxy = await AwsFaultProxy.start(inject('motoEndpoint'));
Object.assign(process.env, {
  AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint,
  AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.endpoint,
});
setAwsProxy(proxy);
afterAll(() => proxy.close());
