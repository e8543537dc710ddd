import { describe, expect, it } from 'vitest'
import { readAllocation } from '@/lib/allocation'
import { allocationChanges, readComputedAllocation, ruleOf } from '@/lib/dayAllocation'
import { DIVERGES_MESSAGE, RECOMPUTED, ROUTE, SIGNED_DOC } from '@/lib/dayAllocation.fixture'
import { readVirtualMeters } from '@/lib/virtualMeter'

// The hand-worked day of dayAllocation.fixture.ts.
describe('readComputedAllocation', () => {
  it('reads the route answer into the allocation table, numbers exact', () => {
    expect(readComputedAllocation(ROUTE)).toEqual({
      profile: null,
      wells: [
        {
          code: 'W-1', name: 'Pozo 1', status: 'producing', hoursOn: 24, hoursSource: 'telemetry', testDate: '2026-01-25',
          testAgeDays: 8, testState: 'valid', oil: 4364.39, gas: null, water: null,
          factors: { oil: 0.90925, gas: null, water: null }, hoursDown: 0,
          deferred: { oil: null, gas: null, water: null }, causes: [], findings: [],
        },
        {
          code: 'W-2', name: 'Pozo 2', status: 'producing', hoursOn: 24, hoursSource: 'telemetry', testDate: '2026-01-20',
          testAgeDays: 13, testState: 'valid', oil: 3564.25, gas: null, water: null,
          factors: { oil: 0.90925, gas: null, water: null }, hoursDown: 0,
          deferred: { oil: null, gas: null, water: null }, causes: [], findings: [],
        },
        {
          code: 'W-3', name: 'Pozo 3', status: 'shut_in', hoursOn: 0, hoursSource: 'status', testDate: '2026-01-10',
          testAgeDays: 23, testState: 'valid', oil: 0, gas: null, water: null,
          factors: { oil: 0.90925, gas: null, water: null }, hoursDown: 24,
          deferred: { oil: 600, gas: null, water: null },
          causes: [{ cause: 'power_failure', hoursDown: 24, oil: 600, gas: null, water: null }], findings: [],
        },
      ],
      pmos: [{ pmo: 'PMO-OIL', fluid: 'oil', measured: 7928.64, theoreticalTotal: 8720, factor: 0.90925, allocatedTotal: 7928.64, unallocated: 0 }],
      balances: [
        {
          fluid: 'oil', produced: 7928.64,
          terms: [{ name: 'dispatched', volume: 7900 }, { name: 'stock_change', volume: 20 }],
          residual: 8.64, tolerance: 39.64, closes: true,
        },
      ],
      findings: [{ code: 'virtual_meter_diverges', severity: 'warning', target: 'PMO-OIL', message: DIVERGES_MESSAGE }],
    })
  })

  it('reads the same table as the signed document of the same day', () => {
    const computed = readComputedAllocation(ROUTE)!
    const signed = readAllocation(SIGNED_DOC)!
    expect(computed.wells).toEqual(signed.wells)
    expect(computed.pmos).toEqual(signed.pmos)
    expect(computed.balances).toEqual(signed.balances)
  })

  it('gives null for a day not computed, or computed without wells, PMOs or balances', () => {
    expect(readComputedAllocation({ field_id: 1, day: '2026-02-02', computed: false, wells: [], pmos: [], virtual_meter: [], balances: [], findings: [] })).toBeNull()
    expect(readComputedAllocation({ computed: true, wells: [], pmos: [], balances: [], findings: [] })).toBeNull()
    expect(readComputedAllocation(null)).toBeNull()
  })

  it('reads the virtual meters beside it: W-3 (none) left out, Σ 9984.00 against 7928.64', () => {
    const v = readVirtualMeters(ROUTE)!
    expect(v.wells).toEqual({
      'W-1': { liquid: 5500, oil: 5280, coverage: 100, testSpeedSource: 'telemetry', note: null },
      'W-2': { liquid: 4800, oil: 4704, coverage: 100, testSpeedSource: 'manual', note: null },
    })
    expect(v.checks).toEqual([
      { pmo: 'PMO-OIL', fluid: 'oil', measured: 7928.64, virtualTotal: 9984, deviationPct: 25.92, bandPct: 10, diverges: true },
    ])
  })
})

describe('ruleOf', () => {
  it('names the report rule an allocation finding becomes', () => {
    const f = (code: string, severity = 'warning') => ({ code, severity, target: '', message: '' })
    expect(ruleOf(f('virtual_meter_diverges'))).toBe('IDP035')
    expect(ruleOf(f('balance_not_closed'))).toBe('IDP034')
    expect(ruleOf(f('allocation_factor_out_of_band'))).toBe('IDP033')
    expect(ruleOf(f('well_without_test', 'error'))).toBe('IDP032')
    expect(ruleOf(f('well_test_expired'))).toBeNull()
  })
})

describe('allocationChanges', () => {
  it('finds nothing when the computed day is what was signed', () => {
    expect(allocationChanges(readAllocation(SIGNED_DOC)!, readComputedAllocation(ROUTE)!)).toEqual([])
  })

  it('lists each figure a recompute after signing changed', () => {
    expect(allocationChanges(readAllocation(SIGNED_DOC)!, readComputedAllocation(RECOMPUTED)!)).toEqual([
      { target: 'W-1', figure: 'oil', signed: 4364.39, computed: 4367.48 },
      { target: 'W-2', figure: 'oil', signed: 3564.25, computed: 3566.77 },
      { target: 'PMO-OIL/oil', figure: 'measured', signed: 7928.64, computed: 7934.25 },
      { target: 'PMO-OIL/oil', figure: 'allocated', signed: 7928.64, computed: 7934.25 },
      { target: 'oil', figure: 'produced', signed: 7928.64, computed: 7934.25 },
      { target: 'oil', figure: 'residual', signed: 8.64, computed: 14.25 },
    ])
  })

  it('names a well present in one only, and a volume that appeared', () => {
    const signed = readAllocation(SIGNED_DOC)!
    const computed = readComputedAllocation(ROUTE)!
    const fewer = { ...computed, wells: computed.wells.filter((w) => w.code !== 'W-3') }
    expect(allocationChanges(signed, fewer)).toEqual([{ target: 'W-3', figure: 'well', signed: 1, computed: null }])
    const gas = { ...computed, wells: computed.wells.map((w) => (w.code === 'W-1' ? { ...w, gas: 12.5 } : w)) }
    expect(allocationChanges(signed, gas)).toEqual([{ target: 'W-1', figure: 'gas', signed: null, computed: 12.5 }])
  })
})
