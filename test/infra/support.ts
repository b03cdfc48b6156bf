import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { RawConfig } from '../../functions/domain/config.js';
import { AtlasX509RotatorStack, type AtlasX509RotatorStackProps } from '../../infra/stack.js';

/** The example config the repository deploys with (`infra/example.config.json`). */
export const exampleConfig = (): RawConfig =>
  JSON.parse(readFileSync(new URL('../../infra/example.config.json', import.meta.url), 'utf8'));

export const PROJECT_A = '5e2211c17a3e5a48f5497de3';
export const PROJECT_B = '6a1f00aa00bb00cc00dd00ee';
export const READER_A = 'arn:aws:iam::111122223333:role/app1-reader';
export const READER_B = 'arn:aws:iam::444455556666:role/analytics-reader';

/** A bundling-free app (bundling is proven once, in bundling.test.ts). */
export const newApp = (): App => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

export const synth = (
  props: Partial<AtlasX509RotatorStackProps> = {},
  app: App = newApp(),
): { app: App; stack: AtlasX509RotatorStack; template: Template } => {
  const stack = new AtlasX509RotatorStack(app, 'Rotator', { config: exampleConfig(), ...props });
  return { app, stack, template: Template.fromStack(stack) };
};

/** The one logical id of the only resource of `type` whose properties match. */
export const logicalId = (template: Template, type: string, props: object = {}): string => {
  const ids = Object.keys(
    template.findResources(type, Object.keys(props).length > 0 ? { Properties: props } : undefined),
  );
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
};
