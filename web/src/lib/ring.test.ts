import { describe, expect, it } from 'vitest'
import { applyFrame, isGood, Ring } from './ring'

describe('Ring', () => {
  it('keeps the newest points, oldest first', () => {
    const r = new Ring(3)
    for (let i = 1; i <= 5; i += 1) r.push(i * 1000, i * 10)
    expect(r.length).toBe(3)
    expect(r.toPairs()).toEqual([
      [3000, 30],
      [4000, 40],
      [5000, 50],
    ])
    expect(r.last()).toEqual([5000, 50])
  })
  it('refuses a capacity below one', () => {
    expect(() => new Ring(0)).toThrow(/capacity: 0/)
  })
})

describe('applyFrame', () => {
  it('takes only watched series and turns Bad or null readings into gaps', () => {
    const rings = new Map([[7, new Ring(10)]])
    const taken = applyFrame(rings, {
      type: 'readings',
      field_id: 1,
      series_id: [7, 8, 7, 7],
      time_us: [1_000_000, 1_000_000, 2_000_000, 3_000_000],
      value: [1.5, 9, null, 4],
      // 0x80000000 (Bad) as the unsigned code the API sends.
      quality: [0, 0, 0, 2147483648],
    })
    expect(taken).toBe(3)
    expect(rings.get(7)?.toPairs()).toEqual([
      [1000, 1.5],
      [2000, null],
      [3000, null],
    ])
  })
  it('classifies OPC UA status codes by their severity bits', () => {
    expect(isGood(0)).toBe(true)
    expect(isGood(0x40000000)).toBe(false) // Uncertain
    expect(isGood(0x80000000)).toBe(false) // Bad
  })
})
