import type { CheckResult, CheckStatus } from './findings.js';
import type { Prediction } from './predict.js';
import type { Endpoint } from './where.js';

/** doctor's answer: its findings, where it looked, each user's prediction and the verdict. */
export interface DoctorReport {
  /** `ok`: a real run would succeed for every configured (and discovered) user. */
  verdict: 'ok' | 'fail';
  /** The verdict in a sentence (the text output's last line). */
  summary: string;
  region: string | undefined;
  account: string | undefined;
  endpoints: Endpoint[];
  findings: CheckResult[];
  users: Prediction[];
  /** The dry run doctor's predictions come from (`rotate --dry-run`). */
  dryRun: { runId: string; error?: { code: string; message: string } | undefined };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const verdictOf = (
  findings: readonly CheckResult[],
  users: readonly Prediction[],
): Pick<DoctorReport, 'verdict' | 'summary'> => {
  const fails = findings.filter((r) => r.status === 'fail').length;
  const warns =
    findings.filter((r) => r.status === 'warn').length +
    users.filter((u) => u.status === 'warn').length;
  const failing = users.filter((u) => u.status === 'fail');
  if (fails === 0 && failing.length === 0) {
    return {
      verdict: 'ok',
      summary: `A real run would work (${plural(users.length, 'user')}${warns > 0 ? `, ${plural(warns, 'warning')}` : ''}).`,
    };
  }
  const failingUsers = `${failing.length} of ${plural(users.length, 'user')} would fail`;
  if (fails === 0)
    return { verdict: 'fail', summary: `${failingUsers}: a real run would not work.` };
  const also = failing.length > 0 ? ` (${failingUsers})` : '';
  return {
    verdict: 'fail',
    summary: `${plural(fails, 'check')} failed: a real run would not work${also}.`,
  };
};

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

const line = (status: CheckStatus, name: string, detail: string, remedy?: string): string =>
  `${MARK[status]}  ${name}: ${detail}${remedy && status !== 'ok' ? ` → ${remedy}` : ''}`;

/** One line a finding, then one a user, then the verdict. */
export const formatDoctor = (report: DoctorReport): string => {
  const lines = [
    ...report.findings.map((r) => line(r.status, r.name, r.detail, r.remedy)),
    ...report.users.map((u) =>
      line(
        u.status,
        `user ${u.projectId}:${u.username}${u.configured ? '' : ' (discovered)'}`,
        u.detail,
        u.remedy,
      ),
    ),
    report.summary,
  ];
  return `${lines.join('\n')}\n`;
};
