/**
 * The run report: one row for every user the run covered, the same for the CLI (`--json`) and
 * the Lambda's return value. It never holds key material.
 */

export const ACTIONS = ['rotated', 'resumed', 'skipped', 'planned', 'deferred', 'failed'] as const;
export type Action = (typeof ACTIONS)[number];

export interface UserReport {
  projectId: string;
  username: string;
  secretName: string;
  secretArn: string | undefined;
  action: Action;
  /** Why, in words an operator understands. */
  reason: string;
  /** The certificate the secret holds after the run. */
  serialNumber: string | undefined;
  notAfter: string | undefined;
  /** On failure: Atlas's `errorCode`, or ours. */
  errorCode?: string;
  /** On failure: what to do next. */
  remedy?: string;
  /** Serials of unexpired Atlas certificates whose keys no secret holds. */
  orphans: string[];
}

export interface RunFailure {
  code: string;
  message: string;
  remedy: string;
}

/** The rotator's own Atlas credential: a service account secret expires too. */
export interface CredentialStatus {
  kind: 'serviceAccount';
  clientId: string;
  /** When the secret in use (or, if it cannot be told apart, the newest one) expires. */
  secretExpiresAt?: string;
  daysToExpiry?: number;
  /** Why the expiry could not be read (e.g. the service account lacks an org role). */
  error?: string;
}

export interface RunReport {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  summary: Record<Action, number> & { users: number; orphans: number };
  /** Set when the run stopped early (e.g. rejected Atlas credentials). */
  error?: RunFailure;
  /** Set when the config names the organization and the credential is a service account. */
  credential?: CredentialStatus;
  users: UserReport[];
}

export const summarize = (users: readonly UserReport[]): RunReport['summary'] => {
  const summary = {
    users: users.length,
    orphans: 0,
    ...Object.fromEntries(ACTIONS.map((a) => [a, 0])),
  } as RunReport['summary'];
  for (const user of users) {
    summary[user.action] += 1;
    summary.orphans += user.orphans.length;
  }
  return summary;
};

/** Exit status: 0 when nothing failed, 1 when a user or the run failed. */
export const exitCodeFor = (report: RunReport): 0 | 1 =>
  report.error || report.summary.failed > 0 ? 1 : 0;

const pad = (text: string, width: number): string =>
  text.length >= width ? text : text + ' '.repeat(width - text.length);

/** A readable table for terminals. */
export const formatReport = (report: RunReport): string => {
  const header = ['PROJECT', 'USER', 'ACTION', 'SERIAL', 'NOT AFTER', 'REASON'];
  const rows = report.users.map((u) => [
    u.projectId,
    u.username,
    u.action,
    u.serialNumber ?? '-',
    u.notAfter?.slice(0, 10) ?? '-',
    [
      u.reason,
      u.errorCode ? `[${u.errorCode}]` : '',
      u.remedy ? `→ ${u.remedy}` : '',
      u.orphans.length > 0 ? `(orphans: ${u.orphans.join(', ')})` : '',
    ]
      .filter(Boolean)
      .join(' '),
  ]);
  const widths = header.map((h, i) =>
    i === header.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const s = report.summary;
  const counts = `${s.users} users: ${s.rotated} rotated, ${s.resumed} resumed, ${s.skipped} skipped, ${s.planned} planned, ${s.deferred} deferred, ${s.failed} failed, ${s.orphans} orphans`;
  const lines = [
    `Run ${report.runId}${report.dryRun ? ' (dry run: nothing minted or written)' : ''}`,
    line(header),
    ...rows.map(line),
    counts,
  ];
  if (report.error) {
    lines.push(
      `Run stopped: ${report.error.message} [${report.error.code}] → ${report.error.remedy}`,
    );
  }
  return `${lines.join('\n')}\n`;
};
