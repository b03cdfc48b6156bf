/**
 * The Lambda handlers the package ships prebuilt (`npm run build`, scripts/build.ts): each
 * bundle is `dist/assets/<name>/index.mjs`, and synth copies it beside the validated config.
 * No imports here: the build reads this list without loading aws-cdk-lib.
 */
export const HANDLERS = [
  { name: 'rotate', entry: 'functions/rotate/handler.ts' },
  { name: 'disable-customer-x509', entry: 'functions/disable-customer-x509/handler.ts' },
  { name: 'ecs-redeploy', entry: 'functions/ecs-redeploy/handler.ts' },
] as const;

export type HandlerName = (typeof HANDLERS)[number]['name'];

/** The file name the handlers read beside themselves (`functions/bundled-config.ts`). */
export const SHIPPED_CONFIG_FILE = 'rotation.config.json';
