import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { useLiveStore } from './live'

describe('live store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('lists the series announced on subscription and keeps watched points', () => {
    const live = useLiveStore()
    live.onMessage(
      JSON.stringify({
        type: 'subscribed',
        field_id: 1,
        series: [{ id: 1, code: 'F.P.oil_rate', variable: 'oil_rate', unit: 'bbl/d' }],
      }),
    )
    expect(live.state).toBe('live')
    expect(live.available.map((s) => s.id)).toEqual([1])
    live.watch([1])
    live.onMessage(
      JSON.stringify({
        type: 'readings',
        field_id: 1,
        series_id: [1, 2, 1],
        time_us: [1_000_000, 1_000_000, 2_000_000],
        value: [10, 20, 11],
        quality: [0, 0, 0],
      }),
    )
    expect(live.received).toBe(2)
    expect(live.rings.get(1)?.toPairs()).toEqual([
      [1000, 10],
      [2000, 11],
    ])
    expect(live.latestValue(1)).toEqual([2000, 11])
    // Unwatched series still get a latest value (the overview shows it), not a ring.
    expect(live.latestValue(2)).toEqual([1000, 20])
    expect(live.rings.has(2)).toBe(false)
  })

  it('drops the rings of series no longer watched', () => {
    const live = useLiveStore()
    live.watch([1, 2])
    live.watch([2])
    expect([...live.rings.keys()]).toEqual([2])
  })
})
