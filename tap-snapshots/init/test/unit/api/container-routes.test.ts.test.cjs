/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/api/container-routes.test.ts > TAP > images: list, pull progress then the image, errors as an event, remove refused in use, prune > list 1`] = `
Object {
  "images": Array [
    Object {
      "config_digest": "sha256:bbbb",
      "created": null,
      "digest": "sha256:aaaa",
      "preloaded": true,
      "reference": "docker.io/library/berth-test:latest",
      "size_bytes": 1234567,
      "used_by": Array [
        "web",
      ],
    },
  ],
}
`

exports[`init/test/unit/api/container-routes.test.ts > TAP > images: list, pull progress then the image, errors as an event, remove refused in use, prune > pull events 1`] = `
{"event":"progress","digest":"sha256:cccc","kind":"layer","done_bytes":0,"total_bytes":100,"status":"downloading"}
{"event":"progress","digest":"sha256:cccc","kind":"layer","done_bytes":100,"total_bytes":100,"status":"done"}
{"event":"pulled","image":{"reference":"127.0.0.1:5000/test/web:1","digest":"sha256:aaaa","config_digest":"sha256:bbbb","size_bytes":1234567,"created":null,"preloaded":false,"used_by":[]}}

`

exports[`init/test/unit/api/container-routes.test.ts > TAP > list and inspect; an unknown name is a 404 saying so > inspect 1`] = `
Object {
  "addresses": Array [
    "10.88.0.2",
  ],
  "config": Object {
    "image": "berth-test",
    "ports": Array [
      "8080:80",
    ],
  },
  "critical": true,
  "error": null,
  "exit_code": null,
  "health": "healthy",
  "image": "berth-test",
  "name": "web",
  "network_mode": "bridge",
  "pid": 412,
  "ports": Array [
    "8080:80",
  ],
  "restarts": 1,
  "started_at": "2026-01-01T00:00:00.000Z",
  "state": "running",
}
`

exports[`init/test/unit/api/container-routes.test.ts > TAP > list and inspect; an unknown name is a 404 saying so > list 1`] = `
Object {
  "containers": Array [
    Object {
      "addresses": Array [
        "10.88.0.2",
      ],
      "critical": true,
      "error": null,
      "exit_code": null,
      "health": "healthy",
      "image": "berth-test",
      "name": "web",
      "network_mode": "bridge",
      "pid": 412,
      "ports": Array [
        "8080:80",
      ],
      "restarts": 1,
      "started_at": "2026-01-01T00:00:00.000Z",
      "state": "running",
    },
  ],
}
`
