/**
 * Test and benchmark harness: a 3-member etcd cluster from Debian's etcd-server on loopback,
 * on free ports with its data in a temporary directory; members can be killed and restarted.
 * Effects: spawns /usr/bin/etcd, writes under the given directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { freePort } from '../../../lib/sys/free-port.ts';

export const ETCD_BINARY = '/usr/bin/etcd';

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  child: ChildProcess | undefined;
  stderr: string[];
}

export interface EtcdCluster {
  endpoints: string[];
  kill(index: number): Promise<void>;
  start(index: number): Promise<void>;
  isRunning(index: number): boolean;
  /** The member's process id while it runs (bench:fleet reads its CPU time from /proc). */
  pid(index: number): number | undefined;
  /** Resolves when every running member answers /health. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** The last lines etcd wrote, for a failure message. */
  logTail(): string;
}

export async function startEtcdCluster(dir: string, size = 3): Promise<EtcdCluster> {
  try {
    await access(ETCD_BINARY);
  } catch {
    throw new Error(`${ETCD_BINARY} is missing: run scripts/setup-host.sh (it installs Debian's etcd-server)`);
  }
  const members: Member[] = [];
  for (let i = 0; i < size; i += 1) members.push({ name: `m${i + 1}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: `${dir}/m${i + 1}`, child: undefined, stderr: [] });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');

  const start = async (index: number): Promise<void> => {
    const m = members[index] as Member;
    await mkdir(m.dataDir, { recursive: true, mode: 0o700 });
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${m.clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${m.clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=berth-fleet-test',
      '--logger=zap',
      '--log-level=warn',
    ];
    const child = spawn(ETCD_BINARY, args, { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      m.stderr.push(chunk);
      if (m.stderr.length > 50) m.stderr.shift();
    });
    child.on('exit', () => {
      if (m.child === child) m.child = undefined;
    });
    m.child = child;
  };

  const kill = async (index: number): Promise<void> => {
    const child = members[index]?.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };

  const healthy = async (m: Member): Promise<boolean> => {
    try {
      const res = await fetch(`http://127.0.0.1:${m.clientPort}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  };

  const cluster: EtcdCluster = {
    endpoints: members.map((m) => `http://127.0.0.1:${m.clientPort}`),
    kill,
    start,
    isRunning: (index) => members[index]?.child !== undefined,
    pid: (index) => members[index]?.child?.pid,
    waitHealthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(members.filter((m) => m.child).map(healthy));
        if (states.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`etcd cluster not healthy after ${timeoutMs} ms:\n${cluster.logTail()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: async () => {
      for (let i = 0; i < members.length; i += 1) await kill(i);
    },
    logTail: () => members.map((m) => `${m.name}: ${m.stderr.join('').split('\n').slice(-5).join('\n')}`).join('\n'),
  };
  for (let i = 0; i < size; i += 1) await start(i);
  await cluster.waitHealthy();
  return cluster;
}
