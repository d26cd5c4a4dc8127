/** Small self-drawn SVG charts, so reports open from disk with no network and no library. */

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
export const colorOf = (index: number): string => PALETTE[index % PALETTE.length] ?? '#000';

/**
 * One colour per key wherever it is drawn: the key's place in the full list of keys, not in the
 * series a chart happens to show (a chart that leaves one out must not shift the others' colours).
 */
export const colorFor = <T>(key: T, keys: readonly T[]): string => {
  const index = keys.indexOf(key);
  return index < 0 ? '#111' : colorOf(index);
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const niceMax = (value: number): number => {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
};

const format = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k` : `${Math.round(value * 100) / 100}`;

export type BarGroup = { label: string; bars: { label: string; value: number; color?: string }[] };

/** Grouped vertical bars with a legend; `reference` draws a dashed horizontal line per group (e.g. a ceiling). */
export const barChart = (options: {
  title: string;
  unit: string;
  groups: BarGroup[];
  reference?: { label: string; values: (number | undefined)[] };
}): string => {
  const { title, unit, groups } = options;
  const width = 720;
  const height = 300;
  const left = 60;
  const bottom = 40;
  const top = 40;
  const labels = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const colors = labels.map(
    (label, i) => groups.flatMap((g) => g.bars).find((b) => b.label === label && b.color)?.color ?? colorOf(i),
  );
  const colorAt = (i: number) => colors[i] ?? colorOf(i);
  const max = niceMax(
    Math.max(
      ...groups.flatMap((g) => g.bars.map((b) => b.value)),
      ...(options.reference?.values.filter((v): v is number => v !== undefined) ?? []),
    ),
  );
  const plotWidth = width - left - 20;
  const plotHeight = height - top - bottom;
  const groupWidth = plotWidth / Math.max(1, groups.length);
  const barWidth = Math.min(40, (groupWidth * 0.8) / Math.max(1, labels.length));
  const y = (v: number) => top + plotHeight - (v / max) * plotHeight;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${format(v)}</text>`);
  }
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + (groupWidth - barWidth * labels.length) / 2;
    group.bars.forEach((bar) => {
      const i = labels.indexOf(bar.label);
      const x = x0 + i * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(bar.value)}" width="${barWidth - 2}" height="${Math.max(0, top + plotHeight - y(bar.value))}" fill="${colorAt(i)}"><title>${escape(`${group.label} ${bar.label}: ${format(bar.value)} ${unit}`)}</title></rect>`,
        `<text x="${x + barWidth / 2}" y="${y(bar.value) - 3}" text-anchor="middle" font-size="10">${format(bar.value)}</text>`,
      );
    });
    const ref = options.reference?.values[g];
    if (ref !== undefined) {
      parts.push(
        `<line x1="${left + g * groupWidth + 4}" x2="${left + (g + 1) * groupWidth - 4}" y1="${y(ref)}" y2="${y(ref)}" stroke="#111" stroke-dasharray="4 3"><title>${escape(`${options.reference?.label}: ${format(ref)} ${unit}`)}</title></line>`,
      );
    }
    parts.push(
      `<text x="${left + g * groupWidth + groupWidth / 2}" y="${height - bottom + 16}" text-anchor="middle" font-size="12">${escape(group.label)}</text>`,
    );
  });
  const legend = labels
    .map((label, i) => `<tspan fill="${colorAt(i)}">■</tspan> ${escape(label)}`)
    .concat(options.reference ? [`- - ${escape(options.reference.label)}`] : [])
    .join('   ');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">
