/**
 * The update agent's loop: feeds events to the pure reducer (core/state.ts), journals
 * every new state before running its effects, runs the effects through an injected
 * `UpdateEffects` bundle, and feeds the events they produce back in. After a crash or
 * a reboot, `start()` reloads the journal and replays the phase's effects, which are
 * idempotent by design. Effects: the journal file and whatever `UpdateEffects` does.
 */
import { BerthError, describeError, isBerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Slot } from '../../lib/layout.ts';
import type { BootIdentity } from './core/slots.ts';
import { initialUpdateState, reduceUpdate, type UpdateEffect, type UpdateEvent, type UpdateState } from './core/state.ts';

/** What each effect does on a real machine (or in a test). */
export interface UpdateEffects {
  /** Reads the channel; returns check-no-update, check-found-update or error. */
  fetchChannel(signal: AbortSignal): Promise<UpdateEvent>;
  /** Downloads (resuming) and verifies the bundle; returns download-finished or error. */
  downloadBundle(version: string, bundleUrl: string, signal: AbortSignal): Promise<UpdateEvent>;
  /** Verifies the bundle on /var and runs the stage plan; returns stage-finished or error. */
  verifyAndStage(version: string, slot: Slot, signal: AbortSignal): Promise<UpdateEvent>;
  clearSlotEntry(slot: Slot): Promise<void>;
  discardDownload(): Promise<void>;
  /** Resolves with reboot-allowed once the strategy allows it (window, FleetLock, operator). */
  awaitRebootPermission(signal: AbortSignal): Promise<UpdateEvent>;
  /** Reboots; on a real machine this does not return. */
  reboot(): Promise<void>;
  /** Runs the health gate; returns health-passed or health-failed. */
  runHealthGate(slot: Slot, version: string, signal: AbortSignal): Promise<UpdateEvent>;
  blessSlot(slot: Slot): Promise<void>;
  markSlotBad(slot: Slot): Promise<void>;
  releaseRebootLock(signal: AbortSignal): Promise<void>;
  /** Waits for the next check (interval with jitter, or backoff); returns check-requested. */
  waitForCheck(after: 'interval' | 'retry', attempt: number, signal: AbortSignal): Promise<UpdateEvent>;
}

export interface JournalStore {
  read(): Promise<UpdateState | undefined>;
  write(state: UpdateState): Promise<void>;
}

export interface AgentOptions {
  effects: UpdateEffects;
  journal: JournalStore;
  logger: Logger;
  /** The running boot: slot and version from the kernel command line, boot id from the kernel. */
  booted: BootIdentity;
  /** Pause before replaying a phase whose effect failed unexpectedly (default 60 s). */
  replayDelayMs?: number;
  /** Told of every new state once it is journaled (the fleet reporter reports it). */
  onState?: (state: UpdateState) => void;
}

export interface UpdateAgent {
  /** Loads the journal and runs until stop(). */
  run(): Promise<void>;
  stop(): void;
  /** The current state (for status and the management API). */
  state(): UpdateState;
  /** Injects an event (an operator's "check now" or "reboot now"); rejected if illegal. */
  send(event: UpdateEvent): void;
}

const FAILABLE_PHASES = new Set(['checking', 'downloading', 'verifying']);

