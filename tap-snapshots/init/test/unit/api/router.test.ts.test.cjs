/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`init/test/unit/api/router.test.ts > TAP > body: JSON syntax, unknown fields, media types, size-independent checks > invalid body message 1`] = `
Invalid request body: count: expected an integer of at least 1 but got 0; cuont: unknown key (expected one of "name", "count")
`

exports[`init/test/unit/api/router.test.ts > TAP > body: JSON syntax, unknown fields, media types, size-independent checks > unknown field and bad value, both reported 1`] = `
Array [
  Object {
    "column": 0,
    "line": 0,
    "message": "expected an integer of at least 1 but got 0",
    "path": "count",
  },
  Object {
    "column": 0,
    "line": 0,
    "message": "unknown key (expected one of \\"name\\", \\"count\\")",
    "path": "cuont",
  },
]
`

exports[`init/test/unit/api/router.test.ts > TAP > query: typed, bounded, unknown names refused, every problem at once > query problems 1`] = `
Array [
  Object {
    "column": 0,
    "line": 0,
    "message": "expected at most 10 but got 11",
    "path": "query.tail",
  },
  Object {
    "column": 0,
    "line": 0,
    "message": "expected 1 or 0 (true or false) but got \\"maybe\\"",
    "path": "query.follow",
  },
  Object {
    "column": 0,
    "line": 0,
    "message": "unknown parameter (this endpoint takes tail, follow, q)",
    "path": "query.lines",
  },
  Object {
    "column": 0,
    "line": 0,
    "message": "given more than once",
    "path": "query.q",
  },
]
`
