import { describe, expect, it } from 'vitest'
import {
  allocatedTotal,
  deferredTotal,
  fluidUnit,
  forma9shPath,
  isForma9shMonth,
  monthOf,
  num,
  readAllocation,
  residualPct,
  wellFlags,
  type WellRow,
} from './allocation'
import { formatFactor, formatQuantity } from './format'

// Shaped like a signed idp-1.2 document (the parts the sign-off reads).
const DOC = {
  profile: 'idp-1.2',
  wells: [
    {
      code: 'CDL-001', name: 'Castilla 1', pmo: 'PMO-OIL', status: 'producing', hours_on: 24, hours_source: 'telemetry',
      test: { date: '2026-12-01', age_days: 4, state: 'valid' },
      oil_net_bbl: 1210.55, water_bbl: 3300.1, gas_kpc: 250.2,
      factors: { oil: 1.0008, gas: 0.98765, water: null },
      deferred: { hours_down: 0, oil_bbl: null, gas_kpc: null, water_bbl: null, causes: [] },
      findings: [],
    },
    {
      code: 'CDL-003', name: 'Castilla 3', pmo: 'PMO-OIL', status: 'producing', hours_on: 20, hours_source: 'manual',
      test: { date: '2026-09-01', age_days: 95, state: 'expired' },
      oil_net_bbl: 800, water_bbl: 100, gas_kpc: 50,
      factors: { oil: 1.0008, gas: 0.98765, water: 1.01 },
      deferred: {
        hours_down: 4, oil_bbl: 180, gas_kpc: 10.5, water_bbl: 20,
        causes: [{ cause: 'artificial_lift_failure', hours_down: 4, oil: 180, gas: 10.5, water: 20 }],
      },
      findings: [{ code: 'well_test_expired', severity: 'warning', target: 'CDL-003', message: 'test 95 days old' }],
    },
  ],
  balances: [
    { fluid: 'oil', produced: 2010.55, terms: [{ name: 'dispatch', volume: 2000 }], residual: 10.55, tolerance: 10.05, closes: false },
    { fluid: 'gas', produced: 300.7, terms: [], residual: 0, tolerance: 6.01, closes: true },
  ],
  allocation: {
    pmos: [{ pmo: 'PMO-OIL', fluid: 'oil', measured: '2010.55', theoretical_total: '2008.9', factor: '1.00082', allocated_total: '2010.55', unallocated: '0' }],
    totals_by_role: [],
    findings: [{ code: 'balance_open', severity: 'warning', target: 'oil', message: 'residual 10.55 bbl' }],
  },
}

describe('readAllocation', () => {
  it('reads wells, balances and the factor per PMO from an idp-1.2 document', () => {
    const a = readAllocation(DOC)
    expect(a).not.toBeNull()
    if (!a) return
    expect(a.profile).toBe('idp-1.2')
    expect(a.wells.map((w) => w.code)).toEqual(['CDL-001', 'CDL-003'])
    const w3 = a.wells[1] as WellRow
    expect(w3.testAgeDays).toBe(95)
    expect(w3.deferred).toEqual({ oil: 180, gas: 10.5, water: 20 })
    expect(w3.causes[0]?.cause).toBe('artificial_lift_failure')
    expect(a.balances[0]?.closes).toBe(false)
    expect(a.balances[1]?.closes).toBe(true)
    // Stored rows keep decimals as text: they read as numbers.
    expect(a.pmos[0]?.factor).toBe(1.00082)
    expect(a.pmos[0]?.unallocated).toBe(0)
    expect(a.findings[0]?.code).toBe('balance_open')
  })

  it('gives null for a document without wells (profiles before idp-1.2 on a field without them)', () => {
    expect(readAllocation({ profile: 'idp-1.0', pmos: [] })).toBeNull()
    expect(readAllocation(null)).toBeNull()
    expect(readAllocation('nonsense')).toBeNull()
  })

  it('reads a well without test, factors or deferred block as nulls', () => {
    const a = readAllocation({ wells: [{ code: 'W-4', oil_net_bbl: 12.5 }] })
    const w = a?.wells[0]
    expect(w?.name).toBe('W-4')
    expect(w?.testDate).toBeNull()
    expect(w?.factors).toEqual({ oil: null, gas: null, water: null })
    expect(w?.causes).toEqual([])
  })
})

describe('figures', () => {
  const a = readAllocation(DOC)
  const wells = a?.wells ?? []

  it('numbers: JSON numbers and decimal strings, nothing else', () => {
    expect(num(1.5)).toBe(1.5)
    expect(num('980.78')).toBe(980.78)
    expect(num('')).toBeNull()
    expect(num('abc')).toBeNull()
    expect(num(null)).toBeNull()
    expect(num(Number.NaN)).toBeNull()
  })

  it('the residual as a share of production', () => {
    expect(residualPct(a!.balances[0]!)).toBeCloseTo(0.5247, 3)
    expect(residualPct({ fluid: 'gas', produced: 0, terms: [], residual: 0, tolerance: 1, closes: true })).toBeNull()
  })

  it('sums allocated and deferred volumes per fluid', () => {
    expect(allocatedTotal(wells, 'oil')).toBeCloseTo(2010.55, 6)
    expect(deferredTotal(wells, 'oil')).toBe(180)
    expect(deferredTotal(wells.slice(0, 1), 'gas')).toBeNull()
  })

  it('flags what a reviewer should look at', () => {
    expect(wellFlags(wells[0]!)).toEqual([])
    expect(wellFlags(wells[1]!)).toEqual(['test_expired', 'down', 'finding_warning'])
    const w = readAllocation({
      wells: [{ code: 'W', status: 'shut_in', hours_source: 'status', test: { state: 'none' }, findings: [{ severity: 'error' }] }],
    })!.wells[0]!
    expect(wellFlags(w)).toEqual(['no_test', 'hours_estimated', 'not_producing', 'finding_error'])
  })

  it('writes the volumes in es-CO with their units (gas in KPC)', () => {
    expect(formatQuantity(wells[0]!.oil, fluidUnit('oil'), 'es-CO')).toBe('1.210,55\u00a0bbl')
    expect(formatQuantity(wells[0]!.gas, fluidUnit('gas'), 'es-CO')).toBe('250,20\u00a0KPC')
    expect(formatQuantity(wells[0]!.gas, fluidUnit('gas'), 'en')).toBe('250.20\u00a0KPC')
    expect(formatFactor(a!.pmos[0]!.factor, 'es-CO')).toBe('1,00082')
  })
})

describe('Forma 9SH', () => {
  it('takes the month of the contract day', () => {
    expect(monthOf('2026-12-05')).toBe('2026-12')
    expect(monthOf('')).toBe('')
  })
  it('accepts the months the API accepts', () => {
    expect(isForma9shMonth('2026-12')).toBe(true)
    expect(isForma9shMonth('2026-13')).toBe(false)
    expect(isForma9shMonth('0001-01')).toBe(false)
    expect(isForma9shMonth('2200-01')).toBe(false)
    expect(isForma9shMonth('2026-1')).toBe(false)
  })
  it('builds the route with the format', () => {
    expect(forma9shPath(3, '2026-12', 'xlsx')).toBe('/api/v1/reports/fields/3/forma9sh/2026-12?format=xlsx')
  })
})
