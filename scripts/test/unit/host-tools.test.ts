// The host-tool scanner on small sources: each way a program is named (literal path, bound
// constant, env default, bare word to child_process or a wrapper, zx template, sh -c string,
// shell script), and what it must not take for a program (guest commands, data, comments).
import t from 'tap';
import { relativeImports, setupHostPackages, toolBindings, toolRefs, toolsInShell, toolsInTypeScript } from '../../host-tools.ts';

void t.test('TypeScript: literal paths, bindings and bare words in spawning calls', async (t) => {
  const text = [
    "import { spawn, execFileSync } from 'node:child_process';",
    "const SETFATTR = '/usr/bin/setfattr';",
    "const tools = { qemu: env.BERTH_QEMU ?? '/usr/bin/qemu-system-x86_64' };",
    "await exec.run(SETFATTR, ['-h']);",
    "spawn(tools.qemu, argv);",
    "execFileSync('/usr/bin/getfattr', ['-n', name]);",
    "spawn('socat', []);",
    "await shell.run('poweroff');", // a guest command through the VM's shell
    "t.same(calls, ['/usr/bin/ip']);", // data, not a call
    "// spawn('/usr/bin/commented-out')",
    "execFileSync('/bin/sh', ['-c', `cd '${dir}' && find . | cpio -o | zstd -q > '${out}'`]);",
  ].join('\n');
  t.same(toolsInTypeScript(text, toolBindings(text)), ['/bin/sh', '/usr/bin/getfattr', '/usr/bin/qemu-system-x86_64', '/usr/bin/setfattr', 'cpio', 'find', 'socat', 'zstd']);
});

void t.test('TypeScript: wrappers, promisified execFile and zx templates', async (t) => {
  const wrapped = "function sh(file: string, args: string[]) {\n  return execFileSync(file, args);\n}\nsh('mkfs.vfat', ['-C']);\nconst run = promisify(execFile);\nawait run('openssl', ['version']);";
  t.same(toolsInTypeScript(wrapped, new Map()), ['mkfs.vfat', 'openssl']);
  const zx = "import { $ } from 'zx';\nawait $`mksquashfs ${tree} ${file}`;\nawait $`${path.join(dir, 'node')} --version`;\nawait $`find ${x} | sort`;";
  t.same(toolsInTypeScript(zx, new Map()), ['find', 'mksquashfs', 'sort'], 'first words of each stage; an interpolated program is not a word');
  t.same(toolsInTypeScript('const s = "a $`b`";', new Map()), [], 'no zx import, no templates');
});

void t.test('shell: command words, not data, strings or builtins', async (t) => {
  const script = [
    '#!/usr/bin/env bash',
    'set -euo pipefail',
    'cd "$(dirname "$0")/.."',
    'PACKAGES=(',
    '  mmdebstrap   # a comment',
    '  attr',
    ')',
    'step() { printf "%s" "$*"; }',
    'step "type-check (tsc --noEmit)"',
    'if ! dpkg-query -W "$pkg" | grep -q ok; then echo "missing: run as root"; fi',
    'summaries+=("$(grep -a x "$log" | tail -1)")',
    'passed=$((passed + 1))',
    'exec 9>"${LOCK:-/tmp/x.lock}"',
    'flock 9',
    'BERTH_CACHE_DIR=out exec node bin/berth.js build',
  ].join('\n');
  t.same(toolsInShell(script), ['bash', 'dirname', 'dpkg-query', 'flock', 'grep', 'node', 'tail']);
});

void t.test('setup-host.sh PACKAGES and relative imports', async (t) => {
  t.same(setupHostPackages('X=1\nPACKAGES=(\n  a b   # c d\n  e\n)\nfor p in "${PACKAGES[@]}"; do :; done\n'), ['a', 'b', 'e']);
  t.throws(() => setupHostPackages('echo nothing'), /PACKAGES/);
  t.same(relativeImports("import { a } from '../a.ts';\nimport 'zx';\nconst m = await import('./m.ts');\nimport type { B } from \"./b.ts\";"), ['../a.ts', './m.ts', './b.ts']);
});

void t.test('a name resolves against its own file and the files it imports', async (t) => {
  const refs = toolRefs([
    { file: 'runtime/src/core/crun-args.ts', text: "export const MOUNT_PATH = '/usr/bin/mount';", via: 'runtime/test/integration/overlay.test.ts' },
    { file: 'runtime/test/integration/overlay.test.ts', text: "import { MOUNT_PATH } from '../../src/core/crun-args.ts';\nawait exec.run(MOUNT_PATH, args);" },
    { file: 'other/test/unit/x.test.ts', text: 'await exec.run(MOUNT_PATH, args);' },
  ]);
  t.same(refs, [{ tool: '/usr/bin/mount', file: 'runtime/test/integration/overlay.test.ts' }]);
});
