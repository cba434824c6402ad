/**
 * Changing the machine config of a running host: plan (what would change, and what it costs),
 * apply (live where possible, saved as the last good config), try (applied, reverted unless
 * confirmed in time) and confirm. Pure: the work is done by a ConfigControl (init's
 * ../../config-apply.ts; a fake in tests); this module checks requests and shapes answers.
 */
import { loadMachineConfig, type MachineConfig } from '../../../../lib/config/machine-config.ts';
import { ConfigError } from '../../../../lib/config/problems.ts';
import { duration, validate } from '../../../../lib/config/validate.ts';
import { planConfigChange, type ConfigPlan } from '../../core/config-plan.ts';
import { API_ROUTES, type ApplyReport as ApplyReportBody, type ConfirmAnswer, type PendingTry, type StepOutcome } from '../../../../lib/api/index.ts';
import { ApiError, toApiProblem, type ApiProblem, type JsonSchema, type Router } from './router.ts';

export type { PendingTry, StepOutcome };

/** The answer of apply and try, with the server's full plan. */
export type ApplyReport = ApplyReportBody<ConfigPlan>;

/** Default and bounds of a try's timeout. */
export const TRY_TIMEOUT_DEFAULT_MS = 60_000;
export const TRY_TIMEOUT_MIN_MS = 5_000;
export const TRY_TIMEOUT_MAX_MS = 3_600_000;

/** What the endpoints need from init. */
export interface ConfigControl {
  /** The config in force. */
  current(): { config: MachineConfig; source: string; origin: string };
  /** The try waiting for confirmation, if any. */
  pendingTry(): PendingTry | undefined;
  /**
   * Applies a validated config: live steps, then (apply) save it as the last good config, or (try)
   * arm the revert timer and keep the saved config as it is. Throws ApiError 409 while a try is pending.
   */
  apply(text: string, config: MachineConfig, plan: ConfigPlan, mode: { kind: 'apply' } | { kind: 'try'; timeoutMs: number }): Promise<Omit<ApplyReport, 'warnings' | 'plan'>>;
  /** Confirms the pending try: saves it as the last good config. Throws ApiError 409 when none is pending. */
  confirm(): Promise<{ saved: boolean }>;
}

/** A config text checked and planned against the config in force. */
export type PlannedConfig =
  | { valid: false; problems: ApiProblem[]; warnings: ApiProblem[] }
  | { valid: true; problems: []; warnings: ApiProblem[]; config: MachineConfig; plan: ConfigPlan };

/** Validates `text` (every problem, with its line) and plans the change from `current`. */
export function planConfigText(current: MachineConfig, text: string): PlannedConfig {
  try {
    const { config, warnings } = loadMachineConfig(text, 'request');
    return { valid: true, problems: [], warnings: warnings.map(toApiProblem), config, plan: planConfigChange(current, config) };
  } catch (error) {
    if (error instanceof ConfigError) return { valid: false, problems: error.problems.map(toApiProblem), warnings: error.warnings.map(toApiProblem) };
    throw error;
  }
}

const YAML_BODY = {
  kind: 'text' as const,
  mediaTypes: ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/plain'],
  description: 'The whole new machine config, YAML (as GET /v1/config shows, or as the host was provisioned)',
};

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['path', 'line', 'column', 'message'],
  properties: { path: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, message: { type: 'string' } },
};

const PLAN_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['changed', 'reboot_required', 'sections', 'containers', 'steps'],
  properties: {
    changed: { type: 'boolean' },
    reboot_required: { type: 'boolean', description: 'Some change takes effect only at the next boot' },
    sections: {
      type: 'array',
      items: {
        type: 'object',
        required: ['section', 'effect', 'changes'],
        properties: {
          section: { type: 'string' },
          effect: { type: 'string', enum: ['live', 'reboot'] },
          changes: { type: 'array', items: { type: 'string' } },
          reason: { type: 'string', description: 'Why it waits for the next boot' },
        },
      },
    },
    containers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'action', 'reasons'],
        properties: { name: { type: 'string' }, action: { type: 'string', enum: ['create', 'recreate', 'remove', 'keep'] }, reasons: { type: 'array', items: { type: 'string' } } },
      },
    },
    steps: { type: 'array', items: { type: 'object', required: ['kind'], properties: { kind: { type: 'string' } } } },
  },
};

const PENDING_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['deadline', 'timeout_ms'],
  properties: { deadline: { type: 'string', format: 'date-time' }, timeout_ms: { type: 'integer' } },
};