<text x="${left}" y="18" font-size="14" font-weight="bold">${escape(title)}</text>
<text x="${left}" y="34" font-size="11">${legend} (${escape(unit)})</text>
${parts.join('\n')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#111"/>
</svg>`;
};

/** A line; `color` fixes its colour (see colorFor), `dashed` tells a second line of the same key apart. */
export type Series = { label: string; points: [number, number][]; color?: string; dashed?: boolean };

/**
 * One axis: where a value lands (`start` + a fraction of `length` pixels) and its ticks. A
 * linear axis runs from 0 (or the smallest value, if negative) to a round maximum; a logarithmic
 * one between the powers of ten around the positive values.
 */
const axis = (values: number[], log: boolean, start: number, length: number) => {
  if (log) {
    const positive = values.filter((v) => v > 0);
    const low = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
    const high = Math.max(low + 1, Math.ceil(Math.log10(positive.length > 0 ? Math.max(...positive) : 10)));
    const at = (v: number) => start + ((Math.log10(Math.max(v, 10 ** low)) - low) / (high - low)) * length;
    return { at, ticks: Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i)) };
  }
  const min = Math.min(0, ...values);
  const max = niceMax(Math.max(0, ...values));
  const at = (v: number) => start + ((v - min) / (max - min || 1)) * length;
  return { at, ticks: Array.from({ length: 5 }, (_, i) => min + ((max - min) / 4) * i) };
};

/** Lines over a shared x axis (e.g. seconds), one colour per series. */
export const lineChart = (options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic axes, for values spanning orders of magnitude (ticks at powers of ten). */
  logX?: boolean;
  logY?: boolean;
  /** Lines on a second y axis, at the right: another quantity against the same x. */
  right?: { yLabel: string; series: Series[]; logY?: boolean };
}): string => {
  const width = 720;
  const height = 280;
  const left = 60;
  const bottom = 40;
  const top = 40;
  const rightMargin = options.right ? 60 : 20;
  const plotWidth = width - left - rightMargin;
  const plotHeight = height - top - bottom;
  const rightSeries = options.right?.series ?? [];
  const all = [...options.series, ...rightSeries].flatMap((s) => s.points);
  const xAxis = axis(
    all.map(([px]) => px),
    options.logX ?? false,
    left,
    plotWidth,
  );
  const yAxis = axis(
    options.series.flatMap((s) => s.points).map(([, py]) => py),
    options.logY ?? false,
    top + plotHeight,
    -plotHeight,
  );
  const rightAxis = axis(
    rightSeries.flatMap((s) => s.points).map(([, py]) => py),
    options.right?.logY ?? false,
    top + plotHeight,
    -plotHeight,
  );
  const x = xAxis.at;
  const y = yAxis.at;
  const parts: string[] = [];
  for (const v of yAxis.ticks) {
    parts.push(`<line x1="${left}" x2="${width - rightMargin}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${format(v)}</text>`);
  }
  if (options.right) {
    for (const v of rightAxis.ticks) {
      parts.push(`<text x="${width - rightMargin + 6}" y="${rightAxis.at(v) + 4}" font-size="11">${format(v)}</text>`);
    }
  }
  for (const v of xAxis.ticks) {
    parts.push(
      `<text x="${x(v)}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="11">${format(v)}</text>`,
    );
  }
  const drawn = [
    ...options.series.map((series) => ({ series, y })),
    ...rightSeries.map((series) => ({ series, y: rightAxis.at })),
  ];
  const colorAt = (series: Series, i: number) => series.color ?? colorOf(i);
  drawn.forEach(({ series, y: at }, i) => {
    if (series.points.length === 0) return;
    const color = colorAt(series, i);
    const d = series.points
      .map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${at(py).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escape(series.label)}</title></path>`,
    );
    for (const [px, py] of series.points) {
      parts.push(
        `<circle cx="${x(px).toFixed(1)}" cy="${at(py).toFixed(1)}" r="2" fill="${color}"><title>${escape(`${series.label}: ${format(px)}, ${format(py)}`)}</title></circle>`,
      );
    }
  });
  const legend = drawn
    .map(
      ({ series }, i) =>
        `<tspan fill="${colorAt(series, i)}">${series.dashed ? '╌' : '■'}</tspan> ${escape(series.label)}`,
    )
    .join('   ');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(options.title)}">
<text x="${left}" y="18" font-size="14" font-weight="bold">${escape(options.title)}</text>
<text x="${left}" y="34" font-size="11">${legend}</text>
${parts.join('\n')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#111"/>
<line x1="${left}" x2="${width - rightMargin}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#111"/>
<text x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle" font-size="11">${escape(options.xLabel)}</text>
<text x="14" y="${top + plotHeight / 2}" font-size="11" transform="rotate(-90 14 ${top + plotHeight / 2})" text-anchor="middle">${escape(options.yLabel)}</text>
${options.right ? `<line x1="${width - rightMargin}" x2="${width - rightMargin}" y1="${top}" y2="${top + plotHeight}" stroke="#111"/><text x="${width - 8}" y="${top + plotHeight / 2}" font-size="11" transform="rotate(90 ${width - 8} ${top + plotHeight / 2})" text-anchor="middle">${escape(options.right.yLabel)}</text>` : ''}
</svg>`;
};

/** A self-contained HTML page around some sections. */
export const page = (title: string, body: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#111;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #d1d5db;padding:4px 8px;text-align:right}
th{background:#f3f4f6}td:first-child,th:first-child{text-align:left}.fail{color:#b91c1c;font-weight:bold}.pass{color:#15803d}
svg{max-width:100%;height:auto;display:block;margin:1rem 0}code{background:#f3f4f6;padding:1px 4px}
</style></head><body>
<h1>${escape(title)}</h1>
${body}
</body></html>
`;

export { escape as escapeHtml };
