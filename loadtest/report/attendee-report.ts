import type { LoadtestReport } from './loadtest-report.js';
import { serverCpuPerCommitted } from './markdown.js';
import { ratioCell } from '../stats.js';

/**
 * What naming an attendee costs (issue 28's target: at least 90% of the surge's committed/s):
 * es-attendees against es-batched in the same run, phase by phase, in committed/s and in server
 * CPU per committed reservation. Empty unless the run had both.
 */
export const attendeeTable = (report: LoadtestReport) => {
  const throughput = report.results.filter((r) => r.phase === 'throughput' && !r.topology);
  const rows = throughput
    .filter((r) => r.design === 'es-attendees')
    .flatMap((named) => {
      const plain = throughput.find(
        (r) => r.design === 'es-batched' && r.scenario === named.scenario && r.connections === named.connections,
      );
      if (!plain) return [];
      const cpu = (r: typeof named) => r.cpu?.microsecondsPerCommitted?.server;
      return [
        [
          named.scenario,
          named.connections,
          plain.reservationsPerSecond,
          named.reservationsPerSecond,
          ratioCell(named.reservationsPerSecond, plain.reservationsPerSecond),
          serverCpuPerCommitted(plain.cpu),
          serverCpuPerCommitted(named.cpu),
          ratioCell(cpu(named), cpu(plain)),
        ],
      ];
    });
  return {
    title: 'Attendee details: es-attendees (every reservation names its attendee, encrypted) ÷ es-batched',
    header: [
      'scenario',
      'conns',
      'es-batched committed/s',
      'es-attendees committed/s',
      'committed/s ratio',
      'es-batched server CPU µs/committed',
      'es-attendees server CPU µs/committed',
      'CPU ratio',
    ],
    rows,
  };
};
