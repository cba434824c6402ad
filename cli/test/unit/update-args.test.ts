/**
 * The update commands' argument parsing: `keys update-signing generate`, `publish` and the bundle options of
 * `build`, through parseCliArgs; usage errors are CLI_USAGE naming the problem.
 */
import t from 'tap';
import { isBerthError } from '../../../lib/errors.ts';
import { HELP_TEXT, parseCliArgs } from '../../src/args.ts';

function usageError(argv: string[]): string {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (isBerthError(error, 'CLI_USAGE')) return error.message;
    throw error;
  }
  return 'no error';
}

void t.test('keys update-signing generate and publish', (t) => {
  t.same(parseCliArgs(['keys', 'update-signing', 'generate', '--out', 'k']), { kind: 'keys-update-signing', out: 'k' });
  t.match(usageError(['keys', 'update-signing', 'generate']), /needs --out DIR/);
  t.match(usageError(['keys', 'update-signing', 'generate', '--out', 'k', '--force']), /Unknown argument '--force'/);
  t.equal((parseCliArgs(['keys', 'api', 'ca', '--out', 'x']) as { kind: string }).kind, 'keys-api', 'the API certificates are their own family');
  t.same(parseCliArgs(['publish', 'out/qemu/bundle', '--channel', 'stable', '--to', 'srv', '--signing-key', 'k']), { kind: 'publish', bundle: 'out/qemu/bundle', channel: 'stable', to: 'srv', signingKey: 'k' });
  t.same(parseCliArgs(['publish', 'b', '--channel', 'stable', '--to', 'srv', '--signing-key', 'k', '--expires-in', '12h']), { kind: 'publish', bundle: 'b', channel: 'stable', to: 'srv', signingKey: 'k', expiresInMs: 43_200_000 });
  t.match(usageError(['publish', 'b', '--channel', 'stable', '--to', 'srv']), /needs --signing-key FILE: hosts refuse unsigned channel metadata/);
  t.match(usageError(['publish', 'b', '--channel', 'stable', '--to', 'srv', '--signing-key', 'k', '--expires-in', '10m']), /--expires-in '10m': expected a duration of at least an hour/);
  t.match(usageError(['publish', 'b', '--to', 'srv']), /needs --channel/);
  const common = ['--channel', 'stable', '--to', 'srv', '--signing-key', 'k'];
  t.same(parseCliArgs(['publish', 'b', ...common, '--waves', 'default']), { kind: 'publish', bundle: 'b', channel: 'stable', to: 'srv', signingKey: 'k', waves: 'default' });
  t.same(parseCliArgs(['publish', '--halt', '2.3.4', '--halt', '2.3.5', '--resume', '2.3.1', ...common]), { kind: 'publish-halt', channel: 'stable', to: 'srv', signingKey: 'k', halt: ['2.3.4', '2.3.5'], resume: ['2.3.1'] });
  t.match(usageError(['publish', 'b', '--halt', '2.3.4', ...common]), /give no bundle/);
  t.match(usageError(['publish', '--halt', '2.3.4', '--waves', 'fast', ...common]), /--waves goes with a bundle/);
  t.match(usageError(['publish', '--halt', '2.3.4', '--resume', '2.3.4', ...common]), /2.3.4 is given to both/);
  t.match(usageError(['publish', '--halt', 'latest', ...common]), /--halt 'latest': expected a semantic version/);
  t.match(usageError(['publish', '--channel', 'stable', '--to', 'srv']), /needs a bundle directory/);
  t.match(usageError(['publish', 'b', '--channel', 'Stable!', '--to', 'srv']), /--channel 'Stable!'/);
  t.match(usageError(['publish', 'b', 'c', '--channel', 's', '--to', 'srv']), /got a second: 'c'/);
  t.end();
});

void t.test('build bundle options', (t) => {
  t.same(parseCliArgs(['build', '--version', '2.0.0', '--signing-key', 'k/update-signing.key']), { kind: 'build', version: '2.0.0', signingKey: 'k/update-signing.key' });
  t.same(parseCliArgs(['build', 'p.yaml', '--signing-key', 'k', '--channel', 'beta', '--min-version', '1.0.0', '--out', 'o']), {
    kind: 'build',
    profile: 'p.yaml',
    signingKey: 'k',
    channel: 'beta',
    minVersion: '1.0.0',
    out: 'o',
  });
  t.match(usageError(['build', '--channel', 'beta']), /add --signing-key/);
  t.match(usageError(['build', '--signing-key', 'k', '--min-version', 'one']), /semantic version/);
  t.match(usageError(['build', '--signing-key']), /--signing-key needs a value/);
  t.match(HELP_TEXT, /berth keys update-signing generate --out DIR/);
  t.match(HELP_TEXT, /berth publish BUNDLE --channel NAME --to DIR/);
  t.end();
});
