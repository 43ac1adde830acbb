/** Charts with uPlot (≈ 20 KB gzipped, canvas), loaded only by pages that draw one. */
import type { Activity } from './api.js';
import { h } from './dom.js';
import { fmtNumber, t } from './i18n.js';

export interface Series {
  label: string;
  values: (number | null)[];
  colour: string;
  dash?: number[];
  fill?: string;
}

/** Hourly rentals + returns: today (up to the current hour) against the usual day. */
export function hourlySeries(a: Activity): { hours: number[]; today: (number | null)[]; usual: number[] } {
  const hours: number[] = [];
  const today: (number | null)[] = [];
  const usual: number[] = [];
  const currentHour = Math.floor(a.currentSlot / 6);
  for (let hr = 0; hr < 24; hr++) {
    let tsum = 0;
    let usum = 0;
    for (let s = hr * 6; s < hr * 6 + 6; s++) {
      tsum += (a.today.rented[s] ?? 0) + (a.today.returned[s] ?? 0);
      usum += (a.usual.rented[s] ?? 0) + (a.usual.returned[s] ?? 0);
    }
    hours.push(hr);
    // The current hour is not over: drawing its partial count would show a false drop.
    today.push(hr < currentHour || (hr === currentHour && a.currentSlot % 6 === 5) ? tsum : null);
    usual.push(Math.round(usum * 10) / 10);
  }
  return { hours, today, usual };
}

/**
 * Draws into `box` (sized by CSS; no layout shift: the box keeps its height while loading).
 * Returns a cleanup function.
 */
export async function lineChart(
  box: HTMLElement,
  x: number[],
  series: Series[],
  opts: {
    xLabel: string;
    yLabel: string;
    xFormat: (v: number) => string;
    xAxisFormat?: (v: number) => string;
    ariaLabel: string;
  },
): Promise<() => void> {
  const [{ default: uPlot }] = await Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]);
  const height = box.clientHeight || 240;
  const width = Math.max(280, box.clientWidth);
  const plot = new uPlot(
    {
      width,
      height: height - 40,
      scales: { x: { time: false } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        {
          label: opts.xLabel,
          values: (_u, vals) => vals.map((v) => (opts.xAxisFormat ?? opts.xFormat)(v)),
          stroke: '#333',
          space: 70,
        },
        { label: opts.yLabel, values: (_u, vals) => vals.map((v) => fmtNumber(v)), stroke: '#333', size: 50 },
      ],
      series: [
        { label: opts.xLabel, value: (_u, v) => (v === null ? '–' : opts.xFormat(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: 2,
          dash: s.dash,
          fill: s.fill,
          spanGaps: false,
          value: (_u: unknown, v: number | null) => (v === null ? '–' : fmtNumber(v)),
        })),
      ],
    },
    [x, ...series.map((s) => s.values)] as unknown as uPlot.AlignedData,
    box,
  );
  plot.root.setAttribute('role', 'img');
  plot.root.setAttribute('aria-label', opts.ariaLabel);
  const ro = new ResizeObserver(() =>
    plot.setSize({ width: Math.max(280, box.clientWidth), height: height - 40 }),
  );
  ro.observe(box);
  return () => {
    ro.disconnect();
    plot.destroy();
  };
}

/** Today-vs-usual figure with its caption; returns [figure, draw()]. */
export function activityFigure(
  a: Activity,
  title: string,
): { figure: HTMLElement; draw: () => Promise<() => void> } {
  const box = h('div', { class: 'chart' });
  const caption = a.usual.days > 0 ? t('chart.caption', { days: a.usual.days }) : t('chart.noUsual');
  const figure = h(
    'figure',
    { class: 'card chart-card' },
    h('h2', {}, title),
    box,
    h('figcaption', {}, caption),
  );
  const { hours, today, usual } = hourlySeries(a);
  const draw = (): Promise<() => void> =>
    lineChart(
      box,
      hours,
      [
        { label: t('chart.today'), values: today, colour: '#12355b', fill: 'rgba(18,53,91,0.12)' },
        { label: t('chart.usual'), values: usual, colour: '#c2410c', dash: [6, 4] },
      ],
      {
        xLabel: t('chart.hour'),
        yLabel: t('chart.trips'),
        xFormat: (v) => `${v} h`,
        ariaLabel: `${title}. ${caption}`,
      },
    );
  return { figure, draw };
}
