/**
 * The few `Reflect` metadata functions that tsyringe (a dependency of @peculiar/x509) checks for at
 * load time. The `reflect-metadata` package is not a dependency of this project, and the library
 * only needs them for its own `@injectable()` classes, which take no constructor parameters, so a
 * WeakMap-backed subset is enough. Import this module before `@peculiar/x509`.
 */

type MetadataTarget = object;
type MetadataStore = WeakMap<MetadataTarget, Map<unknown, unknown>>;

const reflect = Reflect as unknown as Record<string, unknown>;

if (typeof reflect.getMetadata !== 'function') {
  const store: MetadataStore = new WeakMap();

  const ownMap = (target: MetadataTarget, create: boolean): Map<unknown, unknown> | undefined => {
    let map = store.get(target);
    if (!map && create) {
      map = new Map();
      store.set(target, map);
    }
    return map;
  };

  const getOwnMetadata = (key: unknown, target: MetadataTarget): unknown =>
    ownMap(target, false)?.get(key);

  // Like reflect-metadata: look at the target, then up its prototype chain.
  const getMetadata = (key: unknown, target: MetadataTarget): unknown => {
    for (let t: MetadataTarget | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const map = ownMap(t, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };

  const defineMetadata = (key: unknown, value: unknown, target: MetadataTarget): void => {
    ownMap(target, true)?.set(key, value);
  };

  const metadata =
    (key: unknown, value: unknown) =>
    (target: MetadataTarget): void =>
      defineMetadata(key, value, target);

  Object.assign(reflect, { getMetadata, getOwnMetadata, defineMetadata, metadata });
}

export {};
