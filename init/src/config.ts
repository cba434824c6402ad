/**
 * The machine config for this boot: reads the kernel command line, looks for the sources in
 * the order core/config-source.ts gives (a URL, fetched once the default network is up; QEMU's
 * fw_cfg item; a config drive, mounted read-only and unmounted again), reads the last good copy
 * on /var, lets core/config-source.ts choose, prints rejected texts' problems on the console,
 * saves a new valid config crash-safely, and applies the hostname. Effects: files, mount/umount,
 * blkid and modprobe, HTTP GETs to the URL on the command line.
 */
import { describeError, isBerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import {
  CONFIG_DRIVE_MOUNT,
  CONFIG_DRIVE_SEARCH_MODULES,
  berthConfigFromUserData,
  blkidListArgv,
  configDriveFile,
  configDriveModules,
  configDriveMount,
  configDriveSource,
  findConfigDrives,
  parseBlkidExport,
  unusableConfigDrives,
  type ConfigDrive,
} from './core/config-drive.ts';
import {
  FW_CFG_SOURCE,
  chooseMachineConfig,
  configSourceOrder,
  parseConfigCmdline,
  urlForLog,
  type ConfigChoice,
  type SourceReading,
} from './core/config-source.ts';
import { backoffDelayMs, isRetryableStatus } from '../../lib/retry.ts';
import { URL_FETCH_LIMITS, fetchTimeoutError, httpStatusError, isDeclaredTooBig, FETCH_RETRY, tooBigError, type UrlFetchLimits } from './core/config-url.ts';
import { loadMachineConfig } from '../../lib/config/machine-config.ts';
import type { MachineConfig } from './core/machine-config.ts';
import { KERNEL_PATHS, TOOLS } from './core/tools.ts';
import { loadKernelModules } from './kernel-modules.ts';
import { mountOne, unmountWithFallback } from './mounts.ts';
import type { FileSystem, Sys } from './sys/types.ts';

export interface BootConfigOptions {
  sys: Pick<Sys, 'fs' | 'exec' | 'clock'>;
  logger: Logger;
  /**
   * Brings up the default network (DHCP on every wired interface) before a URL is fetched.
   * init keeps that network for its 'network' stage, so only one dhcpcd ever runs.
   */
  startEarlyNetwork: () => Promise<void>;
  /** Global fetch unless a test passes its own. */
  fetch?: typeof fetch;
  limits?: UrlFetchLimits;
}

async function readIfPresent(fs: FileSystem, path: string, logger: Logger): Promise<string | undefined> {
  if (!(await fs.exists(path))) return undefined;
  try {
    return await fs.readText(path);
  } catch (error) {
    logger.error('Cannot read machine config', { path, error: describeError(error) });
    return undefined;
  }
}

/**
 * Digest of the source text the machine last took over (core/config-source.ts provisionedDigest):
 * the same text handed over again does not undo config changes applied since through the API.
 */
export const PROVISIONED_RECORD = PATHS.provisionedRecord;

async function recordProvisioned(fs: FileSystem, logger: Logger, digest: string): Promise<void> {
  try {
    await fs.writeAtomic(PROVISIONED_RECORD, `${digest}\n`);
  } catch (error) {
    // Harmless: the next boot takes the same text over again.
    logger.warn('Cannot record the provisioned config', { path: PROVISIONED_RECORD, error: describeError(error) });
  }
}

/** Stores `text` as the last good copy on /var, crash-safely; never throws (the API's config apply reuses it). */
export async function saveLastGoodConfig(fs: FileSystem, logger: Logger, text: string): Promise<boolean> {
  try {
    await fs.makeDir(PATHS.stateDir, 0o755);
    await fs.writeAtomic(PATHS.configOnVar, text);
    logger.info('Machine config saved as last good copy', { path: PATHS.configOnVar });
    return true;
  } catch (error) {
    logger.error('Cannot save machine config', { path: PATHS.configOnVar, error: describeError(error) });
    return false;
  }
}

/** Chooses this boot's machine config (see core/config-source.ts for the order and semantics); never throws. */
export async function loadBootConfig(options: BootConfigOptions): Promise<ConfigChoice> {
  const { sys, logger } = options;
  let cmdline = '';
  try {
    cmdline = await sys.fs.readText(KERNEL_PATHS.cmdline);
  } catch (error) {
    logger.warn('Cannot read the kernel command line', { error: describeError(error) });
  }
  const setting = parseConfigCmdline(cmdline);
  let chosen: SourceReading | undefined;
  for (const kind of configSourceOrder(setting)) {
    if (kind === 'url' && setting.kind === 'url') {
      await options.startEarlyNetwork();
      chosen = await fetchConfigUrl(options, setting.url);
    } else if (kind === 'fw_cfg') {
      chosen = await readFwCfg(sys.fs);
    } else if (kind === 'config-drive') {
      chosen = await readConfigDrive(sys, logger);
    }
    if (chosen) break;
  }
  const saved = await readIfPresent(sys.fs, PATHS.configOnVar, logger);
  const lastProvisioned = (await readIfPresent(sys.fs, PROVISIONED_RECORD, logger))?.trim();
  const choice = chooseMachineConfig(
    {
      cmdline: setting,
      ...(chosen === undefined ? {} : { chosen }),
      ...(saved === undefined ? {} : { saved }),
      savedSource: PATHS.configOnVar,
      ...(lastProvisioned ? { lastProvisioned } : {}),
    },
    loadMachineConfig,
  );
  for (const rejected of choice.rejected) {
    logger.error('Machine config source refused', { origin: rejected.origin, source: rejected.source, problems: rejected.problems.length });
    for (const problem of rejected.problems) logger.error('Config problem', { problem });
  }
  if (choice.rejected.length > 0 && choice.origin === 'saved') logger.warn('Keeping the last good machine config', { source: choice.source });
  for (const warning of choice.warnings) logger.warn('Config warning', { problem: warning });
  if (choice.sourceUnchanged) {
    logger.info('Config source unchanged since taken over, keeping the last good config', { origin: choice.sourceUnchanged.origin, source: choice.sourceUnchanged.source });
  }
  const lastGoodSaved = choice.save === undefined || (await saveLastGoodConfig(sys.fs, logger, choice.save));
  // Recorded only once the text is the last good copy: a crash in between takes the source over again.
  if (lastGoodSaved && choice.provisioned !== undefined && choice.provisioned !== lastProvisioned) await recordProvisioned(sys.fs, logger, choice.provisioned);
  logger.info('Machine config loaded', { origin: choice.origin, source: choice.source });
  return choice;
}

async function readFwCfg(fs: FileSystem): Promise<SourceReading | undefined> {
  if (!(await fs.exists(PATHS.fwCfgConfig))) return undefined;
  try {
    return { origin: 'fw_cfg', source: FW_CFG_SOURCE, text: await fs.readText(PATHS.fwCfgConfig) };
  } catch (error) {
    return { origin: 'fw_cfg', source: FW_CFG_SOURCE, error };
  }
}

/** A try that may succeed later (network not up yet, server starting): the loop tries again. */
class RetryableFetchError extends Error {}

async function fetchOnce(doFetch: typeof fetch, url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    let response: Response;
    try {
      response = await doFetch(url, { signal: controller.signal, redirect: 'follow', headers: { accept: 'application/yaml, text/yaml, text/plain, */*' } });
    } catch (error) {
      throw new RetryableFetchError(controller.signal.aborted ? describeError(controller.signal.reason) : describeError(error), { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const error = httpStatusError(url, response.status, response.statusText);
      if (isRetryableStatus(response.status)) throw new RetryableFetchError(error.message, { cause: error });
      throw error;
    }
    if (isDeclaredTooBig(response.headers.get('content-length'), maxBytes)) {
      await response.body?.cancel().catch(() => undefined);
      throw tooBigError(url, Number(response.headers.get('content-length')), maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const body = response.body as ReadableStream<Uint8Array> | null;
    if (body) {
      try {
        for await (const chunk of body) {
          bytes += chunk.byteLength;
          if (bytes > maxBytes) {
            controller.abort();
            throw tooBigError(url, bytes, maxBytes);
          }
          chunks.push(chunk);
        }
      } catch (error) {
        if (isBerthError(error)) throw error;
        throw new RetryableFetchError(controller.signal.aborted ? describeError(controller.signal.reason) : describeError(error), { cause: error });
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    clearTimeout(timer);
  }
}

/** GETs the URL with retries within the total time limit; a final failure is returned as the reading's error. */
async function fetchConfigUrl(options: BootConfigOptions, url: string): Promise<SourceReading> {
  const { sys, logger } = options;
  const limits = options.limits ?? URL_FETCH_LIMITS;
  const doFetch = options.fetch ?? fetch;
  const source = urlForLog(url);
  const start = sys.clock.monotonicMs();
  const deadline = start + limits.totalTimeoutMs;
  let attempts = 0;
  logger.info('Fetching machine config', { url: source });
  for (;;) {
    attempts += 1;
    const remaining = Math.max(1, deadline - sys.clock.monotonicMs());
    try {
      const text = await fetchOnce(doFetch, url, Math.min(limits.attemptTimeoutMs, remaining), limits.maxBytes);
      logger.info('Machine config fetched', { url: source, bytes: Buffer.byteLength(text), attempts, ms: Math.round(sys.clock.monotonicMs() - start) });
      return { origin: 'url', source, text };
    } catch (error) {
      if (!(error instanceof RetryableFetchError)) return { origin: 'url', source, error };
      const delay = backoffDelayMs(FETCH_RETRY, attempts - 1);
      if (sys.clock.monotonicMs() + delay >= deadline) {
        return { origin: 'url', source, error: fetchTimeoutError(url, limits.totalTimeoutMs, attempts, error.message) };
      }
      logger.warn('Machine config not fetched yet, retrying', { url: source, attempt: attempts, error: error.message, retry_in_ms: delay });
      await sys.clock.sleep(delay);
    }
  }
}

/** Lists block devices with blkid and returns the first config drive; warns about others. */
async function findConfigDrive(sys: Pick<Sys, 'exec'>, logger: Logger): Promise<ConfigDrive | undefined> {
  await loadKernelModules(sys, logger, CONFIG_DRIVE_SEARCH_MODULES);
  let stdout: string;
  try {
    // Exit 2: no device has a filesystem blkid knows.
    ({ stdout } = await sys.exec.run(TOOLS.blkid, blkidListArgv(), { okExitCodes: [0, 2], timeoutMs: 30_000 }));
  } catch (error) {
    logger.warn('Cannot look for a config drive', { error: describeError(error) });
    return undefined;
  }
  const devices = parseBlkidExport(stdout);
  for (const other of unusableConfigDrives(devices)) {
    logger.warn('Config drive label on an unsupported filesystem, ignored', { device: other.device, fs: other.type, expected: 'vfat,iso9660' });
  }
  const [drive, ...others] = findConfigDrives(devices);
  if (drive && others.length > 0) logger.warn('More than one config drive, using the first', { used: drive.device, ignored: others.map((d) => d.device).join(',') });
  return drive;
}

/** Mounts the drive read-only, reads berth.yaml or a berth user-data, and unmounts it again. */
async function readConfigDrive(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger): Promise<SourceReading | undefined> {
  const drive = await findConfigDrive(sys, logger);
  if (!drive) return undefined;
  logger.info('Config drive found', { device: drive.device, fs: drive.fsType, label: drive.label });
  const failed = (error: unknown): SourceReading => ({ origin: 'config-drive', source: drive.device, error });
  await loadKernelModules(sys, logger, configDriveModules(drive.fsType));
  try {
    await mountOne(sys, logger, configDriveMount(drive));
  } catch (error) {
    return failed(error);
  }
  try {
    const picked = configDriveFile(await sys.fs.readDir(CONFIG_DRIVE_MOUNT));
    if (!picked) {
      return failed(new Error(`Config drive ${drive.device} (${drive.label}) holds neither berth.yaml nor user-data in its root: add berth.yaml with the machine config`));
    }
    const source = configDriveSource(drive, picked.file);
    const path = `${CONFIG_DRIVE_MOUNT}/${picked.file}`;
    const size = await sys.fs.size(path);
    if (size !== undefined && size > URL_FETCH_LIMITS.maxBytes) {
      return { origin: 'config-drive', source, error: new Error(`${source} has ${size} bytes, more than a machine config's ${URL_FETCH_LIMITS.maxBytes}: is it the right file?`) };
    }
    try {
      const text = await sys.fs.readText(path);
      return { origin: 'config-drive', source, text: picked.isUserData ? berthConfigFromUserData(text, source) : text };
    } catch (error) {
      return { origin: 'config-drive', source, error };
    }
  } catch (error) {
    return failed(error);
  } finally {
    // Lazy when busy: nothing may keep the drive mounted past the config stage.
    await unmountWithFallback(sys, logger, CONFIG_DRIVE_MOUNT, 'lazy');
  }
}

export async function applyHostname(fs: FileSystem, logger: Logger, config: MachineConfig): Promise<void> {
  const hostname = config.hostname;
  await fs.writeText(KERNEL_PATHS.hostname, hostname);
  logger.info('Hostname set', { hostname });
}
