// What the pending-amendment panel shows in words: who asked (the API names the requester by its
// audit actor, `user:<id>:<name>` or `api_key:<id>:<name>`; the command line gives a plain
// name) and each changed figure by its PMO (or the field totals) and a translated name, the
// report's key (`oil_net_bbl`, `uncertainty/expanded_pct`) kept for a tooltip.

/** A requester: its kind (`user`, `api_key`, or `other` for a plain name) and its name. */
export interface Actor {
  kind: 'user' | 'api_key' | 'other'
  id: number | null
  name: string
}

/** Reads an audit actor string; anything not `<kind>:<id>:<name>` is a plain name. */
export function parseActor(raw: string): Actor {
  const m = /^(user|api_key):(\d+):(.+)$/s.exec(raw)
  if (m === null) return { kind: 'other', id: null, name: raw }
  return { kind: m[1] as 'user' | 'api_key', id: Number(m[2]), name: m[3] as string }
}

/** An actor as people read it: the name (or e-mail), an API key said to be one. */
export function actorLabel(raw: string, apiKey: (name: string) => string): string {
  const actor = parseActor(raw)
  return actor.kind === 'api_key' ? apiKey(actor.name) : actor.name
}

/** The unit of a report figure, from its key's suffix (`null`: a plain number or a text). */
export function figureUnit(figure: string): string | null {
  const last = figure.split('/').at(-1) ?? ''
  if (last.endsWith('_bbl')) return 'bbl'
  if (last.endsWith('_kpc')) return 'kscf'
  if (last.endsWith('_pct')) return '%'
  if (last.endsWith('_f')) return 'degF'
  if (last.endsWith('_psig')) return 'psig'
  return null
}

/** The decimals a reported number carries (at most 6), so a factor keeps its 5 and a volume its 2. */
export function decimalsOf(value: number): number {
  const text = String(value)
  if (/e/i.test(text)) return 6
  const dot = text.indexOf('.')
  return dot < 0 ? 0 : Math.min(6, text.length - dot - 1)
}
