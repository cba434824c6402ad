import t from 'tap';
import {
  CRUN_STATE_DIR,
  MOUNT_OPTIONS_MAX,
  CHOOM_PATH,
  CRUN_PATH,
  crunCreateArgs,
  crunCreateCommand,
  parseCrunVersion,
  crunDeleteArgs,
  crunExecArgs,
  crunExecCommand,
  crunKillArgs,
  crunStartArgs,
  crunStateArgs,
  overlayMountArgs,
} from '../../src/core/crun-args.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('crun lifecycle argv', (t) => {
  t.equal(CRUN_STATE_DIR, '/run/berth/crun');
  t.matchSnapshot(
    [
      crunCreateArgs('web', { bundle: '/run/berth/containers/web', pidFile: '/run/berth/containers/web/pid', logFile: '/run/berth/containers/web/crun.log' }),
      crunCreateArgs('web', { bundle: '/b', pidFile: '/b/pid', noPivot: true }),
      crunStartArgs('web'),
      crunStateArgs('web'),
      crunKillArgs('web', 'SIGQUIT', { all: true }),
      crunKillArgs('web', '9'),
      crunDeleteArgs('web', { force: true }),
      crunDeleteArgs('web'),
      crunExecArgs('web', { processFile: '/run/berth/exec/1.json', tty: true, pidFile: '/run/berth/exec/1.pid' }),
    ].map((args) => args.join(' ')).join('\n'),
    'crun argv',
  );
  t.same(crunStartArgs('web'), ['--root', '/run/berth/crun', 'start', 'web']);
  t.throws(() => crunStartArgs('../x'), { code: errorCode('RUNTIME_SPEC_INVALID') });
  t.throws(() => crunStartArgs('-rf'), { code: errorCode('RUNTIME_SPEC_INVALID') }, 'an id never reads as an option');
  t.throws(() => crunKillArgs('web', 'TERM; reboot'), { code: errorCode('RUNTIME_SPEC_INVALID') });
  t.end();
});

void t.test('crun creates containers and starts exec processes through choom at OOM score adjustment 0', (t) => {
  t.matchSnapshot(
    [
      crunCreateCommand('web', { bundle: '/b', pidFile: '/b/pid' }),
      crunExecCommand('web', { processFile: '/run/berth/containers/web/probe.json' }),
    ].map((command) => [command.file, ...command.args].join(' ')).join('\n'),
    'choom-wrapped crun argv',
  );
  const exec = crunExecCommand('web', { processFile: '/p.json' });
  t.equal(exec.file, CHOOM_PATH);
  t.same(exec.args.slice(0, 4), ['-n', '0', '--', CRUN_PATH], 'the adjustment, then crun by absolute path after --');
  t.same(exec.args.slice(4), crunExecArgs('web', { processFile: '/p.json' }), 'crun\'s own argv unchanged');
  t.throws(() => crunCreateCommand('../x', { bundle: '/b', pidFile: '/b/pid' }), { code: errorCode('RUNTIME_SPEC_INVALID') });
  t.end();
});

void t.test('overlay mount argv keeps options short with relative lowerdirs', (t) => {
  const layers = '/var/lib/berth/images/layers';
  const dirs = [`${layers}/sha256-${'a'.repeat(64)}`, `${layers}/sha256-${'b'.repeat(64)}`];
  const mount = overlayMountArgs(layers, dirs, '/var/lib/berth/containers/web/upper', '/var/lib/berth/containers/web/work', '/run/berth/containers/web/rootfs');
  t.matchSnapshot(mount, 'overlay mount');
  t.equal(mount.cwd, layers);
  t.match(mount.args[3], new RegExp(`^lowerdir=sha256-${'b'.repeat(64)}/root:sha256-${'a'.repeat(64)}/root,`), 'topmost layer first, relative');
  t.same(mount.args.slice(-3), ['--', 'overlay', '/run/berth/containers/web/rootfs']);
  t.match(mount.args[3], /,redirect_dir=nofollow,metacopy=off$/, 'redirects and metacopy off explicitly, whatever the kernel defaults');

  const many = Array.from({ length: 60 }, (_, i) => `${layers}/sha256-${i.toString(16).padStart(64, '0')}`);
  t.throws(() => overlayMountArgs(layers, many, '/u', '/w', '/t'), { code: errorCode('RUNTIME_SPEC_INVALID'), message: new RegExp(`more than a page \\(${MOUNT_OPTIONS_MAX}\\)`) });
  t.throws(() => overlayMountArgs(layers, [], '/u', '/w', '/t'), { message: /at least one layer/ });
  t.throws(() => overlayMountArgs(layers, ['/elsewhere/x'], '/u', '/w', '/t'), { message: /not directly inside/ });
  t.throws(() => overlayMountArgs(layers, [`${layers}/a:b`], '/u', '/w', '/t'), { message: /cannot appear/ });
  t.throws(() => overlayMountArgs(layers, [`${layers}/a`], '/u,x', '/w', '/t'), { message: /cannot appear/ });
  t.end();
});

void t.test('crun --version: the version of its first line', (t) => {
  t.equal(parseCrunVersion('crun version 1.21\ncommit: 10269840aa07fb7e6b7e1acff6198692d8ff5c88\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX\n'), '1.21');
  t.equal(parseCrunVersion(''), undefined);
  t.equal(parseCrunVersion('runc version 1.1.12\n'), undefined);
  t.end();
});
