/**
 * `map.set(key, value)` for a key the map lacks, first dropping the oldest entry (Map order is
 * insertion order) when it already holds `max`: the bounded memo of values a caller sees again
 * and again (verified cookies, log hashes of session ids).
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
