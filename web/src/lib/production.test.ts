import { describe, expect, it } from 'vitest'
import { completenessPct, volumeFromCounter, volumeFromRate } from './production'

describe('volume so far', () => {
  it('integrates a per-day rate: 8 400 bbl/d for two hours is 700 bbl', () => {
    // 8 400 bbl/d × 7 200 s = 60 480 000 bbl·s/d; / 86 400 s/d = 700 bbl.
    expect(
      volumeFromRate({ count: [360, 360], integral: [30_240_000, 30_240_000], first: [], last: [] }),
    ).toBeCloseTo(700, 9)
  })
  it('skips empty buckets and answers null with no data', () => {
    expect(volumeFromRate({ count: [0], integral: [null], first: [], last: [] })).toBeNull()
  })
  it('adds counter increments within and between buckets', () => {
    // 100 → 150 (50), gap 150 → 160 (10), 160 → 200 (40): 100.
    const r = volumeFromCounter(
      { count: [5, 0, 5], integral: [], first: [100, null, 160], last: [150, null, 200] },
      null,
    )
    expect(r).toEqual({ volume: 100, drops: 0 })
  })
  it('adds the modulus across a rollover and leaves out a backstep', () => {
    // 4 294 967 290 → 5 wraps at 2^32 - 1 = 4 294 967 295: 10; 5 → 4.9 is a backstep (counted).
    const r = volumeFromCounter(
      { count: [1, 1, 1], integral: [], first: [4_294_967_290, 5, 4.9], last: [4_294_967_290, 5, 4.9] },
      4_294_967_295,
    )
    expect(r.volume).toBeCloseTo(10, 6)
    expect(r.drops).toBe(1)
  })
  it('reports completeness against the sampling period', () => {
    // 3 600 s at 10 s: 360 expected; 342 received = 95 %.
    expect(completenessPct([180, 162], 3600, 10)).toBeCloseTo(95, 9)
  })
})
