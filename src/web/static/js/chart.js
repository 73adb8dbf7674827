// Calls per hour, stacked by outcome: an SVG built with DOM calls (no library, no markup strings).
import { h, s } from './dom.js';

const HOUR = 3600000;

/**
 * @param {Array<{ started: number, outcome: string }>} calls
 * @param {number} from  epoch ms
 * @param {number} to    epoch ms
 * @param {string[]} outcomes  stacking order (also the legend)
 */
export function callsPerHourChart(calls, from, to, outcomes) {
  const start = Math.floor(from / HOUR) * HOUR;
  const hours = Math.max(1, Math.min(24 * 31, Math.ceil((to - start) / HOUR)));
  const buckets = Array.from({ length: hours }, () => Object.fromEntries(outcomes.map((o) => [o, 0])));
  for (const c of calls) {
    const i = Math.floor((c.started - start) / HOUR);
    if (i >= 0 && i < hours && c.outcome in buckets[i]) buckets[i][c.outcome]++;
  }
  const max = Math.max(1, ...buckets.map((b) => outcomes.reduce((n, o) => n + b[o], 0)));
  const width = 720;
  const height = 220;
  const left = 34;
  const bottom = 24;
  const plotH = height - bottom - 8;
  const barW = (width - left) / hours;
  const y = (v) => 8 + plotH - (v / max) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': `Calls per hour by outcome, ${calls.length} calls`,
  });
  // Grid lines and scale: 0, half, max.
  for (const v of [0, Math.round(max / 2), max]) {
    svg.append(
      s('line', { x1: left, x2: width, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)));
  }
  const labelEvery = Math.ceil(hours / 12);
  buckets.forEach((b, i) => {
    let acc = 0;
    const x = left + i * barW;
    const hourStart = new Date(start + i * HOUR);
    const hourLabel = `${String(hourStart.getHours()).padStart(2, '0')}:00`;
    for (const o of outcomes) {
      if (b[o] === 0) continue;
      const rect = s('rect', {
        x: x + 1, width: Math.max(1, barW - 2), y: y(acc + b[o]), height: y(acc) - y(acc + b[o]),
        class: `bar outcome-${o}`, 'data-outcome': o,
      }, s('title', {}, `${hourStart.toLocaleDateString()} ${hourLabel}: ${b[o]} ${o}`));
      svg.append(rect);
      acc += b[o];
    }
    if (i % labelEvery === 0) {
      svg.append(s('text', { x: x + barW / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis' }, hourLabel));
    }
  });
  const legend = h('ul', { class: 'legend' }, outcomes.map((o) =>
    h('li', {}, h('span', { class: `swatch outcome-${o}`, 'aria-hidden': 'true' }), o)));
  return h('figure', { class: 'chart-box' }, svg, h('figcaption', {}, 'Calls per hour, by outcome'), legend);
}
