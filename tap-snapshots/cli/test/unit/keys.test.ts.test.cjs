/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/keys.test.ts > TAP > keys argument parsing > must match snapshot 1`] = `
Object {
  "keys": "CLI_USAGE: berth keys needs a family of keys: update-signing (the ed25519 key pair that signs update bundles), api (the management API's CA, client and server certificates), fleet (the fleet coordinator's CA, host, admin and server certificates) (see 'berth --help')",
  "keys api": "CLI_USAGE: berth keys api needs what to make: ca, client or server (see 'berth --help')",
  "keys api ca --ca-dir x": "CLI_USAGE: --ca-dir is for client and server certificates (see 'berth --help')",
  "keys api ca --days 0": "CLI_USAGE: --days must be a whole number of at least 1, not '0' (see 'berth --help')",
  "keys api ca --out keys": Object {
    "hosts": Array [],
    "kind": "keys-api",
    "outDir": "keys",
    "role": "ca",
  },
  "keys api ca extra": "CLI_USAGE: Unexpected argument 'extra' for berth keys api ca (see 'berth --help')",
  "keys api client --ca-dir ca --out out": Object {
    "caDir": "ca",
    "hosts": Array [],
    "kind": "keys-api",
    "outDir": "out",
    "role": "client",
  },
  "keys api client --host x": "CLI_USAGE: --host is for server certificates (berth keys api server) (see 'berth --help')",
  "keys api client --name a/b": "CLI_USAGE: --name 'a/b': use letters, digits, spaces and . _ @ - (at most 64) (see 'berth --help')",
  "keys api client --out keys --name ops-laptop --days 90": Object {
    "days": 90,
    "hosts": Array [],
    "kind": "keys-api",
    "name": "ops-laptop",
    "outDir": "keys",
    "role": "client",
  },
  "keys api root": "CLI_USAGE: Unknown API key 'root': expected ca, client or server (see 'berth --help')",
  "keys api server": "CLI_USAGE: berth keys api server needs --host with the name or address clients connect to (see 'berth --help')",
  "keys api server --host host1.example --host 192.0.2.10 --out keys": Object {
    "hosts": Array [
      "host1.example",
      "192.0.2.10",
    ],
    "kind": "keys-api",
    "outDir": "keys",
    "role": "server",
  },
  "keys ca --out keys": "CLI_USAGE: 'berth keys ca' is now 'berth keys api ca' (see 'berth --help')",
  "keys client": "CLI_USAGE: 'berth keys client' is now 'berth keys api client' (see 'berth --help')",
  "keys fleet admin ops --out k": Object {
    "hosts": Array [],
    "kind": "keys-fleet",
    "name": "ops",
    "outDir": "k",
    "role": "admin",
  },
  "keys generate --out k": "CLI_USAGE: 'berth keys generate' is now 'berth keys update-signing generate' (see 'berth --help')",
  "keys root": "CLI_USAGE: Unknown family of keys 'root': expected update-signing (the ed25519 key pair that signs update bundles), api (the management API's CA, client and server certificates), fleet (the fleet coordinator's CA, host, admin and server certificates) (see 'berth --help')",
  "keys server --host h": "CLI_USAGE: 'berth keys server' is now 'berth keys api server' (see 'berth --help')",
  "keys update-signing": "CLI_USAGE: berth keys update-signing needs what to do: generate (see 'berth --help')",
  "keys update-signing generate": "CLI_USAGE: berth keys update-signing generate needs --out DIR (see 'berth --help')",
  "keys update-signing generate --out k": Object {
    "kind": "keys-update-signing",
    "out": "k",
  },
  "keys update-signing generate --out k --force": "CLI_USAGE: Unknown argument '--force' for berth keys update-signing generate (see 'berth --help')",
  "keys update-signing generate --out=k": Object {
    "kind": "keys-update-signing",
    "out": "k",
  },
  "keys update-signing rotate": "CLI_USAGE: Unknown update-signing command 'rotate': expected generate (see 'berth --help')",
}
`
