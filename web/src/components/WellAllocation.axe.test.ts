import { mount } from '@vue/test-utils'
import axe from 'axe-core'
import { expect, it } from 'vitest'
import WellAllocation from './WellAllocation.vue'
import { i18n, setLocale } from '@/i18n'
import { readAllocation } from '@/lib/allocation'
import { allocationChanges, readComputedAllocation } from '@/lib/dayAllocation'
import { RECOMPUTED, ROUTE, SIGNED_DOC } from '@/lib/dayAllocation.fixture'
import { readVirtualMeters } from '@/lib/virtualMeter'

// Structure only (labels, table headers, ARIA): happy-dom has no layout, so rules that need it
// (scrolling regions, contrast) are left to the browser tests (make web-e2e).
async function seriousViolations(element: Element): Promise<string[]> {
  const result = await axe.run(element, { resultTypes: ['violations'] })
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)
}

it('has no serious or critical axe violation', async () => {
  setLocale('es-CO')
  const doc = {
    wells: [
      { code: 'W-1', name: 'Pozo 1', status: 'shut_in', test: { state: 'expired', age_days: 120 }, deferred: { hours_down: 2, oil_bbl: 3, causes: [{ cause: 'other', hours_down: 2 }] }, findings: [{ code: 'x', severity: 'warning', message: 'm' }] },
    ],
    balances: [{ fluid: 'oil', produced: 1, terms: [{ name: 'dispatched', volume: 1 }], residual: 0, tolerance: 1, closes: true }],
    allocation: { pmos: [{ pmo: 'P', fluid: 'oil', factor: 1 }], findings: [{ code: 'balance_open', severity: 'warning', target: 'oil', message: 'm' }] },
  }
  const w = mount(WellAllocation, { props: { allocation: readAllocation(doc)!, version: 1 }, global: { plugins: [i18n] }, attachTo: document.body })
  const result = await axe.run(w.element as Element, { resultTypes: ['violations'] })
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)
  expect(bad).toEqual([])
  w.unmount()
})

it('has none before signing (computed, virtual meters) nor with a recompute after signing', async () => {
  setLocale('es-CO')
  const computed = mount(WellAllocation, {
    props: { allocation: readComputedAllocation(ROUTE)!, source: 'computed', virtual: readVirtualMeters(ROUTE) },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  expect(await seriousViolations(computed.element as Element)).toEqual([])
  computed.unmount()
  const signed = readAllocation(SIGNED_DOC)!
  const changed = mount(WellAllocation, {
    props: { allocation: signed, source: 'signed', version: 1, virtual: readVirtualMeters(RECOMPUTED), changes: allocationChanges(signed, readComputedAllocation(RECOMPUTED)!) },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  expect(await seriousViolations(changed.element as Element)).toEqual([])
  changed.unmount()
})
