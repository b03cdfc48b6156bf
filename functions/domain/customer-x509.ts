import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { serialToDecimal } from './certificate.js';
import { formatZodIssues } from './config/errors.js';
import type { RotatorConfig } from './config/types.js';
import { RotatorError } from './errors.js';
import type { EventPublisher } from './events.js';
import type { Log } from './log.js';

/**
 * The guarded manual operation: disable customer-managed (self-managed) X.509 on a project.
 * Atlas clears the uploaded CA and restarts the project's clusters; every user authenticating
 * with customer-issued certificates loses access. Hard to do by accident, easy on purpose:
 * only configured projects, a dry run unless `confirm` repeats the project id, an audit record.
 */

const projectId = z
  .string()
  .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal Atlas project id');

/** The disable function's payload (and the CLI's options). */
export const disableRequestSchema = z.strictObject({
  projectId,
  /** Must equal `projectId` exactly; without it the call is a dry run. */
  confirm: z.string().optional(),
  requestedBy: z.string().trim().min(1).max(200).optional(),
  reason: z.string().trim().min(1).max(1000).optional(),
});

export type DisableRequest = z.output<typeof disableRequestSchema>;

/** A request that must not proceed: invalid, unconfirmed by the right id, or not allowed. */
export class RefusedError extends RotatorError {
  constructor(message: string, remedy: string) {
    super(message, { code: 'REFUSED', remedy, scope: 'run' });
    this.name = 'RefusedError';
  }
}

export const parseDisableRequest = (input: unknown): DisableRequest => {
  const parsed = disableRequestSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new RefusedError(
      `Invalid disable request: ${formatZodIssues(parsed.error).join('; ')}`,
      'Send {"projectId":"<24-hex id>"} for a dry run; add "confirm":"<the same id>", "requestedBy" and "reason" to disable.',
    );
  }
  return parsed.data;
};

/** One CA certificate of the project's uploaded bundle, as read from its PEM. */
export interface CustomerCa {
  subject: string;
  issuer: string;
  serialNumber: string;
  notAfter: string;
  fingerprint256: string;
}

export interface AuditRecord {
  projectId: string;
  requestedBy: string | undefined;
  reason: string | undefined;
  /** The Lambda request id, or the CLI's run id. */
  requestId: string;
  time: string;
  cleared: CustomerCa[];
  /** What Atlas answered: whether its response still shows a customer CA. */
  atlasResponse: { customerCaPresent: boolean };
  eventPublished: boolean;
}

export interface DisableReport {
  projectId: string;
  /** `dry-run`: nothing changed; `no-op`: nothing was configured; `disabled`: done. */
  action: 'dry-run' | 'no-op' | 'disabled';
  customerCaConfigured: boolean;
  certificateAuthorities: CustomerCa[];
  message: string;
  warning?: string;
  audit?: AuditRecord;
}

export const RESTART_WARNING =
  'Disabling customer-managed X.509 clears the uploaded CA and triggers a rolling restart of every cluster in the project; users authenticating with certificates issued by that CA lose access. Atlas-managed X.509 users are not affected.';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Reads the CA bundle Atlas holds; a block that does not parse is listed as such. */
export const describeCas = (cas: string | undefined): CustomerCa[] =>
  [...(cas ?? '').matchAll(CERT_BLOCK)].map((m) => {
    try {
      const x509 = new X509Certificate(m[0]);
      return {
        subject: x509.subject.replace(/\n/g, ', '),
        issuer: x509.issuer.replace(/\n/g, ', '),
        serialNumber: serialToDecimal(x509.serialNumber),
        notAfter: new Date(x509.validTo).toISOString(),
        fingerprint256: x509.fingerprint256,
      };
    } catch {
      return {
        subject: '(unreadable certificate)',
        issuer: '',
        serialNumber: '',
        notAfter: '',
        fingerprint256: '',
      };
    }
  });

const caConfigured = (security: UserSecurity): boolean =>
  Boolean(security.customerX509?.cas?.includes('BEGIN CERTIFICATE'));

/** What the disable operation reads of a project's `UserSecurity`. */
export interface UserSecurity {
  customerX509?: { cas?: string | undefined } | undefined;
}

/** The two Atlas calls the disable operation makes. */
export interface DisableAtlasPort {
  getUserSecurity(projectId: string): Promise<UserSecurity>;
  /** The destructive call: `DELETE …/userSecurity/customerX509`. */
  disableCustomerX509(projectId: string): Promise<UserSecurity>;
}

