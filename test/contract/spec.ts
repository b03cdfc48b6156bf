/**
 * Atlas's published contract, as the checks use it: the vendored OpenAPI subset
 * (`contract/atlas-x509-subset.yaml`) turned into one entry per method + path template, with
 * ajv validators compiled from its schemas. Keyed on method and path, never on operationIds,
 * which differ between copies of the spec.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';
import { patchSpec } from './deviations.js';

export const SPEC_FILE = new URL('../../contract/atlas-x509-subset.yaml', import.meta.url);

type Json = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  validate: ValidateFunction;
  type: string | undefined;
}

export interface DocumentedResponse {
  /** Media type (without parameters) -> body validator. */
  content: Map<string, ValidateFunction>;
  /** Header name (lower case) -> value validator. */
  headers: Map<string, ValidateFunction>;
}

export interface Operation {
  method: string;
  template: string;
  operationId: string;
  pattern: RegExp;
  /** Path parameter names in template order. */
  pathNames: string[];
  parameters: Parameter[];
  requestBody: { required: boolean; content: Map<string, ValidateFunction> } | undefined;
  /** Status code (or `default`) -> documented answer. */
  responses: Map<string, DocumentedResponse>;
  /** Version dates of the operation's success media types, oldest first. */
  versions: string[];
}

export interface Contract {
  operations: Operation[];
  find(method: string, path: string): { operation: Operation; params: string[] } | undefined;
  /** A validator for `components.schemas[name]`. */
  schema(name: string): ValidateFunction;
}

/** `application/vnd.atlas.2023-01-01+json` -> `2023-01-01`. */
export const versionOf = (mediaType: string): string | undefined =>
  /^application\/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$/i.exec(mediaType.trim())?.[1];

/** The media type without parameters, lower case: `application/json;charset=utf-8` -> `application/json`. */
export const bareMediaType = (value: string): string =>
  (value.split(';')[0] ?? '').trim().toLowerCase();

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export const loadContract = (text = readFileSync(SPEC_FILE, 'utf8')): Contract => {
  const spec = patchSpec(parse(text) as Json);
  const components = spec.components as Record<string, Record<string, Json>>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // OpenAPI's formats: date-time for timestamps, int32/int64 for integers (ajv-formats 3 has both).
  ajvFormats.default(ajv);
  ajv.addSchema({ components: { schemas: components.schemas } }, 'atlas');
  // The error responses and paging parameters are shared by every operation: compile each once.
  const compiled = new Map<unknown, ValidateFunction>();
  const compile = (schema: unknown): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(rewriteRefs(schema) as Json);
      compiled.set(schema, validate);
    }
    return validate;
  };

  const deref = (node: Json): Json => {
    const ref = node.$ref;
    if (typeof ref !== 'string') return node;
    const [, , kind = '', name = ''] = ref.split('/');
    const target = components[kind]?.[name];
    if (!target) throw new Error(`dangling ${ref}`);
    return deref(target);
  };

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(spec.paths as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const pathNames = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      const source = template
        .split(/\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
        .join('([^/]+)');
      const parameters = ((op.parameters as Json[] | undefined) ?? []).map((raw): Parameter => {
        const p = deref(raw);
        const schema = (p.schema as Json | undefined) ?? {};
        return {
          name: p.name as string,
          in: p.in as Parameter['in'],
          required: p.required === true,
          validate: compile(schema),
          type: schema.type as string | undefined,
        };
      });
      const body = op.requestBody ? deref(op.requestBody as Json) : undefined;
      const responses = new Map<string, DocumentedResponse>();
      const versions = new Set<string>();
      for (const [status, raw] of Object.entries(op.responses as Record<string, Json>)) {
        const r = deref(raw);
        const content = contentMap(r.content as Record<string, Json> | undefined, compile);
        if (status.startsWith('2')) {
          for (const type of content.keys()) {
            const v = versionOf(type);
            if (v) versions.add(v);
          }
        }
        const headers = new Map<string, ValidateFunction>();
        for (const [name, h] of Object.entries((r.headers as Record<string, Json>) ?? {})) {
          headers.set(name.toLowerCase(), compile(deref(h).schema ?? {}));
        }
        responses.set(status, { content, headers });
      }
      operations.push({
        method: method.toUpperCase(),
        template,
        operationId: op.operationId as string,
        pattern: new RegExp(`^${source}$`),
        pathNames,
        parameters,
        requestBody: body && {
          required: body.required === true,
          content: contentMap(body.content as Record<string, Json>, compile),
        },
        responses,
        versions: [...versions].sort(),
      });
    }
  }
  return {
    operations,
    schema: (name) => compile({ $ref: `#/components/schemas/${name}` }),
    find(method, path) {
      // `.../databaseUsers/{username}/certs` also fits `.../databaseUsers/{databaseName}/{username}`:
      // the template with the most literal text wins, as in any router.
      let best: { operation: Operation; params: string[]; literal: number } | undefined;
      for (const operation of operations) {
        if (operation.method !== method.toUpperCase()) continue;
        const match = operation.pattern.exec(path);
        const literal = operation.template.replace(/\{[^}]+\}/g, '').length;
        if (match && (!best || literal > best.literal)) {
          best = { operation, params: match.slice(1), literal };
        }
      }
      return best && { operation: best.operation, params: best.params };
    },
  };
};

const contentMap = (
  content: Record<string, Json> | undefined,
  compile: (schema: unknown) => ValidateFunction,
): Map<string, ValidateFunction> =>
  new Map(
    Object.entries(content ?? {}).map(([type, media]) => [
      type.toLowerCase(),
      compile(media.schema ?? {}),
    ]),
  );

/** Local `#/components/...` references, pointed at the schema registered as `atlas`. */
const rewriteRefs = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? [key, `atlas${value}`]
        : [key, rewriteRefs(value)],
    ),
  );
};
