// Findings and issues as the signer reads them: the server gives each a stable code and an
// English detail message (stored and signed as it is); the UI adds a short title per code in its
// own language (`findingTitles` in src/i18n), and tests/web/test_finding_titles.py fails when a
// code the server can emit has none.

/** The message key of a code's title; null for a code that cannot be a key (dots, spaces…). */
export function findingTitleKey(code: string): string | null {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(code) ? `findingTitles.${code}` : null
}