export function createUpdateAgent(options: AgentOptions): UpdateAgent {
  const { effects, journal, logger } = options;
  const controller = new AbortController();
  let state = initialUpdateState();
  const inbox: UpdateEvent[] = [];
  let wake: (() => void) | undefined;
  let phaseController = new AbortController();

  const push = (event: UpdateEvent): void => {
    inbox.push(event);
    wake?.();
  };

  /** Runs one effect; its resulting event (if any) goes to the inbox. */
  const perform = async (effect: UpdateEffect, signal: AbortSignal): Promise<UpdateEvent | undefined> => {
    switch (effect.type) {
      case 'fetch-channel':
        return effects.fetchChannel(signal);
      case 'download-bundle':
        return effects.downloadBundle(effect.version, effect.bundleUrl, signal);
      case 'verify-and-stage':
        return effects.verifyAndStage(effect.version, effect.slot, signal);
      case 'clear-slot-entry':
        return effects.clearSlotEntry(effect.slot).then(() => undefined);
      case 'discard-download':
        return effects.discardDownload().then(() => undefined);
      case 'await-reboot-permission':
        return effects.awaitRebootPermission(signal);
      case 'reboot':
        return effects.reboot().then(() => undefined);
      case 'start-health-gate':
        return effects.runHealthGate(effect.slot, effect.version, signal);
      case 'bless-slot':
        return effects.blessSlot(effect.slot).then(() => undefined);
      case 'mark-slot-bad':
        return effects.markSlotBad(effect.slot).then(() => undefined);
      case 'release-reboot-lock':
        return effects.releaseRebootLock(signal).then(() => undefined);
      case 'schedule-check':
        return effects.waitForCheck(effect.after, effect.attempt, signal);
    }
  };

  const runEffects = async (effectList: readonly UpdateEffect[], signal: AbortSignal): Promise<void> => {
    for (const effect of effectList) {
      if (signal.aborted) return;
      let event: UpdateEvent | undefined;
      try {
        event = await perform(effect, signal);
      } catch (error) {
        if (signal.aborted) return;
        logger.error('Update step failed', { phase: state.current.phase, effect: effect.type, error: describeError(error) });
        if (FAILABLE_PHASES.has(state.current.phase)) {
          push({ type: 'error', code: isBerthError(error) ? error.code : 'UPDATER_INTERNAL', message: describeError(error) });
        } else {
          // Phases past staging cannot fail: wait, then replay the phase's effects.
          await new Promise((resolve) => setTimeout(resolve, options.replayDelayMs ?? 60_000));
          if (!signal.aborted) push({ type: 'agent-started', booted: options.booted });
        }
        return;
      }
      if (event && !signal.aborted) push(event);
    }
  };

  const apply = async (event: UpdateEvent): Promise<void> => {
    let transition;
    try {
      transition = reduceUpdate(state, event);
    } catch (error) {
      // An event that arrived too late for its phase (e.g. an operator command): log, keep going.
      logger.warn('Update event ignored', { phase: state.current.phase, event: event.type, error: describeError(error) });
      return;
    }
    const before = state.current.phase;
    // Journal first: after a power cut the agent replays this phase, never an older one.
    await journal.write(transition.state);
    state = transition.state;
    options.onState?.(state);
    if (before !== state.current.phase || event.type === 'agent-started') {
      logger.info('Update phase', {
        from: before,
        to: state.current.phase,
        event: event.type,
        version: 'target' in state.current ? state.current.target.version : undefined,
        // Why nothing happens, or what went wrong: the status a fleet operator greps for.
        ...(event.type === 'check-no-update' ? { reason: event.reason } : {}),
        ...(event.type === 'error' ? { code: event.code, error: event.message } : {}),
        ...(event.type === 'health-failed' ? { reason: event.reason } : {}),
      });
    }
    phaseController.abort();
    phaseController = new AbortController();
    const signal = AbortSignal.any([controller.signal, phaseController.signal]);
    void runEffects(transition.effects, signal);
  };

  return {
    async run(): Promise<void> {
      let loaded: UpdateState | undefined;
      try {
        loaded = await journal.read();
      } catch (error) {
        // A damaged journal must not stop updates forever; bad versions are lost with it.
        logger.error('Update journal unusable, starting fresh', { error: describeError(error) });
      }
      state = loaded ?? initialUpdateState();
      push({ type: 'agent-started', booted: options.booted });
      while (!controller.signal.aborted) {
        const event = inbox.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            controller.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          wake = undefined;
          continue;
        }
        try {
          await apply(event);
        } catch (error) {
          const code = isBerthError(error) ? error.code : 'UPDATER_INTERNAL';
          logger.error('Update journal write failed', { code, error: describeError(error) });
          // Without a journal the agent cannot move on safely: retry the same event later.
          await new Promise((resolve) => setTimeout(resolve, options.replayDelayMs ?? 60_000));
          inbox.unshift(event);
        }
      }
      phaseController.abort();
    },
    stop(): void {
      controller.abort();
    },
    state: () => state,
    send(event: UpdateEvent): void {
      if (event.type === 'agent-started') throw new BerthError('UPDATER_ILLEGAL_TRANSITION', 'agent-started is sent by the agent itself');
      push(event);
    },
  };
}
