/**
 * The benchmark's charts as plain SVG written by hand: grouped bar panels (latency percentiles
 * by rate on a log scale, throughput by lanes) and a line for memory over a soak.
 */

export interface BarGroup {
  label: string;
  /** One value per series; NaN draws nothing. */
  values: number[];
}

export interface BarPanel {
  title: string;
  unit: string;
  /** Series names, in the order of each group's values. */
  series: string[];
  groups: BarGroup[];
  log?: boolean;
}

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f'];
const W = 560;
const H = 360;
const M = { top: 56, right: 16, bottom: 110, left: 64 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(2));

function scale(panel: BarPanel): { y: (v: number) => number; ticks: number[] } {
  const values = panel.groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(1, ...values);
  const plot = H - M.top - M.bottom;
  if (panel.log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(max, ...values)));
    const hi = 10 ** Math.ceil(Math.log10(max));
    const ticks: number[] = [];
    for (let t = lo; t <= hi; t *= 10) ticks.push(t);
    return { y: (v) => M.top + plot * (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)), ticks };
  }
  const step = 10 ** Math.floor(Math.log10(max));
  const hi = Math.ceil(max / step) * step;
  const ticks = Array.from({ length: Math.round(hi / step) + 1 }, (_, i) => i * step);
  return { y: (v) => M.top + plot * (1 - v / hi), ticks };
}

/** Wide enough for value labels over every bar. */
const panelWidth = (panel: BarPanel): number => Math.max(W, M.left + M.right + panel.groups.length * (panel.series.length * 30 + 16));

/** One panel, translated to (x0, 0). */
function panelSvg(panel: BarPanel, x0: number): string {
  const { y, ticks } = scale(panel);
  const width = panelWidth(panel);
  const plotW = width - M.left - M.right;
  const groupW = plotW / Math.max(1, panel.groups.length);
  const barW = Math.min(28, (groupW * 0.8) / panel.series.length);
  const out: string[] = [`<g transform="translate(${x0},0)">`, `<text x="${width / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(panel.title)}</text>`];
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" x2="${width - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${esc(t.toLocaleString('en-US'))}</text>`);
  }
  out.push(`<text transform="translate(14,${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(panel.unit)}</text>`);
  panel.groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + (groupW - barW * panel.series.length) / 2;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v) || v <= 0) return;
      const top = y(v);
      const x = gx + si * barW;
      out.push(`<rect x="${x}" y="${top}" width="${barW - 2}" height="${H - M.bottom - top}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${g.label}, ${panel.series[si]}: ${num(v)} ${panel.unit}`)}</title></rect>`);
      out.push(`<text x="${x + (barW - 2) / 2}" y="${top - 3}" text-anchor="middle" font-size="9">${esc(num(v))}</text>`);
    });
    const cx = M.left + gi * groupW + groupW / 2;
    out.push(`<text transform="translate(${cx},${H - M.bottom + 12}) rotate(30)" font-size="10">${esc(g.label)}</text>`);
  });
  out.push(`<line x1="${M.left}" x2="${width - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  panel.series.forEach((s, si) => {
    const lx = M.left + si * 150;
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${lx + 14}" y="39" font-size="11">${esc(s)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** Panels side by side, with a caption line (the machine, the load) under them. */
export function barChartSvg(panels: BarPanel[], caption: string): string {
  const widths = panels.map(panelWidth);
  // Room on the right for the last panel's slanted group labels.
  const width = widths.reduce((a, b) => a + b, 0) + 120;
  const offsets = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" viewBox="0 0 ${width} ${H + 24}" font-family="sans-serif">`,
    `<title>${esc(panels.map((p) => p.title).join('; '))}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panelSvg(p, offsets[i]!)),
    `<text x="8" y="${H + 18}" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** A line of (x, y) points, e.g. engine RSS in MiB over seconds of a soak. */
export function lineChartSvg(title: string, xUnit: string, yUnit: string, points: Array<[number, number]>, caption: string): string {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const plotW = W * 2 - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number): number => M.left + (plotW * x) / xMax;
  const py = (v: number): number => M.top + plotH * (1 - v / yMax);
  const step = 10 ** Math.floor(Math.log10(yMax));
  const ticks = Array.from({ length: Math.floor(yMax / step) + 1 }, (_, i) => i * step);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * 2}" height="${H}" viewBox="0 0 ${W * 2} ${H}" font-family="sans-serif">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    ...ticks.map((t) => `<line x1="${M.left}" x2="${W * 2 - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${t}</text>`),
    ...Array.from({ length: 6 }, (_, i) => (xMax * i) / 5).map(
      (t) => `<text x="${px(t)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="11">${Math.round(t).toLocaleString('en-US')}</text>`,
    ),
    `<line x1="${M.left}" x2="${W * 2 - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<polyline fill="none" stroke="${COLORS[0]}" stroke-width="2" points="${points.map(([x, v]) => `${px(x).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`,
    `<text x="${W}" y="${H - M.bottom + 30}" text-anchor="middle" font-size="12">${esc(xUnit)}</text>`,
    `<text transform="translate(14,${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yUnit)}</text>`,
    `<text x="8" y="${H - 8}" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
