// The client's mood, anxiety and sleep over 4 weeks: an SVG line chart for the eye, and the same
// numbers as a table for screen readers (the chart itself is hidden from them).
import { h, s, formatDate } from './dom.js';

const SERIES = [
  { key: 'mood', max: 10, css: 'mood' },
  { key: 'anxiety', max: 10, css: 'anxiety' },
  { key: 'sleep_hours', max: 12, css: 'sleep' },
];

export function moodChart(trends, t, locale) {
  const days = (trends.metrics.mood || []).map((point) => point.day);
  if (!days.length || !SERIES.some(({ key }) => (trends.metrics[key] || []).some((p) => p.value !== null))) {
    return h('p', { text: t('home.no_chart') });
  }
  const width = 340;
  const height = 160;
  const x = (i) => 10 + (i * (width - 20)) / Math.max(1, days.length - 1);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', 'aria-hidden': 'true', focusable: 'false' });
  svg.append(s('line', { x1: '10', y1: String(height - 10), x2: String(width - 10), y2: String(height - 10), class: 'axis' }));
  for (const { key, max, css } of SERIES) {
    const points = (trends.metrics[key] || []).map((point, i) => (point.value === null ? null : [x(i), height - 10 - (point.value / max) * (height - 20)]));
    let path = '';
    let pen = 'M';
    for (const point of points) {
      if (!point) { pen = 'M'; continue; }
      path += `${pen}${point[0].toFixed(1)},${point[1].toFixed(1)} `;
      pen = 'L';
    }
    if (path) svg.append(s('path', { d: path.trim(), class: `series ${css}` }));
    for (const point of points) if (point) svg.append(s('circle', { cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: '2.5', class: `dot ${css}` }));
  }
  const legend = h('ul', { class: 'legend' }, SERIES.map(({ key, css }) => h('li', { class: css, text: t(`chart.${key}`) })));
  const rows = days.map((day, i) => ({ day, values: SERIES.map(({ key }) => (trends.metrics[key] || [])[i]?.value ?? null) }))
    .filter((row) => row.values.some((value) => value !== null));
  const table = h('table', { class: 'data sr-only' },
    h('caption', { text: t('chart.caption') }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('chart.day') }), SERIES.map(({ key }) => h('th', { scope: 'col', text: t(`chart.${key}`) })))),
    h('tbody', {}, rows.map((row) => h('tr', {},
      h('th', { scope: 'row', text: formatDate(row.day, locale) }),
      row.values.map((value) => h('td', { text: value === null ? '–' : String(value) }))))),
  );
  return h('figure', { class: 'trends' }, svg, legend, table);
}
