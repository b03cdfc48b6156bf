import { type Action, type RunReport, STOPPED_REASON, type UserReport } from './report.js';

/**
 * The run report as a terminal table: one short line per user, then what to do once per error
 * code, then the run's own stop if it stopped. Everything else (full reasons, remedies per row,
 * orphan serials) is in `--json`.
 */

/** How text is emphasized; the CLI passes colours on a terminal, nothing otherwise. */
export interface TableStyle {
  header(text: string): string;
  action(action: Action, text: string): string;
}

export const PLAIN: TableStyle = { header: (t) => t, action: (_a, t) => t };

/** A REASON cell: long enough for the usual reason, short enough for one terminal line. */
export const REASON_WIDTH = 72;

const truncate = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;

const pad = (text: string, width: number): string =>
  text.length >= width ? text : text + ' '.repeat(width - text.length);

/** A row the run's stop reached: its message and remedy are said once, below the rows. */
const stoppedBy = (row: UserReport, runStopped: boolean): boolean =>
  runStopped && row.reason === STOPPED_REASON;

const reasonCell = (row: UserReport, runStopped: boolean): string => {
  const stopped = stoppedBy(row, runStopped);
  return [
    truncate(stopped ? 'run stopped (see below)' : row.reason, REASON_WIDTH),
    row.errorCode && !stopped ? `[${row.errorCode}]` : '',
    // A promoted row keeps the bypass at the end of its reason, past the cut: said here too.
    row.verify?.outcome === 'bypassed' ? '[login check bypassed]' : '',
    // The stale-consumer warning ends a long reason, past the cut: said here too.
    row.consumers === 'stale' ? '[consumers stale]' : '',
    row.orphans.length > 0
      ? `+${row.orphans.length} orphan${row.orphans.length > 1 ? 's' : ''}`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
};

/** One line per distinct remedy, with the codes and how many users it concerns. */
const remedies = (rows: readonly UserReport[], runStopped: boolean): string[] => {
  const byRemedy = new Map<string, { codes: Set<string>; users: number }>();
  for (const row of rows) {
    if (!row.remedy || stoppedBy(row, runStopped)) continue;
    const entry = byRemedy.get(row.remedy) ?? { codes: new Set(), users: 0 };
    if (row.errorCode) entry.codes.add(row.errorCode);
    entry.users += 1;
    byRemedy.set(row.remedy, entry);
  }
  return [...byRemedy].map(([remedy, { codes, users }]) => {
    const tag = codes.size > 0 ? `[${[...codes].join(', ')}] ` : '';
    return `  ${tag}${remedy}${users > 1 ? ` (${users} users)` : ''}`;
  });
};

/** Where the events went: the bus, so a local run says it reached no real one. */
const eventsLine = (report: RunReport): string[] => {
  const events = report.events;
  if (!events || report.dryRun) return [];
  if ('skipped' in events) return [`Events: none sent (${events.skipped})`];
  const dropped = events.dropped > 0 ? `, ${events.dropped} dropped` : '';
  return [`Events: ${events.published} published on bus ${events.bus}${dropped}`];
};

/** What follows a run that left users deferred, or why the run did nothing. */
const catchUpLine = (report: RunReport): string[] => {
  if (report.notRun) return [`Not run: ${report.notRun}`];
  const next = report.catchUp;
  if (next?.next !== 'catch-up') return [];
  return [
    `Catch-up: ${next.deferred} users deferred; the catch-up schedule continues (${next.runs} of ${next.of} catch-up runs so far)`,
  ];
};

/** A forced run's request: the id that repeats it without a second mint, or why it has none. */
const requestOf = (report: RunReport): string => {
  if (report.requestId !== undefined) return `, request ${report.requestId}`;
  return report.requestNote === undefined ? '' : ` (${report.requestNote})`;
};

export const formatReport = (report: RunReport, style: TableStyle = PLAIN): string => {
  const stopped = report.error !== undefined;
  const header = ['PROJECT', 'USER', 'ACTION', 'SERIAL', 'NOT AFTER', 'REASON'];
  const rows = report.users.map((u) => [
    u.projectId,
    u.username,
    u.action,
    u.serialNumber ?? '-',
    u.notAfter?.slice(0, 10) ?? '-',
    reasonCell(u, stopped),
  ]);
  const widths = header.map((h, i) =>
    i === header.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[], styleCell = (_i: number, c: string) => c): string =>
    cells
      .map((c, i) => styleCell(i, i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const s = report.summary;
  const todo = remedies(report.users, stopped);
  const lines = [
    `Run ${report.runId}${report.dryRun ? ' (dry run: nothing minted or written)' : ''}${requestOf(report)}`,
    style.header(line(header)),
    ...report.users.map((u, n) =>
      line(rows[n] ?? [], (i, c) => (i === 2 ? style.action(u.action, c) : c)),
    ),
    `${s.users} users: ${s.rotated} rotated, ${s.resumed} resumed, ${s.skipped} skipped, ${s.planned} planned, ${s.deferred} deferred, ${s.failed} failed, ${s.orphans} orphans`,
    ...(todo.length > 0 ? ['What to do:', ...todo] : []),
    ...catchUpLine(report),
    ...eventsLine(report),
  ];
  if (report.error) {
    lines.push(
      `Run stopped: ${report.error.message} [${report.error.code}] → ${report.error.remedy}`,
    );
  }
  return `${lines.join('\n')}\n`;
};
