/**
 * Runs a `berth ctl` command against an ApiClient and prints the answer: tables for people,
 * the API's JSON with --json. Returns the exit code (0 ok, 1 failed, 3 cannot connect); usage
 * errors (2) are found earlier by args.ts. Effects: only through the client and the CtlIo given.
 */
import { dump } from 'js-yaml';
import { API_ROUTES, routeRequest, type ConfigBody, type ConfigValidation, type ErrorBody } from '../../../lib/api/index.ts';
import { BerthError, codeFromWire, describeError } from '../../../lib/errors.ts';
import { parseLogLine } from '../../../lib/log.ts';
import type { CtlCommand } from './args.ts';
import { ConnectError, type ApiAnswer, type ApiClient } from './client.ts';
import { CONTAINER_EXIT, createLineSplitter, isContainerAction, runContainerAction, type CtlRequests } from './containers.ts';
import { isConfigUpdateAction, runConfigUpdateAction } from './config-update.ts';
import { formatStatus, formatValidation, type StatusView } from './format.ts';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cannotConnect: 3 } as const;

/** Where `berth ctl` writes and what it reads. */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): Promise<string>;
  /** Whether stdout is a terminal (progress bars redraw in place). */
  isTty?: boolean;
  /** The clock for ages in tables; the real one by default. */
  now?: () => Date;
}

/** The API's error body, read leniently: a proxy's answer may have none of it. */
interface ErrorBodyView {
  error?: Partial<ErrorBody['error']>;
}

function parseJson(answer: ApiAnswer): unknown {
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw new BerthError('CTL_BAD_ANSWER', `The host answered ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`);
  }
}

/** Turns a non-2xx answer into a BerthError carrying the API's code and message. */
function failure(answer: ApiAnswer): BerthError {
  let body: ErrorBodyView = {};
  try {
    body = JSON.parse(answer.body) as ErrorBodyView;
  } catch {
    // Not the API's error body (a proxy?); the status is all there is.
  }
  const code = body.error?.code === undefined ? (`HTTP_${answer.status}` as const) : codeFromWire(body.error.code);
  const problems = (body.error?.problems ?? []).map((p) => `\n  ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('');
  return new BerthError(code, `${body.error?.message ?? `The host answered HTTP ${answer.status}`}${problems}`);
}

async function json(client: ApiClient, method: string, path: string, expect: number, body?: { text: string; contentType: string }): Promise<unknown> {
  const answer = await client.request(method, path, body === undefined ? {} : { body: body.text, contentType: body.contentType });
  if (answer.status !== expect) throw failure(answer);
  return parseJson(answer);
}

function print(io: CtlIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Converts logfmt lines to NDJSON, holding back a partial last line between chunks. */
export function createLogPrinter(write: (text: string) => void, asJson: boolean): { chunk(text: string): void; end(): void } {
  let rest = '';
  const line = (text: string): void => {
    write(asJson ? `${JSON.stringify(parseLogLine(text))}\n` : `${text}\n`);
  };
  return {
    chunk(text) {
      const parts = (rest + text).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) line(part);
    },
    end() {
      if (rest !== '') line(rest);
      rest = '';
    },
  };
}

/** How long container and image requests may take to answer (exec's longest timeout, and some). */
const SLOW_ANSWER_MS = 61 * 60 * 1000;

/** The JSON and streaming requests the container and image commands make (containers.ts). */
function ctlRequests(client: ApiClient): CtlRequests {
  return {
    async json(method, path, expect, body) {
      // exec, stop, restart, rmi and prune answer when done: a container's grace period, a long command.
      const answer = await client.request(method, path, { answerTimeoutMs: SLOW_ANSWER_MS, ...(body === undefined ? {} : { body: body.text, contentType: body.contentType }) });
      if (answer.status !== expect) throw failure(answer);
      return parseJson(answer);
    },
    async lines(method, path, onLine, body) {
      const splitter = createLineSplitter(onLine);
      const answer = await client.request(method, path, { onChunk: (text) => splitter.chunk(text), ...(body === undefined ? {} : { body: body.text, contentType: body.contentType }) });
      if (answer.status !== 200) throw failure(answer);
      splitter.end();
    },
  };
}

/** The exit code of a failed command: cannot connect, no such object, refused for its state, or failed. */
function failureExit(command: CtlCommand, error: unknown): number {
  if (command.action.op === 'exec') return CONTAINER_EXIT.execFailed;
  if (error instanceof ConnectError) return EXIT.cannotConnect;
  if (error instanceof BerthError && /_NOT_FOUND$/.test(error.code) && error.code !== 'API_NOT_FOUND') return CONTAINER_EXIT.notFound;
  if (error instanceof BerthError && ['RUNTIME_CONTAINER_NOT_RUNNING', 'RUNTIME_IMAGE_IN_USE'].includes(error.code)) return CONTAINER_EXIT.conflict;
  return EXIT.failed;
}

/** Runs the command; never throws. */
export async function runCtl(command: CtlCommand, client: ApiClient, io: CtlIo): Promise<number> {
  try {
    const { action } = command;
    if (isContainerAction(action)) return await runContainerAction(action, command.json, ctlRequests(client), io);
    if (isConfigUpdateAction(action)) return await runConfigUpdateAction(action, command.json, ctlRequests(client), io);
    switch (action.op) {
      case 'status': {
        const status = await json(client, ...routeRequest(API_ROUTES.getStatus), 200);
        if (command.json) print(io, status);
        else io.out(formatStatus(status as StatusView));
        return EXIT.ok;
      }
      case 'logs': {
        const printer = createLogPrinter((text) => io.out(text), command.json);
        const query = { tail: action.tail, follow: action.follow ? '1' : undefined };
        const answer = await client.request(...routeRequest(API_ROUTES.getLogs, {}, query), { onChunk: (text) => printer.chunk(text) });
        if (answer.status !== 200) throw failure(answer);
        printer.end();
        return EXIT.ok;
      }
      case 'config-get': {
        const answer = (await json(client, ...routeRequest(API_ROUTES.getConfig), 200)) as ConfigBody;
        if (command.json) print(io, answer);
        else io.out(`# machine config in force (origin ${answer.origin}, source ${answer.source})\n${dump(answer.config, { lineWidth: 120 })}`);
        return EXIT.ok;
      }
      case 'config-validate': {
        let text: string;
        try {
          text = await io.readFile(action.file);
        } catch (error) {
          throw new BerthError('CTL_FILE', `Cannot read ${action.file}: ${(error as Error).message}`);
        }
        const result = (await json(client, ...routeRequest(API_ROUTES.validateConfig), 200, { text, contentType: 'application/yaml' })) as ConfigValidation;
        if (command.json) print(io, result);
        else if (result.valid) io.out(formatValidation(action.file, result));
        else io.err(formatValidation(action.file, result));
        return result.valid ? EXIT.ok : EXIT.failed;
      }
      case 'reboot':
      case 'poweroff': {
        const result = await json(client, ...routeRequest(action.op === 'reboot' ? API_ROUTES.powerReboot : API_ROUTES.powerOff), 202);
        if (command.json) print(io, result);
        else io.out(`${action.op === 'reboot' ? 'Rebooting' : 'Powering off'} the host at ${client.address}\n`);
        return EXIT.ok;
      }
    }
  } catch (error) {
    if (command.json && error instanceof BerthError) {
      io.err(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    } else {
      io.err(`berth ctl: ${error instanceof BerthError ? `${error.message} [${error.code}]` : describeError(error)}\n`);
    }
    return failureExit(command, error);
  }
}
