// Every program the host side runs (image builder, npm start/test/bench drivers, the VM test
// harness and cases, every test file and the code they run) comes from a Debian package that
// scripts/setup-host.sh installs, from the base system (Essential, or Priority required or
// important: what any Debian install has), or from the Node package running this test (the
// one prerequisite). Caught here, not on a fresh machine: runtime tests once ran setfattr
// from `attr`, which only happened to be installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { collectHostSources, setupHostPackages, toolRefs, type ToolRef } from '../../host-tools.ts';

const REPO_ROOT = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '../../..');
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/**
 * Programs that host tests reach only through imports of guest code they run with a fake
 * Exec: the guest image ships them (image-builder's package list), the host never runs them.
 * A direct reference from host code is still checked.
 */
const GUEST_ONLY_THROUGH_IMPORTS: Readonly<Record<string, string>> = {
  '/usr/bin/crun': 'the container engine tests run crun through a fake Exec',
};

/** The path, its /usr-merge twin and every link its symlink chain passes through. */
function candidatePaths(path: string): string[] {
  const seen = new Set<string>();
  let current: string | undefined = path;
  for (let hops = 0; current !== undefined && hops < 10 && !seen.has(current); hops++) {
    seen.add(current);
    let next: string | undefined;
    try {
      next = nodePath.resolve(nodePath.dirname(current), readlinkSync(current));
    } catch {
      next = undefined;
    }
    current = next;
  }
  try {
    seen.add(realpathSync(path));
  } catch {
    // not installed: reported by the caller
  }
  const twins = [...seen].flatMap((p) => {
    const m = /^(\/usr)?(\/s?bin\/.*)$/.exec(p);
    return m ? [m[2] ?? '', `/usr${m[2] ?? ''}`] : [p];
  });
  return [...new Set([...seen, ...twins])];
}

/** path -> the packages dpkg says own it (one dpkg-query call for every path). */
function owners(paths: readonly string[]): Map<string, string[]> {
  const result = spawnSync('dpkg-query', ['--search', ...paths], { encoding: 'utf8' });
  const map = new Map<string, string[]>();
  for (const line of result.stdout.split('\n')) {
    const m = /^([^:][^ ]*(?:, [^ ]+)*): (\/.*)$/.exec(line);
    if (!m || line.startsWith('diversion ')) continue;
    map.set(m[2] ?? '', (m[1] ?? '').split(', ').map((p) => p.replace(/:.*$/, '')));
  }
  return map;
}

interface PackageInfo {
  priority: string;
  essential: boolean;
}

function packageInfo(packages: readonly string[]): Map<string, PackageInfo> {
  const result = spawnSync('dpkg-query', ['--show', '--showformat=${Package}\t${Priority}\t${Essential}\n', ...packages], { encoding: 'utf8' });
  const map = new Map<string, PackageInfo>();
  for (const line of result.stdout.split('\n')) {
    const [name, priority, essential] = line.split('\t');
    if (name) map.set(name, { priority: priority ?? '', essential: essential === 'yes' });
  }
  return map;
}

function where(ref: ToolRef): string {
  return ref.via === undefined ? ref.file : `${ref.file}, reached from ${ref.via}`;
}

const refs = toolRefs(collectHostSources(REPO_ROOT));
const installs = setupHostPackages(readFileSync(nodePath.join(REPO_ROOT, 'scripts/setup-host.sh'), 'utf8'));
const nodePackages = owners(candidatePaths(process.execPath));
const nodePackage = [...nodePackages.values()][0]?.[0];
/** Node may also come from a tarball (no package): its bin directory holds node, npm and npx. */
const nodeBinDir = nodePath.dirname(process.execPath);

void t.test('the scan finds the host side and its tools', async (t) => {
  t.comment(`Node ${process.version} at ${process.execPath} from ${nodePackage ?? 'no Debian package'}`);
  const tools = new Set(refs.map((r) => r.tool));
  // Known members of each kind: a literal path, a bound constant reached through imports, zx, shell.
  for (const tool of ['/usr/bin/qemu-img', '/usr/bin/setfattr', 'mksquashfs', 'apt-get', '/usr/bin/qemu-system-x86_64']) t.ok(tools.has(tool), `finds ${tool}`);
  t.ok(installs.includes('mmdebstrap') && installs.includes('qemu-utils'), 'reads the PACKAGES array of setup-host.sh');
});

void t.test('every host tool comes from setup-host.sh, the base system or Node', async (t) => {
  const byTool = new Map<string, ToolRef[]>();
  for (const ref of refs) byTool.set(ref.tool, [...(byTool.get(ref.tool) ?? []), ref]);
  const resolved = new Map<string, string | undefined>();
  for (const tool of byTool.keys()) {
    resolved.set(tool, tool.startsWith('/') ? (existsSync(tool) ? tool : undefined) : SEARCH_PATH.map((d) => `${d}/${tool}`).find((p) => existsSync(p)));
  }
  const candidates = new Map([...resolved].map(([tool, path]) => [tool, path === undefined ? [] : candidatePaths(path)]));
  const owned = owners([...new Set([...candidates.values()].flat())]);
  const info = packageInfo([...new Set([...owned.values()].flat())]);

  // Every tool is accounted for: why it is fine (a comment), or what to add (a problem).
  const problems: string[] = [];
  for (const [tool, toolRefsOf] of [...byTool].sort(([a], [b]) => a.localeCompare(b))) {
    const direct = toolRefsOf.filter((r) => r.via === undefined);
    const guestReason = GUEST_ONLY_THROUGH_IMPORTS[tool];
    if (guestReason !== undefined && direct.length === 0) {
      t.comment(`${tool}: guest-only (${guestReason})`);
      continue;
    }
    const ref = direct[0] ?? toolRefsOf[0];
    if (ref === undefined) continue;
    const path = resolved.get(tool);
    if (path === undefined) {
      problems.push(`${tool} (run by ${where(ref)}) is not installed on this host, so no package provides it: find its Debian package (apt-file search ${nodePath.basename(tool)}) and add it to PACKAGES in scripts/setup-host.sh`);
      continue;
    }
    if (nodePath.dirname(path) === nodeBinDir && ['node', 'npm', 'npx'].includes(nodePath.basename(path))) {
      t.comment(`${tool}: the Node that runs this test (${nodeBinDir})`);
      continue;
    }
    const packages = [...new Set((candidates.get(tool) ?? []).flatMap((p) => owned.get(p) ?? []))];
    if (packages.length === 0) {
      problems.push(`${path} (run by ${where(ref)}) belongs to no Debian package on this host: install it from a package and add that package to PACKAGES in scripts/setup-host.sh`);
      continue;
    }
    const ok = packages.find((p) => installs.includes(p) || p === nodePackage || info.get(p)?.essential === true || ['required', 'important'].includes(info.get(p)?.priority ?? ''));
    if (ok !== undefined) {
      t.comment(`${tool}: ${ok}`);
      continue;
    }
    const described = packages.map((p) => `${p} (Priority ${info.get(p)?.priority ?? 'unknown'})`).join(', ');
    problems.push(`${tool} (run by ${where(ref)}) comes from ${described}, which scripts/setup-host.sh does not install: add ${packages[0] ?? ''} to its PACKAGES`);
  }
  t.ok(byTool.size > 20, `the scan found the programs the host side runs (${byTool.size})`);
  t.same(problems, [], 'every program the host side runs comes from setup-host.sh, the base system or Node');
});
