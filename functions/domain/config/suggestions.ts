/** Typo suggestions for unknown config keys: the key a typo most likely meant. */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
const editDistance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const substitute = at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      row[j] = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        substitute,
        swapped ? at(i - 2, j - 2) + 1 : Number.POSITIVE_INFINITY,
      );
    }
  }
  return at(a.length, b.length);
};

/**
 * The known key a typo most likely meant: case aside, at most 2 edits away, or a quarter of
 * the length for long keys (`monthsUntilExpiry` still finds `monthsUntilExpiration`).
 */
export const closestKey = (key: string, known: readonly string[]): string | undefined => {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    const allowed = Math.max(2, Math.floor(Math.max(key.length, name.length) / 4));
    if (distance <= allowed && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
};

const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/** Zod's wording, plus the fix: the key meant, or the keys allowed at this level. */
export const unknownKeysMessage = (keys: readonly string[], known: readonly string[]): string => {
  const near = keys.map((key) => closestKey(key, known));
  const named = keys.map((key, i) =>
    near[i] === undefined ? `"${key}"` : `"${key}" (did you mean "${near[i]}"?)`,
  );
  const label = keys.length === 1 ? 'Unrecognized key' : 'Unrecognized keys';
  const allowed = near.includes(undefined) ? `; allowed here: ${quoted(known)}` : '';
  return `${label}: ${named.join(', ')}${allowed}`;
};