const REPORT_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['plan', 'warnings', 'applied', 'reboot_required', 'saved'],
  properties: {
    plan: PLAN_SCHEMA,
    warnings: { type: 'array', items: PROBLEM_SCHEMA },
    applied: {
      type: 'array',
      items: { type: 'object', required: ['step', 'ok', 'detail'], properties: { step: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' }, error: { type: 'string' } } },
    },
    reboot_required: { type: 'boolean' },
    saved: { type: 'boolean' },
    pending_try: PENDING_SCHEMA,
  },
};

const INVALID_DOC = { description: 'The config is invalid; error.problems lists every problem with its line' };
const PENDING_DOC = { description: 'A try is waiting for its confirmation (confirm it, or wait for it to revert)' };

function planned(control: ConfigControl, text: string): Extract<PlannedConfig, { valid: true }> {
  const result = planConfigText(control.current().config, text);
  if (!result.valid) {
    const lines = result.problems.map((p) => `${p.line > 0 ? `line ${p.line}: ` : ''}${p.path === '' ? '' : `${p.path}: `}${p.message}`);
    throw new ApiError(422, 'CONFIG_INVALID', `The config is invalid, nothing was changed: ${lines.join('; ')}`, { problems: result.problems });
  }
  return result;
}

/** Registers the config change endpoints (component `config`). */
export function registerConfigRoutes(router: Router, control: ConfigControl): void {
  router.register(
    'config',
    [
      {
        ...API_ROUTES.planConfig,
        summary: 'Show what applying a machine config would change, and what it costs',
        description:
          'Validates the text, then compares it with the config in force: per section whether it is applied live or at the next boot (and why), and which containers would be created, recreated, removed or left alone. Changes nothing.',
        body: YAML_BODY,
        responses: {
          200: {
            description: 'valid false with every problem, or valid true with the plan',
            schema: {
              type: 'object',
              required: ['valid', 'problems', 'warnings'],
              properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: PROBLEM_SCHEMA }, warnings: { type: 'array', items: PROBLEM_SCHEMA }, plan: PLAN_SCHEMA },
            },
          },
        },
        handler: (request) => {
          const result = planConfigText(control.current().config, request.body as string);
          const json = result.valid ? { valid: true, problems: [], warnings: result.warnings, plan: result.plan } : result;
          return Promise.resolve({ status: 200, json });
        },
      },
      {
        ...API_ROUTES.applyConfig,
        summary: 'Apply a machine config: live where possible, saved for the next boot',
        description:
          'Plans as /v1/config/plan, applies what can change live (host name, time zone, sysctls, new kernel modules, NTP, static DNS, containers), then saves the text crash-safely as the last good config on /var. Changes that need a reboot are listed and take effect at the next boot.',
        body: YAML_BODY,
        responses: { 200: { description: 'What was done and what waits for a reboot', schema: REPORT_SCHEMA }, 409: PENDING_DOC, 422: INVALID_DOC },
        handler: async (request) => {
          const text = request.body as string;
          const { config, plan, warnings } = planned(control, text);
          const report = await control.apply(text, config, plan, { kind: 'apply' });
          return { status: 200, json: { plan, warnings, ...report } };
        },
      },
      {
        ...API_ROUTES.tryConfig,
        summary: 'Apply a machine config for a while: reverted unless confirmed in time',
        description:
          'Applies like /v1/config/apply but keeps the saved last good config as it was: unless POST /v1/config/confirm arrives within the timeout, the previous config is applied again; a reboot before the confirmation boots the previous config too.',
        query: [
          {
            name: 'timeout',
            type: 'string',
            description: `How long to wait for the confirmation, a duration like "60s" or "5m" (default ${TRY_TIMEOUT_DEFAULT_MS / 1000}s, ${TRY_TIMEOUT_MIN_MS / 1000}s to ${TRY_TIMEOUT_MAX_MS / 60_000}m)`,
          },
        ],
        body: YAML_BODY,
        responses: { 200: { description: 'What was done, and when it reverts', schema: REPORT_SCHEMA }, 400: { description: 'Bad timeout' }, 409: PENDING_DOC, 422: INVALID_DOC },
        handler: async (request) => {
          const timeoutMs = parseTryTimeout(request.query.timeout);
          const text = request.body as string;
          const { config, plan, warnings } = planned(control, text);
          const report = await control.apply(text, config, plan, { kind: 'try', timeoutMs });
          return { status: 200, json: { plan, warnings, ...report } };
        },
      },
      {
        ...API_ROUTES.confirmConfig,
        summary: 'Keep the config of the pending try: it becomes the last good config',
        responses: {
          200: { description: 'Confirmed and saved', schema: { type: 'object', required: ['confirmed', 'saved'], properties: { confirmed: { type: 'boolean' }, saved: { type: 'boolean' } } } },
          409: { description: 'No try is pending (it was confirmed already, or reverted)' },
        },
        handler: async () => ({ status: 200, json: { confirmed: true, ...(await control.confirm()) } satisfies ConfirmAnswer }),
      },
      {
        ...API_ROUTES.getConfigTry,
        summary: 'The try waiting for its confirmation, if any',
        responses: { 200: { description: 'pending is null when no try waits', schema: { type: 'object', required: ['pending'], properties: { pending: { oneOf: [PENDING_SCHEMA, { type: 'null' }] } } } } },
        handler: () => Promise.resolve({ status: 200, json: { pending: control.pendingTry() ?? null } }),
      },
    ],
    'config',
  );
}

/** The ?timeout= of a try in ms (a duration text); ApiError 400 when it is not one or out of bounds. */
export function parseTryTimeout(value: unknown): number {
  if (value === undefined) return TRY_TIMEOUT_DEFAULT_MS;
  const result = validate(duration({ min: TRY_TIMEOUT_MIN_MS, max: TRY_TIMEOUT_MAX_MS }), value);
  if (!result.ok) {
    const problems = result.problems.map((p) => ({ path: 'query.timeout', line: 0, column: 0, message: p.message }));
    throw new ApiError(400, 'API_INVALID_QUERY', `Invalid query parameters: query.timeout: ${problems.map((p) => p.message).join('; ')}`, { problems });
  }
  return result.value;
}
