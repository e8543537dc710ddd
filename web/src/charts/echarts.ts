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
