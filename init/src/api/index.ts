/**
 * The management API served by init: builds the router, registers the host endpoints (other
 * components register theirs through `router`), and listens on the Unix socket and the TCP
 * listeners of `api.listen`. A listener that cannot start is logged; the boot goes on.
 * Effects: those of server.ts, tls-material.ts, probe.ts and host-logs.ts.
 */
import { describeError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import type { MachineConfig } from '../../../lib/config/machine-config.ts';
import { listenHost, listenPort } from '../../../lib/config/sections/api.ts';
import { PATHS } from '../../../lib/layout.ts';
import { registerConfigRoutes, type ConfigControl } from './core/config-routes.ts';
import { registerContainerRoutes, type ContainerControl } from './core/container-routes.ts';
import { registerUpdateRoutes } from './core/update-routes.ts';
import { createUpdateControl, type UpdateControlOptions } from './update-control.ts';
import { registerHostRoutes, type HostLogs, type HostProbe, type HostView } from './core/host-routes.ts';
import { registerImageRoutes, type ImageControl } from './core/image-routes.ts';
import { Router } from './core/router.ts';
import { createFileLogs } from './host-logs.ts';
import { createChildProbe } from './probe-child.ts';
import { createRequestHandler, listenTls, listenUnix, type Listener } from './server.ts';
import { resolveTlsMaterial } from './tls-material.ts';

export interface ApiOptions {
  host: HostView;
  config: MachineConfig;
  logger: Logger;
  logFile: string;
  apiVersion: string;
  now: () => Date;
  socketPath?: string;
  probe?: HostProbe;
  logs?: HostLogs;
  /** The container engine's containers and images (main.ts passes the engine; absent: no such endpoints). */
  containers?: ContainerControl;
  images?: ImageControl;
  /** Config plan/apply/try/confirm (init passes its config applier; absent: no such endpoints). */
  configControl?: ConfigControl;
  /** The updater (main.ts passes init's UpdaterHost; absent: no update endpoints). */
  updater?: UpdateControlOptions['updater'];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The running API. */
export interface Api {
  router: Router;
  listeners: Listener[];
  close(): Promise<void>;
}

/** Starts the API; never throws for a listener that cannot start (it is logged). */
export async function startApi(options: ApiOptions): Promise<Api> {
  const { logger } = options;
  const router = new Router();
  registerHostRoutes(router, {
    host: options.host,
    probe: options.probe ?? createChildProbe(),
    logs: options.logs ?? createFileLogs(options.logFile),
    now: options.now,
    apiVersion: options.apiVersion,
  });
  if (options.containers) registerContainerRoutes(router, options.containers);
  if (options.images) registerImageRoutes(router, options.images);
  if (options.configControl) registerConfigRoutes(router, options.configControl);
  if (options.updater) {
    const booted = (): { slot: string; version: string } | undefined => options.host.identity();
    registerUpdateRoutes(router, createUpdateControl({ updater: options.updater, booted, strategy: options.config.update?.strategy, logger }), sleepUnlessAborted);
  }
  const listeners: Listener[] = [];
  try {
    listeners.push(await listenUnix(options.socketPath ?? PATHS.apiSocket, createRequestHandler(router, logger, 'unix')));
  } catch (error) {
    logger.error('API socket not started', { path: options.socketPath ?? PATHS.apiSocket, error: describeError(error) });
  }
  const { api } = options.config;
  if (api.listen.length > 0) {
    try {
      const tls = await resolveTlsMaterial(api, options.config.hostname, options.now());
      logger.info('API server certificate', { origin: tls.serverCert, sha256: tls.fingerprint });
      const handler = createRequestHandler(router, logger, 'tls');
      for (const listen of api.listen) {
        try {
          listeners.push(await listenTls(listenHost(listen), listenPort(listen), tls, handler, logger));
        } catch (error) {
          logger.error('API listener not started', { listen, error: describeError(error) });
        }
      }
    } catch (error) {
      logger.error('API TLS listeners not started', { error: describeError(error) });
    }
  }
  for (const listener of listeners) logger.info('API listening', { address: listener.address });
  return {
    router,
    listeners,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}
