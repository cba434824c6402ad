/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`runtime/test/unit/crun-args.test.ts > TAP > crun creates containers and starts exec processes through choom at OOM score adjustment 0 > choom-wrapped crun argv 1`] = `
/usr/bin/choom -n 0 -- /usr/bin/crun --root /run/berth/crun create --bundle /b --pid-file /b/pid web
/usr/bin/choom -n 0 -- /usr/bin/crun --root /run/berth/crun exec --process /run/berth/containers/web/probe.json web
`

exports[`runtime/test/unit/crun-args.test.ts > TAP > crun lifecycle argv > crun argv 1`] = `
--root /run/berth/crun --log /run/berth/containers/web/crun.log --log-format json create --bundle /run/berth/containers/web --pid-file /run/berth/containers/web/pid web
--root /run/berth/crun create --bundle /b --pid-file /b/pid --no-pivot web
--root /run/berth/crun start web
--root /run/berth/crun state web
--root /run/berth/crun kill --all web SIGQUIT
--root /run/berth/crun kill web 9
--root /run/berth/crun delete --force web
--root /run/berth/crun delete web
--root /run/berth/crun exec --process /run/berth/exec/1.json --tty --pid-file /run/berth/exec/1.pid web
`

exports[`runtime/test/unit/crun-args.test.ts > TAP > overlay mount argv keeps options short with relative lowerdirs > overlay mount 1`] = `
Object {
  "args": Array [
    "-t",
    "overlay",
    "-o",
    "lowerdir=sha256-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/root:sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/root,upperdir=/var/lib/berth/containers/web/upper,workdir=/var/lib/berth/containers/web/work,index=off,xino=off,redirect_dir=nofollow,metacopy=off",
    "--",
    "overlay",
    "/run/berth/containers/web/rootfs",
  ],
  "cwd": "/var/lib/berth/images/layers",
}
`