export interface DisableContext {
  config: RotatorConfig;
  atlas: DisableAtlasPort;
  events: EventPublisher;
  log: Log;
  requestId: string;
  now: () => Date;
}

/** Refuses, before any Atlas call, a project the config does not name or a wrong confirm. */
export const checkDisableAllowed = (config: RotatorConfig, request: DisableRequest): void => {
  if (!config.projects.some((p) => p.projectId === request.projectId)) {
    throw new RefusedError(
      `Project ${request.projectId} is not in the rotation config; this function only acts on configured projects`,
      'Add the project to the config (and redeploy) if this is really the project you mean.',
    );
  }
  if (request.confirm !== undefined && request.confirm !== request.projectId) {
    throw new RefusedError(
      `confirm does not match the project id ${request.projectId}; nothing was changed`,
      'Repeat the exact project id in confirm to disable, or leave confirm out for a dry run.',
    );
  }
  const missing = (['requestedBy', 'reason'] as const).filter((field) => !request[field]);
  if (request.confirm !== undefined && missing.length > 0) {
    throw new RefusedError(
      `a confirmed disable needs ${missing.join(' and ')} for its audit record; nothing was changed`,
      'Say who asks and why: add "requestedBy" and "reason" (CLI: --requested-by, --reason).',
    );
  }
};

/**
 * The dry run's last sentence, in the handler's payload language: the CLI replaces it with its
 * command (`cli.ts`), which needs the same three fields as flags.
 */
export const confirmAdvice = (projectId: string): string =>
  `To disable, repeat the call with confirm=${projectId}, requestedBy=<who> and reason=<why> (the audit record).`;

export const disableCustomerX509 = async (
  ctx: DisableContext,
  request: DisableRequest,
): Promise<DisableReport> => {
  checkDisableAllowed(ctx.config, request);
  const { projectId: id } = request;
  const before = await ctx.atlas.getUserSecurity(id);
  const cas = describeCas(before.customerX509?.cas);
  const configured = caConfigured(before);
  const base = { projectId: id, customerCaConfigured: configured, certificateAuthorities: cas };

  if (!configured) {
    return {
      ...base,
      action: 'no-op',
      message: `Project ${id} has no customer-managed X.509 configured; nothing to disable, nothing changed.`,
    };
  }
  if (request.confirm === undefined) {
    return {
      ...base,
      action: 'dry-run',
      message: `Dry run: project ${id} has ${cas.length} customer CA certificate(s). ${confirmAdvice(id)}`,
      warning: RESTART_WARNING,
    };
  }

  ctx.log.warn('disabling customer-managed X.509', {
    projectId: id,
    requestedBy: request.requestedBy,
    reason: request.reason,
    requestId: ctx.requestId,
  });
  const after = await ctx.atlas.disableCustomerX509(id);
  const auditBase = {
    projectId: id,
    requestedBy: request.requestedBy,
    reason: request.reason,
    requestId: ctx.requestId,
    time: ctx.now().toISOString(),
    cleared: cas,
    atlasResponse: { customerCaPresent: caConfigured(after) },
  };
  // The audit record goes to the log the moment the DELETE has answered: whatever happens to
  // the event (or the function) next, the record of who cleared what exists.
  ctx.log.warn('customer-managed X.509 disabled', { audit: auditBase });
  const eventPublished =
    (await ctx.events.publish([
      { detailType: 'Atlas Customer X509 Disabled', detail: auditBase },
    ])) === 1;
  const audit: AuditRecord = { ...auditBase, eventPublished };
  ctx.log.info('audit event', { projectId: id, requestId: ctx.requestId, eventPublished });
  return {
    ...base,
    action: 'disabled',
    message: `Customer-managed X.509 disabled on project ${id}; Atlas is restarting its clusters.`,
    warning: RESTART_WARNING,
    audit,
  };
};

/** A readable summary for terminals. */
export const formatDisableReport = (report: DisableReport): string => {
  const lines = [report.message];
  for (const ca of report.certificateAuthorities) {
    lines.push(
      `  CA ${ca.subject} (serial ${ca.serialNumber}, expires ${ca.notAfter.slice(0, 10)})`,
    );
  }
  if (report.warning && report.action !== 'no-op') lines.push(`WARNING: ${report.warning}`);
  if (report.audit) {
    const a = report.audit;
    lines.push(
      `Audit: requested by ${a.requestedBy ?? '(not given)'} for "${a.reason ?? '(not given)'}" at ${a.time}, request ${a.requestId}, event ${a.eventPublished ? 'published' : 'NOT published'}.`,
    );
  }
  return `${lines.join('\n')}\n`;
};
