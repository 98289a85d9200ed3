/** The value at quantile `q` (0–1) of an ascending array: nearest rank, the bench's and the lab's one definition; undefined when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
