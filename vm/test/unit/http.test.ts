import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { fetchTextUntil } from '../../src/http.ts';

await t.test('fetchTextUntil polls until the body has the text, or gives the last body', async (t) => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    if (requests === 1) res.destroy();
    else res.end(requests === 2 ? 'starting\n' : 'hello from berth\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  t.equal(await fetchTextUntil(url, 'hello from berth', 20_000, { requestTimeoutMs: 5000 }), 'hello from berth\n', 'after a failed request and a wrong body');
  t.equal(requests, 3);
  t.equal(await fetchTextUntil(url, 'never', 1000), 'hello from berth\n', 'past the deadline: the last body, for the assertion to show');
});
