import type { CpuUse } from '../cpu.js';

/** How many answers had this status code. */
export const statusCount = (counts: Record<string, number>, code: string): number => counts[code] ?? 0;

/** Answers with a status other than 200, 201, 409 and 503. */
export const otherStatuses = (counts: Record<string, number>): number =>
  Object.entries(counts)
    .filter(([code]) => !['200', '201', '409', '503'].includes(code))
    .reduce((n, [, c]) => n + c, 0);

/** The server's CPU µs per reservation committed; '-' where not measured or nothing was committed. */
export const serverCpuPerCommitted = (cpu: CpuUse | undefined): number | '-' =>
  cpu?.microsecondsPerCommitted?.server ?? '-';

/** A Markdown table from a header row and rows of cells. */
export const markdownTable = (header: string[], rows: (string | number)[][]): string =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

/** An HTML table from the same. */
export const htmlTable = (header: string[], rows: (string | number)[][], escape: (s: string) => string): string =>
  `<table><thead><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr>${row.map((cell) => `<td${String(cell).startsWith('FAIL') ? ' class="fail"' : ''}>${escape(String(cell))}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
