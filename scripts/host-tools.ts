/**
 * Which programs berth's host side runs, found in its source: absolute tool paths passed to
 * spawn/exec calls (literally or through a constant), command words at the start of zx `$`
 * templates, and command words of the shell scripts. The scanning functions are pure (text in,
 * references out); collectHostSources reads the repository. scripts/test/integration/host-tools
 * maps every reference to the Debian package that must provide it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as nodePath from 'node:path';

/** One program the host side needs: an absolute path, or a bare command word found on PATH. */
export interface ToolRef {
  tool: string;
  /** The repository file that names the tool. */
  file: string;
  /** The host-side file whose imports reach `file`, when that is another file. */
  via?: string;
}

/** A source file with the host-side file that made it part of the scan. */
export interface HostSource {
  file: string;
  text: string;
  via?: string;
}

const ABSOLUTE_TOOL = String.raw`/(?:usr/)?s?bin/[\w.+-]+`;
/** Calls whose first argument is a program the host must have (run, or read as a host binary). */
const SPAWNING_CALLS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'run', 'runSync', 'runTool', 'copyFile', 'copyFileSync', 'readFile', 'readFileSync']);
/** node:child_process calls, where a bare first argument is a program looked up on PATH. */
const PATH_LOOKUP_CALLS = ['spawn', 'spawnSync', 'execFile', 'execFileSync'];
const SHELL_NOT_COMMANDS = new Set([
  // bash keywords and builtins: no package provides them
  'if', 'then', 'else', 'elif', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case', 'esac', 'function', 'select', 'time',
  'set', 'cd', 'echo', 'printf', 'read', 'local', 'export', 'exit', 'return', 'shift', 'source', 'trap', 'wait', 'exec', 'eval',
  'true', 'false', 'test', 'declare', 'readonly', 'unset', 'break', 'continue', 'command', 'type', 'hash', 'umask', 'ulimit', 'let', 'builtin',
]);
/** Words that start a command and take the next word as the program. */
const SHELL_PREFIXES = new Set(['exec', 'time', 'command', 'then', 'do', 'else', 'if', 'elif', 'while', 'until', '!', 'nohup']);

/**
 * Names bound to an absolute tool path in one TypeScript file: `const X = '/usr/bin/x'` and
 * `key: env.OVERRIDE ?? '/usr/bin/x'` (a default a caller can override).
 */
export function toolBindings(text: string): Map<string, string> {
  const bindings = new Map<string, string>();
  const declared = new RegExp(String.raw`\b(?:const|let|var)\s+([\w$]+)\s*(?::[^=\n]+)?=\s*(['"])(${ABSOLUTE_TOOL})\2`, 'g');
  const defaulted = new RegExp(String.raw`([\w$]+)\s*:\s*[^,\n]*\?\?\s*(['"])(${ABSOLUTE_TOOL})\2`, 'g');
  for (const pattern of [declared, defaulted]) {
    for (const match of text.matchAll(pattern)) bindings.set(match[1] ?? '', match[3] ?? '');
  }
  return bindings;
}

