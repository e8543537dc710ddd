import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import WellAllocation from './WellAllocation.vue'
import { i18n, setLocale } from '@/i18n'
import { readAllocation } from '@/lib/allocation'
import { readVirtualMeters, type VirtualMeters } from '@/lib/virtualMeter'

// The signed document of one well, and the day's allocation route with its virtual meter: the
// rod pump's 480.00 bbl of liquid (40 bbl/d per spm × 12 spm), 470.40 of it oil (2 % water cut).
const DOC = {
  profile: 'idp-1.2',
  wells: [
    {
      code: 'W-2', name: 'Pozo 2', status: 'producing', hours_on: 24, hours_source: 'telemetry',
      test: { date: '2026-01-20', age_days: 13, state: 'valid' }, oil_net_bbl: 440.9, water_bbl: null, gas_kpc: 545.45,
      factors: { oil: 1.12475, gas: 1.09091, water: null }, deferred: { hours_down: 0, causes: [] }, findings: [],
    },
  ],
  balances: [],
  allocation: { pmos: [], totals_by_role: [], findings: [] },
}
const ROUTE = {
  wells: [
    { code: 'W-2', virtual_liquid_bbl: '480.00', virtual_meter: { method: 'rod_pump', oil_bbl: '470.40', coverage_pct: '100.0', test_speed_source: 'manual' } },
    { code: 'W-9', virtual_liquid_bbl: null, virtual_meter: null },
  ],
  virtual_meter: [
    { pmo: 'PMO-OIL', fluid: 'oil', measured: '833.67', virtual_total: '998.40', deviation_pct: '19.76', band_pct: '10.0', diverges: true, wells: ['W-2'] },
  ],
}

describe('readVirtualMeters', () => {
  it('reads the wells with a virtual meter and the checks; null without any', () => {
    const v = readVirtualMeters(ROUTE)!
    expect(Object.keys(v.wells)).toEqual(['W-2'])
    expect(v.wells['W-2']).toEqual({ liquid: 480, oil: 470.4, coverage: 100, testSpeedSource: 'manual', note: null })
    expect(v.checks[0]).toMatchObject({ pmo: 'PMO-OIL', virtualTotal: 998.4, deviationPct: 19.76, diverges: true })
    expect(readVirtualMeters({ wells: [{ code: 'W-9', virtual_meter: null }], virtual_meter: [] })).toBeNull()
  })
})

describe('WellAllocation with virtual meters', () => {
  it('shows the virtual liquid next to the allocation and a divergence in es-CO', () => {
    setLocale('es-CO')
    const w = mount(WellAllocation, {
      props: { allocation: readAllocation(DOC)!, version: 1, virtual: readVirtualMeters(ROUTE) },
      global: { plugins: [i18n] },
    })
    expect(w.get('[data-testid="allocation-wells"] thead').text()).toContain('Líquido virtual')
    const cell = w.get('[data-testid="virtual-W-2"]').text()
    expect(cell).toContain('480,00\u00a0bbl')
    expect(cell).toContain('crudo 470,40\u00a0bbl')
    const check = w.get('[data-testid="virtual-check-PMO-OIL"]').text()
    expect(check).toContain('998,40\u00a0bbl')
    expect(check).toContain('Diverge')
    const wrap = w.get('[data-testid="virtual-checks"]').element.parentElement!
    expect(wrap.getAttribute('role')).toBe('region')
    expect(wrap.getAttribute('aria-label')).toBe('Medidores virtuales frente a los PMO')
  })

  it('has no virtual column without virtual meters', () => {
    setLocale('en')
    const w = mount(WellAllocation, { props: { allocation: readAllocation(DOC)!, version: 1 }, global: { plugins: [i18n] } })
    expect(w.get('[data-testid="allocation-wells"] thead').text()).not.toContain('Virtual liquid')
    expect(w.find('[data-testid="virtual-checks"]').exists()).toBe(false)
    setLocale('es-CO')
  })
})

describe('WellAllocation virtual meter note', () => {
  it('moves a well\'s virtual meter note to the line under its row (es-CO and en)', async () => {
    const virtual = {
      wells: { 'W-2': { liquid: null, oil: null, coverage: null, testSpeedSource: null, note: 'no pump speed in the day' } },
      checks: [],
    } as VirtualMeters
    setLocale('es-CO')
    const w = mount(WellAllocation, { props: { allocation: readAllocation(DOC)!, version: 1, virtual }, global: { plugins: [i18n] } })
    expect(w.get('[data-testid="virtual-W-2"]').text()).toBe('ver la nota bajo la fila')
    expect(w.get('[data-testid="well-notes-W-2"]').text()).toBe('Notas del pozo W-2:Líquido virtual: no pump speed in the day')
    setLocale('en')
    await nextTick()
    expect(w.get('[data-testid="virtual-W-2"]').text()).toBe('see the note under the row')
    expect(w.get('[data-testid="well-notes-W-2"]').text()).toBe('Notes on well W-2:Virtual liquid: no pump speed in the day')
    setLocale('es-CO')
  })
})
