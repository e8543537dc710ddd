// Volume so far from hourly rollups: counter difference (rollover aware) or rate integral.

export interface BucketColumns {
  count: number[]
  integral: Array<number | null>
  first: Array<number | null>
  last: Array<number | null>
}

/** Volume from a per-day rate's time integral (value × seconds): Σ integral / 86 400. */
export function volumeFromRate(b: BucketColumns): number | null {
  let sum = 0
  let any = false
  b.integral.forEach((v, i) => {
    if (v !== null && (b.count[i] ?? 0) > 0) {
      sum += v
      any = true
    }
  })
  return any ? sum / 86_400 : null
}

/**
 * Volume from a totalizer: the sum of the increments within and between buckets. A drop by more
 * than half the modulus is a rollover (add the modulus); any other drop is left out and counted,
 * so a reset or a stale re-read never adds a whole counter (the server's figure decides).
 */
export function volumeFromCounter(
  b: BucketColumns,
  rollover: number | null,
): { volume: number | null; drops: number } {
  let prev: number | null = null
  let volume = 0
  let any = false
  let drops = 0
  const step = (from: number, to: number): void => {
    const d = to - from
    if (d >= 0) volume += d
    else if (rollover !== null && -d > rollover / 2) volume += d + rollover
    else drops += 1
  }
  for (let i = 0; i < b.count.length; i += 1) {
    const first = b.first[i]
    const last = b.last[i]
    if ((b.count[i] ?? 0) === 0 || first === null || first === undefined || last === null || last === undefined) continue
    if (prev !== null) step(prev, first)
    step(first, last)
    prev = last
    any = true
  }
  return { volume: any ? volume : null, drops }
}

/** Samples received against those expected over `elapsedS` at one per `periodS`, in %. */
export function completenessPct(counts: number[], elapsedS: number, periodS: number): number | null {
  if (elapsedS <= 0 || periodS <= 0) return null
  const expected = Math.max(1, Math.floor(elapsedS / periodS))
  const received = counts.reduce((a, c) => a + c, 0)
  return Math.min(100, (100 * received) / expected)
}
