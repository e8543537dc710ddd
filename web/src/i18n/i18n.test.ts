import { describe, expect, it } from 'vitest'
import en from './en'
import es from './es-CO'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

describe('messages', () => {
  it('has the same keys in es-CO and en', () => {
    expect(keys(en).sort()).toEqual(keys(es).sort())
  })
  it('uses no vue-i18n special characters that would change the text (@ | $)', () => {
    for (const [k, v] of [...Object.entries(flat(es)), ...Object.entries(flat(en))]) {
      expect(/[@|$]/.test(v), k).toBe(false)
    }
  })
})

function flat(o: object, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'object' && v !== null) Object.assign(out, flat(v as object, `${prefix}${k}.`))
    else out[`${prefix}${k}`] = String(v)
  }
  return out
}
