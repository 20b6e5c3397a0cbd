/**
 * The part of ECharts the dashboard uses, registered per component (echarts/core + line, bar and map
 * series, grid, tooltip and visual map, the canvas renderer) so the lazy dashboard chunk carries no more of
 * the library than it draws with. Imported only from the dashboard's components (never the first load).
 */
import { BarChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { init, registerMap, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

use([LineChart, BarChart, MapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export type { ECharts } from 'echarts/core';
export { init, registerMap };
