// vue-i18n in Composition mode: es-CO by default, English on request (kept for the tab only).
import { createI18n } from 'vue-i18n'
import en from './en'
import es from './es-CO'

export type AppLocale = 'es-CO' | 'en'

export const i18n = createI18n({
  legacy: false,
  locale: 'es-CO',
  fallbackLocale: 'es-CO',
  messages: { 'es-CO': es, en },
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
}
