import t from 'tap';
import { readFile } from 'node:fs/promises';
import { BerthError, describeError, errnoCode, isBerthError } from '../../errors.ts';

void t.test('errnoCode reads the code of a failed system call only', async (t) => {
  const missing = await readFile('/nonexistent/berth-errors-test').catch((error: unknown) => error);
  t.equal(errnoCode(missing), 'ENOENT');
  t.equal(errnoCode(new Error('plain')), undefined);
  t.equal(errnoCode('ENOENT'), undefined, 'a string is not an error with a code');
  t.equal(errnoCode(null), undefined);
  t.equal(errnoCode(new BerthError('CONFIG_INVALID', 'Bad')), 'CONFIG_INVALID', 'any code property counts');
});

void t.test('isBerthError and describeError', (t) => {
  const error = new BerthError('QEMU_TIMEOUT', 'Slow', { cause: new Error('inner') });
  t.ok(isBerthError(error));
  t.ok(isBerthError(error, 'QEMU_TIMEOUT'));
  t.notOk(isBerthError(error, 'QEMU_FAILED'));
  t.notOk(isBerthError(new Error('x')));
  t.equal(describeError(error), '[QEMU_TIMEOUT] Slow: inner');
  t.equal(describeError(42), '42');
  t.end();
});
