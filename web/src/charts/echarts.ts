// ECharts, tree-shaken: only the charts and components the views use, canvas renderer.
import { BarChart, LineChart, ScatterChart } from 'echarts/charts'
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([
  LineChart,
  BarChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
  CanvasRenderer,
])

export { echarts }
export type { EChartsCoreOption as ChartOption } from 'echarts/core'

/** Escape text for ECharts' HTML tooltips: names come from the site file and users. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** Line series options for long series: LTTB sampling and large mode past a few thousand. */
export function longLine(points: number): Record<string, unknown> {
  return {
    type: 'line',
    showSymbol: false,
    sampling: 'lttb',
    large: points > 5000,
    progressive: points > 5000 ? 2000 : 0,
    animation: false,
    connectNulls: false,
  }
}

// Chart redraws share the main thread: queued work runs one item at a time, and yields to the
// browser (next animation frame) once a frame's budget is used, so a dozen live charts never
// add up to one long task.
const queue: Array<() => void> = []
let running = false
const FRAME_BUDGET_MS = 12

function drain(): void {
  const start = performance.now()
  while (queue.length > 0 && performance.now() - start < FRAME_BUDGET_MS) {
    const job = queue.shift()
    try {
      job?.()
    } catch (error) {
      console.error(error)
    }
  }
  if (queue.length > 0) requestAnimationFrame(drain)
  else running = false
}

/** Run `job` soon, spread over animation frames with the other queued chart redraws. */
export function scheduleRedraw(job: () => void): void {
  queue.push(job)
  if (!running) {
    running = true
    requestAnimationFrame(drain)
  }
}
