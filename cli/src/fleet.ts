/**
 * `berth fleet …` and `berth keys fleet …`: runs a coordinator replica, shows the fleet view
 * (tables or --json) and its admin actions through the coordinator's front door, and makes the
 * fleet's certificates. Effects: reads the given PEM files, writes new key files (0600), network.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { certificateFingerprint, issueCertificate } from '../../lib/tls/x509.ts';
import {
  DEFAULT_HALT_POLICY,
  ROLE_PREFIX,
  createFleetAdminClient,
  formatGroups,
  formatHosts,
  formatLocks,
  formatStatus,
  startCoordinator,
  summarize,
  type RunningCoordinator,
} from '../../fleet/src/index.ts';
import type { FleetAdminCommand, FleetKeysCommand, FleetServeCommand } from './fleet-args.ts';

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new BerthError('CLI_USAGE', `Cannot read ${what} ${file}`, { cause: error });
  }
}

/** Starts a coordinator replica from `berth fleet serve` flags. */
export async function serveFleet(c: FleetServeCommand, log: Logger): Promise<RunningCoordinator> {
  const tls = c.insecureHttp
    ? undefined
    : { certPem: await readPem(c.cert as string, '--cert'), keyPem: await readPem(c.key as string, '--key'), caPem: await readPem(c.ca as string, '--ca') };
  const s = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1000));
  const opt = <K extends string, V>(key: K, v: V | undefined) => (v === undefined ? {} : ({ [key]: v } as Record<K, V>));
  return startCoordinator({
    host: c.host,
    port: c.port,
    etcdEndpoints: c.etcd,
    log,
    ...(tls ? { tls } : {}),
    ...opt('prefix', c.prefix),
    ...opt('defaultSlots', c.defaultSlots),
    ...opt('holderTimeoutMs', s(c.holderTimeoutS)),
    ...opt('reportTtlMs', s(c.reportTtlS)),
    ...opt('sweepIntervalMs', s(c.sweepIntervalS)),
    haltPolicy: { maxFailures: c.maxFailures ?? DEFAULT_HALT_POLICY.maxFailures, maxFailureRatio: c.maxFailureRatio ?? DEFAULT_HALT_POLICY.maxFailureRatio, minTakers: c.minTakers ?? DEFAULT_HALT_POLICY.minTakers },
    allowAnonymousHosts: c.allowAnonymousHosts,
  });
}

/** Runs an admin command; returns the text to print. */
export async function runFleetAdmin(c: FleetAdminCommand): Promise<string> {
  const client = createFleetAdminClient({
    url: c.target.server,
    ...(c.target.cert !== undefined ? { certPem: await readPem(c.target.cert, '--cert') } : {}),
    ...(c.target.key !== undefined ? { keyPem: await readPem(c.target.key, '--key') } : {}),
    ...(c.target.ca !== undefined ? { caPem: await readPem(c.target.ca, '--ca') } : {}),
  });
  const out = (value: unknown, text: string) => (c.json ? JSON.stringify(value, null, 2) : text);
  const silentMs = c.silentAfterS * 1000;
  switch (c.action) {
    case 'status': {
      const view = summarize(await client.snapshot(), silentMs);
      return out(view, formatStatus(view));
    }
    case 'hosts': {
      const snap = await client.snapshot();
      return out(snap.hosts, formatHosts(snap, silentMs));
    }
    case 'locks': {
      const snap = await client.snapshot();
      return out(snap.groups.map(({ group, slots, holders }) => ({ group, slots, holders })), formatLocks(snap));
    }
    case 'groups': {
      const snap = await client.snapshot();
      return out(snap.groups.map(({ group, slots, configured, holders }) => ({ group, slots, configured, held: holders.length })), formatGroups(snap));
    }
    case 'unlock': {
      const r = await client.unlock(c.id, c.group);
      return out(r, r.released.length === 0 ? `${c.id} held no slot` : `Released ${c.id}'s slot in ${r.released.join(', ')}`);
    }
    case 'halt':
      return out(await client.halt(c.version, c.reason), `Halted ${c.version}: no more reboot slots for hosts moving to it`);
    case 'resume':
      return out(await client.resume(c.version), `Resumed ${c.version}; only failures from now on count toward a new halt`);
    case 'set-group':
      return out(await client.setGroup(c.group, c.slots), `Group ${c.group}: ${c.slots} slot${c.slots === 1 ? '' : 's'}`);
  }
}

async function writeNew(file: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(file, data, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError('KEYS_EXISTS', `${file} exists; refusing to overwrite it (pick another --out)`);
    throw error;
  }
}

/** `berth keys fleet …`: writes fleet-ca / host-ID / admin-NAME / fleet-server .crt and .key; returns lines to print. */
export async function runFleetKeys(c: FleetKeysCommand, now: Date): Promise<string[]> {
  const base = c.role === 'ca' ? 'fleet-ca' : c.role === 'server' ? 'fleet-server' : `${c.role}-${c.name as string}`;
  let issuer: { certPem: string; keyPem: string } | undefined;
  if (c.role !== 'ca') {
    const dir = c.caDir ?? c.outDir;
    try {
      issuer = { certPem: await readFile(path.join(dir, 'fleet-ca.crt'), 'utf8'), keyPem: await readFile(path.join(dir, 'fleet-ca.key'), 'utf8') };
    } catch (error) {
      throw new BerthError('KEYS_NO_CA', `No fleet CA in ${dir} (fleet-ca.crt and fleet-ca.key): make one with 'berth keys fleet ca --out ${dir}' or pass --ca-dir`, { cause: error });
    }
  }
  const commonName = c.role === 'ca' ? 'berth fleet CA' : c.role === 'server' ? (c.hosts[0] as string) : `${ROLE_PREFIX[c.role]}${c.name as string}`;
  const issued = issueCertificate({
    role: c.role === 'ca' ? 'ca' : c.role === 'server' ? 'server' : 'client',
    commonName,
    ...(c.role === 'server' ? { altNames: c.hosts } : {}),
    notBefore: new Date(now.getTime() - 5 * 60_000),
    validDays: c.days ?? (c.role === 'ca' ? 3650 : 825),
    ...(issuer ? { issuer } : {}),
  });
  await mkdir(c.outDir, { recursive: true });
  const certFile = path.join(c.outDir, `${base}.crt`);
  const keyFile = path.join(c.outDir, `${base}.key`);
  await writeNew(keyFile, issued.keyPem, 0o600);
  await writeNew(certFile, issued.certPem, 0o644);
  return [`Wrote ${certFile} and ${keyFile} (CN=${commonName}, sha256 ${certificateFingerprint(issued.certPem)})`];
}
