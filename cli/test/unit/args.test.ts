/** The top-level `berth` argument parser: subcommands, build options and usage errors. */
import t from 'tap';
import { parseCliArgs } from '../../src/args.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('CLI arguments', async (t) => {
  t.same(parseCliArgs([]), { kind: 'help' });
  t.same(parseCliArgs(['--help']), { kind: 'help' });
  t.same(parseCliArgs(['build', 'p.yaml', '--out', 'o', '--version', '2.0.0']), { kind: 'build', profile: 'p.yaml', out: 'o', version: '2.0.0' });
  t.throws(() => parseCliArgs(['build', '--filesystem', 'ext4']), { code: errorCode('CLI_USAGE') });
  t.throws(() => parseCliArgs(['build', '--bogus']), { code: errorCode('CLI_USAGE') });
  t.throws(() => parseCliArgs(['frobnicate']), { code: errorCode('CLI_USAGE') });
  t.throws(() => parseCliArgs(['build', 'a.yaml', 'b.yaml']), { code: errorCode('CLI_USAGE') });
});
