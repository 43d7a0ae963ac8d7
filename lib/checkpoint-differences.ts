// What differs between a checkpoint's saved config or settings and the model's: the lines of the error
// that lib/checkpoint.ts (and live mode's lib/browser/checkpoint.ts) give when a checkpoint does not match.

/** "config.nEmbd: saved 128, now 64" for every key whose value differs. */
export function differencesBetween(label: string, saved: object, current: object): string[] {
  const keys = [...new Set([...Object.keys(saved ?? {}), ...Object.keys(current)])].sort();
  const s = (saved ?? {}) as Record<string, unknown>;
  const c = current as Record<string, unknown>;
  return keys
    .filter((key) => JSON.stringify(s[key]) !== JSON.stringify(c[key]))
    .map((key) => `${label}.${key}: saved ${JSON.stringify(s[key]) ?? "nothing"}, now ${JSON.stringify(c[key]) ?? "nothing"}`);
}
