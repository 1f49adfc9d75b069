/**
 * Pairs the items of two sequences (segments of two messages, items of two JSON arrays) so
 * that an item added or removed in the middle shows as that, not as a difference in every
 * item after it. Edit-distance alignment (Needleman–Wunsch): adding or removing an item costs
 * 1, pairing two items costs their distance, from 0 (equal) to 1 (nothing in common), or
 * Infinity where they must not be paired (segments of different types).
 */
export type Pair = readonly [expected: number | undefined, actual: number | undefined];

export function align<T>(expected: readonly T[], actual: readonly T[], distance: (a: T, b: T) => number): Pair[] {
  const n = expected.length;
  const m = actual.length;
  // cost[i][j]: cheapest alignment of the last n-i expected and m-j actual items.
  const cost: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const d: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => distance(expected[i]!, actual[j]!)));
  for (let i = n; i >= 0; i--) {
    for (let j = m; j >= 0; j--) {
      if (i === n) cost[i]![j] = m - j;
      else if (j === m) cost[i]![j] = n - i;
      else cost[i]![j] = Math.min(d[i]![j]! + cost[i + 1]![j + 1]!, 1 + cost[i + 1]![j]!, 1 + cost[i]![j + 1]!);
    }
  }
  const pairs: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    const here = cost[i]![j]!;
    // Pairing is preferred on a tie, then a removal before an addition.
    if (i < n && j < m && d[i]![j]! + cost[i + 1]![j + 1]! === here) pairs.push([i++, j++]);
    else if (i < n && 1 + cost[i + 1]![j]! === here) pairs.push([i++, undefined]);
    else pairs.push([undefined, j++]);
  }
  return pairs;
}
