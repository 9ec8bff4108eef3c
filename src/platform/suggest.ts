/** Levenshtein distance, bounded so very long user input costs little. */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The valid names closest to what the user typed: substring matches first,
 * then small edit distances. Returns at most `max` names.
 */
export function closestNames(input: string, names: readonly string[], max = 3): string[] {
  const needle = input.toLowerCase().slice(0, 100);
  if (!needle) return [];
  const scored = names.map((name) => {
    const n = name.toLowerCase();
    const contains = n.includes(needle) || (needle.length >= 3 && needle.includes(n));
    const d = distance(needle, n);
    return { name, score: contains ? 0 : d, ok: contains || d <= Math.max(2, Math.floor(n.length / 3)) };
  });
  const ok = scored.filter((s) => s.ok).sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  // Only the best matches: "b3" should suggest b1 and b2, not every two-letter id.
  const best = ok[0]?.score ?? 0;
  return ok
    .filter((s) => s.score === best)
    .slice(0, max)
    .map((s) => s.name);
}
