import { mount } from '@vue/test-utils'
import axe from 'axe-core'
import { describe, expect, it } from 'vitest'
import PendingAmendment from './PendingAmendment.vue'
import { i18n, setLocale } from '@/i18n'
import { actorLabel, decimalsOf, figureUnit, parseActor } from '@/lib/amendment'

const PENDING = {
  reason_code: 'lab_result',
  reason: 'BSW del laboratorio',
  material: true,
  requested_by: 'user:1:ingeniera@demo.local',
  requested_at: '2026-12-07T12:00:00Z',
  changes: [
    { target: 'PMO-LACT-01', figure: 'oil_net_bbl', old: 7924.09, new: 7811.5 },
    { target: 'PMO-LACT-01', figure: 'bsw_pct', old: 0.35, new: 7.5 },
    { target: 'PMO-LACT-01', figure: 'csw', old: 0.9965, new: 0.925 },
    { target: 'PMO-LACT-01', figure: 'events/0/volume', old: 1, new: 2 },
    { target: 'PMO-LACT-01', figure: 'uncertainty/expanded', old: 97.79, new: 90.9 },
    { target: 'PMO-LACT-01', figure: 'uncertainty/expanded_pct', old: 1.2339, new: 1.2345 },
    { target: 'totals', figure: 'gas_kpc', old: null, new: 1225.44 },
    { target: 'PMO-X', figure: 'mystery', old: 'a', new: { b: 1 } },
  ],
}

const rows = (w: ReturnType<typeof mount>) =>
  w.findAll('[data-testid="amendment-changes"] tbody tr').map((r) => r.findAll('th, td').map((c) => c.text()))

describe('parseActor', () => {
  it('reads the audit actor, keeping colons in the name; a plain name stays as it is', () => {
    expect(parseActor('user:1:ingeniera@demo.local')).toEqual({ kind: 'user', id: 1, name: 'ingeniera@demo.local' })
    expect(parseActor('api_key:12:scada:edge')).toEqual({ kind: 'api_key', id: 12, name: 'scada:edge' })
    expect(parseActor('operador')).toEqual({ kind: 'other', id: null, name: 'operador' })
    expect(parseActor('user:x:ana')).toEqual({ kind: 'other', id: null, name: 'user:x:ana' })
    const key = (name: string) => `clave API ${name}`
    expect([actorLabel('user:1:admin@demo.local', key), actorLabel('api_key:3:scada', key), actorLabel('luis', key)]).toEqual([
      'admin@demo.local',
      'clave API scada',
      'luis',
    ])
  })
  it('gives units by key and decimals by value', () => {
    expect([figureUnit('oil_net_bbl'), figureUnit('totals/gas_kpc'), figureUnit('bsw_pct'), figureUnit('temperature_f'), figureUnit('csw')]).toEqual(['bbl', 'kscf', '%', 'degF', null])
    expect([decimalsOf(7811.5), decimalsOf(0.9965), decimalsOf(12), decimalsOf(1e-7)]).toEqual([1, 4, 0, 6])
  })
})

describe('PendingAmendment', () => {
  it('names the requester and the figures in es-CO, raw values in tooltips', () => {
    setLocale('es-CO')
    const w = mount(PendingAmendment, { props: { pending: PENDING }, global: { plugins: [i18n] } })
    expect(w.get('h3').text()).toBe('Enmienda en espera de una segunda persona: Resultado de laboratorio, solicitada por ingeniera@demo.local')
    expect(w.get('[data-testid="amendment-requester"]').attributes('title')).toBe('user:1:ingeniera@demo.local')
    expect(w.text()).not.toContain('user:1:')
    expect(rows(w)).toEqual([
      ['PMO-LACT-01 · Volumen neto (NSV)', '7.924,09\u00a0bbl', '7.811,50\u00a0bbl'],
      ['PMO-LACT-01 · BSW', '0,35\u00a0%', '7,50\u00a0%'],
      ['PMO-LACT-01 · Corrección por agua y sedimento (CSW)', '0,9965', '0,9250'],
      ['PMO-LACT-01 · Eventos del contador › 0/volume', '1', '2'],
      ['PMO-LACT-01 · Incertidumbre expandida (volumen)', '97,79', '90,90'],
      ['PMO-LACT-01 · Incertidumbre expandida relativa', '1,2339\u00a0%', '1,2345\u00a0%'],
      ['Totales del campo · Volumen de gas', '—', '1.225,44\u00a0KPC'],
      ['PMO-X · mystery', 'a', '{"b":1}'],
    ])
    const first = w.get('[data-testid="amendment-change-PMO-LACT-01"] th')
    expect(first.attributes('title')).toBe('Clave en el informe: PMO-LACT-01/oil_net_bbl')
    expect(first.attributes('scope')).toBe('row')
    const wrap = w.get('.table-wrap')
    expect([wrap.attributes('tabindex'), wrap.attributes('role'), wrap.attributes('aria-label')]).toEqual(['0', 'region', 'Cifras que cambia la enmienda'])
  })

  it('says it in English, and names an API key as one', () => {
    setLocale('en')
    const w = mount(PendingAmendment, { props: { pending: { ...PENDING, requested_by: 'api_key:3:scada' } }, global: { plugins: [i18n] } })
    expect(w.get('h3').text()).toBe('Amendment awaiting a second person: Lab result, asked by API key scada')
    expect(rows(w)[0]).toEqual(['PMO-LACT-01 · Net volume (NSV)', '7,924.09\u00a0bbl', '7,811.50\u00a0bbl'])
    expect(rows(w)[5]).toEqual(['PMO-LACT-01 · Relative expanded uncertainty', '1.2339\u00a0%', '1.2345\u00a0%'])
    expect(rows(w)[6]).toEqual(['Field totals · Gas volume', '—', '1,225.44\u00a0KPC'])
    expect(w.get('[data-testid="amendment-change-PMO-LACT-01"] th').attributes('title')).toBe('Key in the report: PMO-LACT-01/oil_net_bbl')
    setLocale('es-CO')
  })
})

it('has no serious or critical axe violation', async () => {
  setLocale('es-CO')
  const w = mount(PendingAmendment, { props: { pending: PENDING }, global: { plugins: [i18n] }, attachTo: document.body })
  const result = await axe.run(w.element as Element, { resultTypes: ['violations'] })
  expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([])
  w.unmount()
})
