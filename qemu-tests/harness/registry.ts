/**
 * A loopback registry for VM tests and benches: Debian's docker-registry serving on the test
 * machine's 127.0.0.1 (the guest reaches it through a QEMU guestfwd), images pushed into it with
 * skopeo from an OCI layout. Effects: spawns docker-registry and skopeo, writes its storage dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../lib/sys/free-port.ts';

export const REGISTRY_TOOL = '/usr/bin/docker-registry';
export const SKOPEO_TOOL = '/usr/bin/skopeo';

/** The tools a loopback registry needs that this machine lacks, each with what to install. */
export function missingRegistryTools(): string[] {
  return [REGISTRY_TOOL, SKOPEO_TOOL]
    .filter((tool) => !existsSync(tool))
    .map((tool) => `${tool} is missing: run scripts/setup-host.sh (Debian packages docker-registry and skopeo)`);
}

/** Runs a tool to its end; throws with its output when it exits non-zero. */
export async function runTool(file: string, args: readonly string[]): Promise<string> {
  const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${code}: ${output}`);
  return output;
}

/** A running loopback registry. */
export interface LoopbackRegistry {
  port: number;
  process: ChildProcess;
  /** Pushes the OCI layout's image `ref` as `<repository>:<tag>` (e.g. "test/web:1"). */
  push(layoutDir: string, ref: string, target: string): Promise<void>;
  stop(): void;
}

/** Debian's distribution registry on 127.0.0.1:<port>, storage in `dir`; resolves once it answers /v2/. */
export async function startRegistry(dir: string, port?: number): Promise<LoopbackRegistry> {
  const listen = port ?? (await freePort());
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    ['version: 0.1', 'log: { level: warn, accesslog: { disabled: true } }', `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} }, delete: { enabled: true } }`, `http: { addr: "127.0.0.1:${listen}" }`, ''].join('\n'),
  );
  const child = spawn(REGISTRY_TOOL, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${listen}/v2/`).then((r) => r.ok, () => false);
    if (ok) {
      return {
        port: listen,
        process: child,
        async push(layoutDir, ref, target) {
          await runTool(SKOPEO_TOOL, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layoutDir}:${ref}`, `docker://127.0.0.1:${listen}/${target}`]);
        },
        stop: () => void child.kill(),
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 200));
  }
  child.kill();
  throw new Error(`docker-registry did not answer on 127.0.0.1:${listen}: ${stderr}`);
}
