/** The wire types of the config change endpoints: POST /v1/config/plan, /apply, /try, /confirm. */
import type { ApiProblem } from './problems.ts';

/** How a section's change takes effect. */
export type ChangeEffect = 'live' | 'reboot';

/** One top-level section that differs, and how its change takes effect. */
export interface SectionChange {
  section: string;
  effect: ChangeEffect;
  /** One line per change, for people (`web-1 -> web-2`, `+ net.ipv4.ip_forward=1`). */
  changes: string[];
  /** Why it needs a reboot (effect reboot only). */
  reason?: string;
}

export type ContainerChangeAction = 'create' | 'recreate' | 'remove' | 'keep';

/** What happens to one container. */
export interface ContainerChange {
  name: string;
  action: ContainerChangeAction;
  /** For recreate: the fields that changed, or the container whose network it shares. */
  reasons: string[];
}

/** The plan as the API sends it (the server's plan also lists its live steps). */
export interface ConfigPlanView {
  /** False when the new config is the one in force (apart from ignored `x-` keys). */
  changed: boolean;
  /** Whether some change takes effect only at the next boot. */
  reboot_required: boolean;
  sections: SectionChange[];
  /** Every container of either config, in the new config's order, then the removed ones. */
  containers: ContainerChange[];
}

/** What one live step did. */
export interface StepOutcome {
  step: string;
  ok: boolean;
  /** What was done, for people (`hostname web-2`). */
  detail: string;
  error?: string;
}

/** A try waiting for its confirmation. */
export interface PendingTry {
  /** When it reverts unless confirmed (ISO 8601). */
  deadline: string;
  timeout_ms: number;
}

/** The answer of POST /v1/config/plan. */
export interface PlanAnswer<Plan extends ConfigPlanView = ConfigPlanView> {
  valid: boolean;
  problems: ApiProblem[];
  warnings: ApiProblem[];
  plan?: Plan;
}

/** The answer of apply and try. */
export interface ApplyReport<Plan extends ConfigPlanView = ConfigPlanView> {
  plan: Plan;
  warnings: ApiProblem[];
  /** The live steps run, in order. */
  applied: StepOutcome[];
  /** Whether some change waits for the next boot. */
  reboot_required: boolean;
  /** Where the config is kept for the next boot, once it is the last good one (apply, or try confirmed). */
  saved: boolean;
  /** For try: when it reverts unless confirmed. */
  pending_try?: PendingTry;
}

/** The answer of POST /v1/config/confirm. */
export interface ConfirmAnswer {
  confirmed: boolean;
  saved: boolean;
}
