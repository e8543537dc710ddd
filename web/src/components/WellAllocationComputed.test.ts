import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import WellAllocation from './WellAllocation.vue'
import { i18n, setLocale } from '@/i18n'
import { readAllocation } from '@/lib/allocation'
import { allocationChanges, readComputedAllocation } from '@/lib/dayAllocation'
import { RECOMPUTED, ROUTE, SIGNED_DOC } from '@/lib/dayAllocation.fixture'
import { readVirtualMeters } from '@/lib/virtualMeter'

// The hand-worked day of dayAllocation.fixture.ts, before signing (the allocation route) and
// once signed (its document), in es-CO and en.
const computedProps = () => ({
  allocation: readComputedAllocation(ROUTE)!,
  source: 'computed' as const,
  virtual: readVirtualMeters(ROUTE),
})

describe('WellAllocation before signing', () => {
  it('says in words that the figures are computed and not signed, with the virtual meters (es-CO)', () => {
    setLocale('es-CO')
    const w = mount(WellAllocation, { props: computedProps(), global: { plugins: [i18n] } })
    expect(w.get('[data-testid="allocation"]').attributes('data-source')).toBe('computed')
    expect(w.get('[data-testid="allocation-source"]').text()).toBe('▲Calculada · aún sin firmar')
    expect(w.get('[data-testid="allocation-unsigned"]').text()).toContain('aún sin firmar')
    expect(w.text()).not.toContain('Del informe firmado')
    expect(w.get('[data-testid="factor-PMO-OIL-oil"]').text()).toBe('0,90925')
    const pmo = w.get('[data-testid="allocation-pmos"] tbody tr').text()
    expect(pmo).toContain('7.928,64\u00a0bbl')
    expect(pmo).toContain('8.720,00\u00a0bbl')
    // Units in the fluid headers, plain numbers in the cells (the table fits 1280 px).
    expect(w.findAll('[data-testid="allocation-wells"] thead th').map((h) => h.text()).slice(4, 7)).toEqual(['Crudo (bbl)', 'Gas (KPC)', 'Agua (bbl)'])
    expect(w.findAll('[data-testid="well-row-W-1"] td').map((c) => c.text()).slice(3, 6)).toEqual(['4.364,39', '—', '—'])
    expect(w.get('[data-testid="virtual-W-1"]').text()).toBe('5.500,00\u00a0bbl crudo 5.280,00\u00a0bbl · 100\u00a0%')
    expect(w.get('[data-testid="virtual-W-2"]').text()).toBe('4.800,00\u00a0bbl crudo 4.704,00\u00a0bbl · 100\u00a0%')
    expect(w.get('[data-testid="virtual-W-3"]').text()).toBe('—')
    const w3 = w.get('[data-testid="well-row-W-3"]').text()
    expect(w3).toContain('Cerrado')
    expect(w3).toContain('24,0 h')
    expect(w3).toContain('C 600,00\u00a0bbl')
    expect(w3).not.toContain('Falla eléctrica')
    expect(w.get('[data-testid="well-causes-W-3"]').text()).toBe('Paro y producción diferida: Falla eléctrica: 24,0 h')
    expect(w.get('[data-testid="allocation-wells"] tfoot').text()).toContain('7.928,64')
    const check = w.get('[data-testid="virtual-check-PMO-OIL"]').text()
    expect(check).toContain('7.928,64\u00a0bbl')
    expect(check).toContain('9.984,00\u00a0bbl')
    expect(check).toContain('25,92\u00a0%')
    expect(check).toContain('Diverge')
    const finding = w.get('[data-testid="virtual-finding-PMO-OIL"]').text()
    expect(finding).toContain('IDP035')
    expect(finding).toContain('9984.00 bbl of oil, the PMO measured 7928.64 bbl (+25.92 %)')
    expect(finding).toMatch(/^▲Advertencia Medidores virtuales difieren del PMO IDP035 the wells' virtual meters /)
    expect(w.get('[data-testid="allocation-finding-virtual_meter_diverges"]').text()).toMatch(
      /^▲Advertencia Medidores virtuales difieren del PMO IDP035 virtual_meter_diverges PMO-OIL: the wells' virtual meters /,
    )
    expect(w.get('[data-testid="balance-oil"]').text()).toContain('8,64\u00a0bbl')
    expect(w.find('[data-testid="allocation-changed"]').exists()).toBe(false)
  })

  it('in English', () => {
    setLocale('en')
    const w = mount(WellAllocation, { props: computedProps(), global: { plugins: [i18n] } })
    expect(w.get('[data-testid="allocation-source"]').text()).toBe('▲Computed · not signed yet')
    expect(w.get('[data-testid="virtual-W-1"]').text()).toBe('5,500.00\u00a0bbl oil 5,280.00\u00a0bbl · 100\u00a0%')
    expect(w.get('[data-testid="virtual-check-PMO-OIL"]').text()).toContain('Diverges')
    setLocale('es-CO')
  })
})

describe('WellAllocation once signed', () => {
  it('marks the signed figures and says nothing more when the computed day agrees', () => {
    setLocale('es-CO')
    const signed = readAllocation(SIGNED_DOC)!
    const w = mount(WellAllocation, {
      props: { allocation: signed, source: 'signed', version: 1, virtual: readVirtualMeters(ROUTE), changes: allocationChanges(signed, readComputedAllocation(ROUTE)!) },
      global: { plugins: [i18n] },
    })
    expect(w.get('[data-testid="allocation-source"]').text()).toBe('✔Firmada · v1')
    expect(w.text()).toContain('Del informe firmado v1 (perfil idp-1.2).')
    expect(w.find('[data-testid="allocation-unsigned"]').exists()).toBe(false)
    expect(w.find('[data-testid="allocation-changed"]').exists()).toBe(false)
  })

  it('shows the signed figures and says how a recompute after signing differs', () => {
    setLocale('es-CO')
    const signed = readAllocation(SIGNED_DOC)!
    const w = mount(WellAllocation, {
      props: { allocation: signed, source: 'signed', version: 1, changes: allocationChanges(signed, readComputedAllocation(RECOMPUTED)!) },
      global: { plugins: [i18n] },
    })
    expect(w.get('[data-testid="allocation-changed"]').text()).toContain('6 cifra(s) difieren de la versión firmada v1')
    expect(w.get('[data-testid="well-row-W-1"]').text()).toContain('4.364,39') // the signed one wins
    const rows = w.findAll('[data-testid="allocation-changes"] tbody tr').map((r) => r.text())
    expect(rows).toEqual([
      'W-1crudo asignado4.364,39\u00a0bbl4.367,48\u00a0bbl',
      'W-2crudo asignado3.564,25\u00a0bbl3.566,77\u00a0bbl',
      'PMO-OIL/oilmedido7.928,64\u00a0bbl7.934,25\u00a0bbl',
      'PMO-OIL/oilasignado7.928,64\u00a0bbl7.934,25\u00a0bbl',
      'Crudobalance: producido7.928,64\u00a0bbl7.934,25\u00a0bbl',
      'Crudobalance: residuo8,64\u00a0bbl14,25\u00a0bbl',
    ])
    const wrap = w.get('[data-testid="allocation-changes"]').element.parentElement!
    expect(wrap.getAttribute('aria-label')).toBe('Firmado frente a calculado ahora')
  })
})
