// Live telemetry of one field over the WebSocket: which series are watched, their last points
// (rings, outside Vue's reactivity), a version counter the charts redraw on, and the link state.
// Authenticates with a first message when the server supports it, else (older server) with the
// token in the URL; reconnects with backoff.
import { defineStore } from 'pinia'
import { markRaw, ref, shallowRef } from 'vue'
import { FEATURE, loadFeatures } from '@/api/capabilities'
import { applyFrame, Ring, type ReadingsFrame } from '@/lib/ring'
import { useAuthStore } from './auth'

export interface LiveSeries {
  id: number
  code: string
  variable: string
  unit: string
}

export type LinkState = 'idle' | 'connecting' | 'live' | 'retrying' | 'refused'

// 20 minutes at 1 Hz: the live window; longer spans come from the API (rollups, raw).
const POINTS_PER_SERIES = 1200
const REDRAW_MS = 1000

export const useLiveStore = defineStore('live', () => {
  const state = ref<LinkState>('idle')
  const reason = ref('')
  const fieldId = ref<number | null>(null)
  const available = shallowRef<LiveSeries[]>([])
  const watched = ref<number[]>([])
  /** Bumped when new points arrive (at most once per animation frame). */
  const version = ref(0)
  const received = ref(0)
  const rings = markRaw(new Map<number, Ring>())
  const latest = markRaw(new Map<number, [number, number]>())
  let socket: WebSocket | null = null
  let retries = 0
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let pending = false
  let stopped = true

  function watch(ids: number[]): void {
    watched.value = [...ids]
    for (const id of ids) if (!rings.has(id)) rings.set(id, new Ring(POINTS_PER_SERIES))
    for (const id of [...rings.keys()]) if (!ids.includes(id)) rings.delete(id)
    version.value += 1
  }

  // Charts and tables redraw at most once a second, however often frames arrive: a redraw of a
  // dozen charts per frame (4 Hz) is what blocked the main thread in bench/ui.py.
  let lastBump = 0
  function bump(): void {
    if (pending) return
    pending = true
    const wait = Math.max(0, REDRAW_MS - (Date.now() - lastBump))
    setTimeout(() => {
      pending = false
      lastBump = Date.now()
      version.value += 1
    }, wait)
  }

  function onMessage(data: string): void {
    const message = JSON.parse(data) as { type: string } & Record<string, unknown>
    if (message.type === 'subscribed') {
      available.value = (message.series as LiveSeries[]) ?? []
      state.value = 'live'
      retries = 0
      return
    }
    if (message.type === 'readings') {
      const frame = message as unknown as ReadingsFrame
      for (let i = 0; i < frame.series_id.length; i += 1) {
        const v = frame.value[i]
        if (v !== null && v !== undefined) {
          latest.set(frame.series_id[i] as number, [(frame.time_us[i] as number) / 1000, v])
        }
      }
      received.value += applyFrame(rings, frame)
      bump()
    }
  }

  async function connect(id: number): Promise<void> {
    disconnect()
    stopped = false
    fieldId.value = id
    state.value = 'connecting'
    const auth = useAuthStore()
    const token = auth.currentToken()
    if (token === null) {
      state.value = 'refused'
      reason.value = 'not logged in'
      return
    }
    const firstMessage = (await loadFeatures()).has(FEATURE.wsAuthMessage)
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    // Older servers only read the token from the URL (BACKEND_NEEDS.md asks for the message).
    const query = firstMessage ? '' : `?token=${encodeURIComponent(token)}`
    const ws = new WebSocket(`${scheme}://${location.host}/ws/telemetry/${id}${query}`)
    socket = ws
    ws.onopen = () => {
      if (firstMessage) ws.send(JSON.stringify({ type: 'auth', token }))
    }
    ws.onmessage = (event) => onMessage(String(event.data))
    ws.onclose = (event) => {
      if (socket !== ws) return
      socket = null
      if (stopped) return
      if (event.code === 4401) {
        // The token may have just expired: renew once, then try again.
        void auth.renew().then((t) => {
          if (t === null) {
            state.value = 'refused'
            reason.value = event.reason
          } else scheduleRetry(id)
        })
        return
      }
      if (event.code === 4403 || event.code === 4404) {
        state.value = 'refused'
        reason.value = event.reason
        return
      }
      scheduleRetry(id)
    }
  }

  function scheduleRetry(id: number): void {
    state.value = 'retrying'
    retries += 1
    const delay = Math.min(30_000, 500 * 2 ** Math.min(retries, 6))
    retryTimer = setTimeout(() => void connect(id), delay)
  }

  function disconnect(): void {
    stopped = true
    if (retryTimer !== null) clearTimeout(retryTimer)
    retryTimer = null
    if (socket !== null) {
      const s = socket
      socket = null
      s.close(1000, 'leaving')
    }
    state.value = 'idle'
  }

  function latestValue(id: number): [number, number] | null {
    return latest.get(id) ?? null
  }

  return {
    state,
    reason,
    fieldId,
    available,
    watched,
    version,
    received,
    rings,
    watch,
    connect,
    disconnect,
    latestValue,
    onMessage,
  }
})
