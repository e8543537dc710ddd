import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { h } from 'vue'
import FindingText from './FindingText.vue'
import { i18n, setLocale } from '@/i18n'
import { findingTitleKey } from '@/lib/findings'

// In a list item, as the views show it (the component has several roots).
interface Props { code: string; message: string; target?: string; rule?: string | null; showCode?: boolean }
const render = (props: Props) =>
  mount({ render: () => h('li', [h(FindingText, props)]) }, { global: { plugins: [i18n] } })

describe('FindingText', () => {
  it('puts the title of a known code, in the UI language, before the code and the server message', () => {
    setLocale('es-CO')
    const w = render({ code: 'well_without_test', message: 'CDL-007 is producing and has no valid test: not allocated' })
    expect(w.get('[data-testid="finding-title"]').text()).toBe('Pozo sin prueba válida')
    expect(w.text()).toBe('Pozo sin prueba válida well_without_test CDL-007 is producing and has no valid test: not allocated')
    expect(w.get('[lang="en"]').text()).toBe('CDL-007 is producing and has no valid test: not allocated')
    setLocale('en')
    const en = render({ code: 'IDP033', message: 'factor 1.2 outside [0.85, 1.15]', target: 'PMO-OIL' })
    expect(en.text()).toBe('Allocation factor outside its band IDP033 PMO-OIL: factor 1.2 outside [0.85, 1.15]')
    setLocale('es-CO')
  })

  it('shows the report rule an allocation finding becomes, and can leave the code out', () => {
    setLocale('es-CO')
    const both = render({ code: 'balance_not_closed', message: 'residual 60 bbl', target: 'oil', rule: 'IDP034' })
    expect(both.text()).toBe('Balance no cierra IDP034 balance_not_closed oil: residual 60 bbl')
    const noCode = render({ code: 'virtual_meter_diverges', message: 'Σ virtual 9984.00 bbl', rule: 'IDP035', showCode: false })
    expect(noCode.text()).toBe('Medidores virtuales difieren del PMO IDP035 Σ virtual 9984.00 bbl')
  })

  it('shows an unknown code (a newer server) with its code and message only, no empty title', () => {
    setLocale('es-CO')
    for (const code of ['IDP999', 'future_finding', 'odd.code', '']) {
      const w = render({ code, message: 'something new' })
      expect(w.find('[data-testid="finding-title"]').exists()).toBe(false)
      expect(w.find('strong').exists()).toBe(false)
      expect(w.text()).toBe(`${code} something new`.trim())
    }
    expect(findingTitleKey('odd.code')).toBeNull()
    expect(findingTitleKey('IDP001')).toBe('findingTitles.IDP001')
  })
})
