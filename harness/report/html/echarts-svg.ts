import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent, SVGRenderer]);

export type ChartOption = EChartsCoreOption;

const BASE: ChartOption = {
  animation: false,
  // ECharts measures text without a canvas here; its estimate fits the plain sans-serif face.
  textStyle: { fontFamily: 'sans-serif' },
  legend: { top: 8, itemGap: 24 },
  grid: { left: 64, right: 64, top: 48, bottom: 48 },
};

/**
 * Renders an ECharts option to a static SVG string on the server (ECharts' SSR mode): no DOM, no
 * canvas, no script in the page. The SVG is inlined in report.html.
 */
export function renderSvg(option: ChartOption, width = 960, height = 320): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...BASE, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
