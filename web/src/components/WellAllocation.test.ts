import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import WellAllocation from './WellAllocation.vue'
import { i18n, setLocale } from '@/i18n'
import { readAllocation } from '@/lib/allocation'

const DOC = {
  profile: 'idp-1.2',
  wells: [
    {
      code: 'CDL-003', name: '<script>window.__x = 1</script>', status: 'producing', hours_on: 20, hours_source: 'manual',
      test: { date: '2026-09-01', age_days: 97, state: 'expired' },
      oil_net_bbl: 7928.64, water_bbl: 100, gas_kpc: 50,
      factors: { oil: 1.0008, gas: null, water: null },
      deferred: { hours_down: 4, oil_bbl: 180, gas_kpc: null, water_bbl: null, causes: [{ cause: 'artificial_lift_failure', hours_down: 4, oil: 180 }] },
      findings: [],
    },
  ],
  balances: [{ fluid: 'oil', produced: 7928.64, terms: [{ name: 'dispatched', volume: 7900 }], residual: 28.64, tolerance: 39.64, closes: true }],
  allocation: { pmos: [{ pmo: 'PMO-LACT-01', fluid: 'oil', measured: '7928.64', theoretical_total: '7922.3', factor: '1.00080', allocated_total: '7928.64', unallocated: '0' }], totals_by_role: [], findings: [] },
}

describe('WellAllocation', () => {
  it('shows factors, balances and wells in es-CO, flags by word, and names as text', () => {
    setLocale('es-CO')
    const allocation = readAllocation(DOC)!
    const w = mount(WellAllocation, { props: { allocation, version: 1 }, global: { plugins: [i18n] } })
    expect(w.get('[data-testid="factor-PMO-LACT-01-oil"]').text()).toBe('1,00080')
    const balance = w.get('[data-testid="balance-oil"]').text()
    expect(balance).toContain('7.928,64\u00a0bbl')
    expect(balance).toContain('Cierra')
    expect(balance).toContain('despachado')
    const row = w.get('[data-testid="well-row-CDL-003"]')
    expect(row.text()).toContain('Prueba vencida')
    expect(row.text()).toContain('97 días')
    expect(row.text()).toContain('C 180,00\u00a0bbl')
    expect(w.get('[data-testid="well-causes-CDL-003"]').text()).toBe('Paro y producción diferida: Falla del levantamiento artificial: 4,0 h')
    expect(row.html()).not.toContain('<script>')
    expect(row.text()).toContain('<script>window.__x = 1</script>')
  })

  it('says "does not close" in English when the residual passes the tolerance', () => {
    setLocale('en')
    const doc = { ...DOC, balances: [{ ...DOC.balances[0], residual: 60, closes: false }] }
    const w = mount(WellAllocation, { props: { allocation: readAllocation(doc)!, version: 2 }, global: { plugins: [i18n] } })
    expect(w.get('[data-testid="balance-oil"]').text()).toContain('Does not close')
    setLocale('es-CO')
  })
})

describe('WellAllocation accessibility', () => {
  it('makes every sideways-scrolling table a focusable, labelled region', () => {
    setLocale('es-CO')
    const w = mount(WellAllocation, { props: { allocation: readAllocation(DOC)!, version: 1 }, global: { plugins: [i18n] } })
    const wraps = w.findAll('.table-wrap')
    expect(wraps).toHaveLength(3)
    for (const x of wraps) {
      expect(x.attributes('tabindex')).toBe('0')
      expect(x.attributes('role')).toBe('region')
      expect(x.attributes('aria-label')).toBeTruthy()
    }
  })
})

describe('WellAllocation per-well notes', () => {
  const NOTED = {
    ...DOC,
    wells: [{ ...DOC.wells[0], findings: [{ code: 'well_test_expired', severity: 'warning', message: 'last valid test of 2026-09-01 is 97 days old' }] }],
  }

  it('puts a well\'s downtime causes and findings on a full-width line under its row, tied to its header (es-CO)', () => {
    setLocale('es-CO')
    const w = mount(WellAllocation, { props: { allocation: readAllocation(NOTED)!, version: 1 }, global: { plugins: [i18n] } })
    const row = w.get('[data-testid="well-row-CDL-003"]')
    expect(row.text()).not.toContain('last valid test')
    expect(row.text()).toContain('Hallazgo de advertencia')
    const notes = w.get('[data-testid="well-notes-CDL-003"]')
    expect(notes.text()).toBe('Notas del pozo CDL-003:Paro y producción diferida: Falla del levantamiento artificial: 4,0 h▲Advertencia Prueba de pozo vencida well_test_expired last valid test of 2026-09-01 is 97 days old')
    const cell = notes.get('td')
    expect(cell.attributes('colspan')).toBe(String(row.findAll('th, td').length))
    expect(cell.attributes('headers')).toBe(row.get('th').attributes('id'))
    expect(w.findAll('[data-testid="allocation-wells"] tbody tr')).toHaveLength(2)
  })

  it('says it in English, and a well without notes has no notes line', () => {
    setLocale('en')
    const w = mount(WellAllocation, { props: { allocation: readAllocation(NOTED)!, version: 1 }, global: { plugins: [i18n] } })
    expect(w.get('[data-testid="well-notes-CDL-003"]').text()).toBe('Notes on well CDL-003:Down and deferred: Artificial lift failure: 4.0 h▲Warning Well test expired well_test_expired last valid test of 2026-09-01 is 97 days old')
    const quiet = { ...DOC, wells: [{ ...DOC.wells[0], deferred: { hours_down: 0, causes: [] } }] }
    const plain = mount(WellAllocation, { props: { allocation: readAllocation(quiet)!, version: 1 }, global: { plugins: [i18n] } })
    expect(plain.find('[data-testid="well-notes-CDL-003"]').exists()).toBe(false)
    expect(plain.get('[data-testid="well-row-CDL-003"]').classes()).not.toContain('has-notes')
    setLocale('es-CO')
  })
})