/** Local functions that pass their first parameter to a spawning call (`sh(file, args)` wrappers). */
export function spawningWrappers(text: string): string[] {
  const wrappers: string[] = [];
  const head = /(?:function\s+([\w$]+)\s*(?:<[^>]*>)?\(|(?:const|let)\s+([\w$]+)\s*=\s*(?:async\s*)?\()\s*([\w$]+)/g;
  for (const match of text.matchAll(head)) {
    const name = match[1] ?? match[2] ?? '';
    const param = match[3] ?? '';
    const body = text.slice((match.index ?? 0) + match[0].length, (match.index ?? 0) + match[0].length + 600);
    const passes = new RegExp(String.raw`\b(?:${[...SPAWNING_CALLS].join('|')})\s*\(\s*${param.replace(/\$/g, '\\$')}\b`);
    if (passes.test(body)) wrappers.push(name);
  }
  for (const match of text.matchAll(/(?:const|let)\s+([\w$]+)\s*=\s*promisify\(\s*(?:execFile|spawn)\s*\)/g)) wrappers.push(match[1] ?? '');
  return wrappers;
}

/** TypeScript text without comments (block comments and `//` comments that follow whitespace). */
export function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/**
 * The programs one TypeScript file runs: a literal absolute path or a bound name (`bindings`:
 * the file's own and those of the files it imports) as the first argument of a spawning call,
 * and, in a file that imports zx, the first word of every `$` template and of each `|` stage in it.
 */
export function toolsInTypeScript(source: string, bindings: ReadonlyMap<string, string>): string[] {
  const text = withoutComments(source);
  const tools = new Set<string>();
  const wrappers = spawningWrappers(text);
  const callees = new Set([...SPAWNING_CALLS, ...wrappers]);
  const lookups = new Set([...PATH_LOOKUP_CALLS, ...wrappers]);
  const call = new RegExp(String.raw`([\w$#.]+)\s*\(\s*(?:(['"\x60])(${ABSOLUTE_TOOL}|[A-Za-z][\w.+-]*)\2|([\w$#.]+)\s*[,)])`, 'g');
  for (const match of text.matchAll(call)) {
    const callee = (match[1] ?? '').split('.').pop() ?? '';
    if (!callees.has(callee)) continue;
    const literal = match[3];
    if (literal !== undefined) {
      // A bare word is a program looked up on PATH only for child_process and its wrappers
      // (a test's `shell.run('true')` is a guest command).
      if (literal.startsWith('/') || lookups.has(callee)) tools.add(literal);
    } else {
      const bound = bindings.get((match[4] ?? '').split('.').pop() ?? '');
      if (bound !== undefined) tools.add(bound);
    }
  }
  // `sh -c '…'` strings: the commands inside run on the host too.
  for (const match of text.matchAll(/['"]\/(?:usr\/)?bin\/(?:ba)?sh['"]\s*,\s*\[\s*['"]-c['"]\s*,\s*(?:\x60([^\x60]*)\x60|'([^']*)'|"([^"]*)")/g)) {
    // A template's ${…} is a value (a path, a number), never a command word.
    for (const tool of toolsInShell((match[1] ?? match[2] ?? match[3] ?? '').replace(/\$\{[^}]*\}/g, 'value'))) tools.add(tool);
  }
  if (/\bfrom\s+['"]zx['"]/.test(text)) {
    for (const match of text.matchAll(/\$`([^`]*)`/g)) {
      for (const stage of (match[1] ?? '').split('|')) {
        const word = /^\s*([A-Za-z0-9][\w.+-]*)(?=\s|$)/.exec(stage)?.[1];
        if (word !== undefined) tools.add(word);
      }
    }
  }
  return [...tools].sort();
}

/**
 * A bash script reduced to its command text: comments, quoted strings and arithmetic dropped,
 * each `$( … )` and `` ` … ` `` kept (also inside double quotes) between separators, and array
 * literals (`NAME=( … )` holds data, not commands) left out.
 */
export function shellCode(text: string): string {
  let out = '';
  // 'array': inside NAME=( … ), where words are data but `$( … )` still runs.
  const stack: Array<'code' | 'sub' | 'dq' | 'array'> = ['code'];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    const state = stack.at(-1) ?? 'code';
    if (state === 'dq') {
      if (c === '\\') i++;
      else if (c === '"') stack.pop();
      else if (c === '$' && text[i + 1] === '(' && text[i + 2] !== '(') {
        stack.push('sub');
        out += ';';
        i++;
      }
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (state === 'array' && c === ')') {
      stack.pop();
      out += ';';
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      i = end < 0 ? text.length : end;
      out += ' ';
    } else if (c === '"') {
      stack.push('dq');
      out += ' ';
    } else if (c === '$' && text.startsWith('((', i + 1)) {
      const end = text.indexOf('))', i + 3);
      i = end < 0 ? text.length : end + 1;
      out += ' ';
    } else if (c === '$' && text[i + 1] === '(') {
      stack.push('sub');
      out += ';';
      i++;
    } else if (c === '(' && /\w\+?=$/.test(text.slice(Math.max(0, i - 3), i))) {
      stack.push('array');
      out += ' ';
    } else if (state === 'array') {
      out += ' ';
    } else if (c === ')' && state === 'sub') {
      stack.pop();
      out += ';';
    } else out += c;
  }
  return out;
}

/**
 * The programs a bash script runs: its `#!` interpreter and the first word of every simple
 * command (after `;`, `&&`, `||`, `|`, `$(`, `(`, `{` and keywords such as `then` or `exec`),
 * leaving out assignments, builtins, keywords and the script's own functions.
 */
export function toolsInShell(text: string): string[] {
  const tools = new Set<string>();
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(text);
  if (shebang) tools.add(shebang[1]?.endsWith('/env') === true && shebang[2] !== undefined ? shebang[2] : (shebang[1] ?? ''));
  const code = shellCode(text.replace(/^#!.*/, ''));
  const functions = new Set([...code.matchAll(/^\s*([\w-]+)\s*\(\)\s*\{/gm)].map((m) => m[1] ?? ''));
  for (const segment of code.split(/\n|;|&&|\|\||\||\$\(|\(|\)|\{|\}|`/)) {
    const words = segment.trim().split(/\s+/).filter((w) => w !== '');
    let i = 0;
    while (i < words.length && (SHELL_PREFIXES.has(words[i] ?? '') || /^[A-Za-z_]\w*=/.test(words[i] ?? ''))) {
      if (words[i] === 'exec' && /^\d*[<>]/.test(words[i + 1] ?? '')) break; // `exec 9>file` opens a descriptor
      i++;
    }
    const word = words[i];
    if (word === undefined || !/^[A-Za-z][\w.+-]*$|^\/[\w./+-]+$/.test(word)) continue;
    if (SHELL_NOT_COMMANDS.has(word) || functions.has(word)) continue;
    tools.add(word);
  }
  return [...tools].sort();
}

/** The package names of the PACKAGES array in scripts/setup-host.sh (comments ignored). */
export function setupHostPackages(text: string): string[] {
  const array = /^PACKAGES=\(([\s\S]*?)^\)/m.exec(text)?.[1];
  if (array === undefined) throw new Error('scripts/setup-host.sh has no PACKAGES=( … ) array');
  return array
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').trim().split(/\s+/))
    .filter((word) => word !== '');
}

/** Relative module specifiers one TypeScript file imports (static and dynamic). */
export function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm)].map((m) => m[2] ?? '');
}

const isScript = (file: string): boolean => /\.(ts|js|mjs)$/.test(file);

/** Every reference of the scanned sources; a name resolves against its file's bindings and its relative imports'. */
export function toolRefs(sources: readonly HostSource[]): ToolRef[] {
  const byFile = new Map(sources.map((s) => [s.file, s]));
  const own = new Map(sources.filter((s) => isScript(s.file)).map((s) => [s.file, toolBindings(withoutComments(s.text))]));
  const refs: ToolRef[] = [];
  for (const source of sources) {
    let tools: string[];
    if (isScript(source.file)) {
      const bindings = new Map(own.get(source.file));
      for (const spec of relativeImports(source.text)) {
        const target = nodePath.normalize(nodePath.join(nodePath.dirname(source.file), spec));
        if (byFile.has(target)) for (const [k, v] of own.get(target) ?? []) if (!bindings.has(k)) bindings.set(k, v);
      }
      tools = toolsInTypeScript(source.text, bindings);
    } else tools = toolsInShell(source.text);
    for (const tool of tools) refs.push(source.via === undefined ? { tool, file: source.file } : { tool, file: source.file, via: source.via });
  }
  return refs;
}

/** The scanner's own unit test: its sample sources name programs nobody runs. */
const SCANNER_FIXTURES = new Set(['scripts/test/unit/host-tools.test.ts']);

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(nodePath.join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'tap-snapshots' || entry.name === 'fixtures') continue;
    const rel = nodePath.join(dir, entry.name);
    if (entry.isDirectory()) walk(root, rel, out);
    else if (!SCANNER_FIXTURES.has(rel)) out.push(rel);
  }
}

/**
 * The host side of the repository: cli/src, image-builder/src, scripts/, bin/, vm/src (the QEMU tool), qemu-tests/ (harness,
 * cases, its scripts), .ci/run and every test file; plus, for everything except unit tests
 * (which run with fake effects), the modules their relative imports reach, since a test or
 * the image builder runs that code on the host too (the unpacker's `setfattr`, for one).
 */
export function collectHostSources(repoRoot: string): HostSource[] {
  const files: string[] = [];
  for (const dir of ['cli', 'image-builder', 'scripts', 'bin', 'qemu-tests', 'vm', 'lib', 'init', 'runtime', 'updater', 'fleet', '.ci']) {
    try {
      if (statSync(nodePath.join(repoRoot, dir)).isDirectory()) walk(repoRoot, dir, files);
    } catch {
      // a component the checkout does not have
    }
  }
  const isTest = (f: string): boolean => /(^|\/)test\//.test(f);
  const isHostCode = (f: string): boolean =>
    /^(cli\/src|image-builder\/src|scripts|bin|vm\/src|qemu-tests\/(harness|cases))\//.test(f) || /\.sh$/.test(f) || f === '.ci/run' || /^bin\//.test(f);
  const roots = files.filter((f) => (/\.(ts|js|mjs)$/.test(f) && (isHostCode(f) || isTest(f))) || /\.sh$/.test(f) || f === '.ci/run');
  const sources = new Map<string, HostSource>();
  const read = (f: string): string => readFileSync(nodePath.join(repoRoot, f), 'utf8');
  for (const f of roots) sources.set(f, { file: f, text: read(f) });
  const queue = roots.filter((f) => /\.(ts|js|mjs)$/.test(f) && !/(^|\/)test\/unit\//.test(f));
  while (queue.length > 0) {
    const from = queue.shift() ?? '';
    const origin = sources.get(from)?.via ?? from;
    for (const spec of relativeImports(sources.get(from)?.text ?? '')) {
      const target = nodePath.normalize(nodePath.join(nodePath.dirname(from), spec));
      if (sources.has(target) || !files.includes(target)) continue;
      sources.set(target, { file: target, text: read(target), via: origin });
      queue.push(target);
    }
  }
  return [...sources.values()];
}
