/**
 * The `berth` command line: the only place that reads argv and the environment and
 * exits the process. Subcommands: build (through the image builder's front door), analyze boot,
 * ctl, keys, publish.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError, describeError } from '../../lib/errors.ts';
import { analyzeBoot } from './analyze/boot.ts';
import { createApiClient } from './ctl/client.ts';
import { runApiKeys } from './keys/api-certs.ts';
import { runCtl } from './ctl/run.ts';
import { loadMachineConfig } from '../../lib/config/machine-config.ts';
import { ConfigError, formatProblem } from '../../lib/config/problems.ts';
import { runVm } from './vm/run.ts';
import { runVmTest } from './vm/test-runner.ts';
import { parseCliArgs, type CliCommand, HELP_TEXT } from './args.ts';
import { runFleetAdmin, runFleetKeys, serveFleet } from './fleet.ts';
import { createLogger } from '../../lib/log.ts';
import { buildImage, emitUpdateBundle, loadProfileFile } from '../../image-builder/src/index.ts';
import { changeHalts, loadPrivateKey, loadPublicKey, publishBundle, validateWaves, type Wave, WAVE_PLAN_NAMES, WAVE_PLANS, type WavePlanName, writeSigningKeyPair } from '../../updater/src/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `--waves default|fast|now` or a JSON file of waves; CLI_USAGE naming every problem otherwise. */
async function loadWavePlan(name: string): Promise<Wave[]> {
  if ((WAVE_PLAN_NAMES as readonly string[]).includes(name)) return [...WAVE_PLANS[name as WavePlanName]];
  let value: unknown;
  try {
    value = JSON.parse(await readFile(name, 'utf8'));
  } catch (error) {
    throw new BerthError('CLI_USAGE', `--waves '${name}': not ${WAVE_PLAN_NAMES.join(', ')} and not a readable JSON file (${describeError(error)})`);
  }
  const problems = validateWaves(value, name);
  if (problems.length > 0) throw new BerthError('CLI_USAGE', `--waves ${name}: ${problems.join('; ')}`);
  return value as Wave[];
}

async function run(command: CliCommand): Promise<number> {
  switch (command.kind) {
    case 'help':
      process.stdout.write(HELP_TEXT);
      return 0;
    case 'analyze-boot': {
      const { kind: _kind, ...request } = command;
      const result = await analyzeBoot(request);
      process.stderr.write(result.summary);
      if (command.out === undefined) process.stdout.write(result.svg);
      else process.stderr.write(`Wrote ${command.out}\n`);
      return 0;
    }
    case 'ctl':
      return runCtl(command, createApiClient(command.target), {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        readFile: (file) => readFile(file, 'utf8'),
        isTty: process.stdout.isTTY,
      });
    case 'vm-run':
      return runVm(command, { err: (text) => process.stderr.write(text), now: () => new Date() });
    case 'vm-test':
      return runVmTest(command, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text), now: () => new Date() });
    case 'config-validate': {
      let text: string;
      try {
        text = await readFile(command.file, 'utf8');
      } catch (error) {
        throw new BerthError('CONFIG_UNREADABLE', `Cannot read the machine config ${command.file}: ${describeError(error)}`, { cause: error });
      }
      try {
        const { warnings } = loadMachineConfig(text, command.file);
        for (const w of warnings) process.stderr.write(`warning: ${formatProblem(command.file, w)}\n`);
        process.stdout.write(`${command.file}: valid${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''}\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
    }
    case 'keys-api':
      for (const line of await runApiKeys(command, new Date())) console.log(line);
      return 0;
    case 'fleet-serve': {
      const log = createLogger({ component: 'fleet', sinks: [(line) => process.stdout.write(`${line}\n`)], now: () => new Date() });
      const running = await serveFleet(command, log);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
      return 0;
    }
    case 'fleet':
      console.log(await runFleetAdmin(command));
      return 0;
    case 'keys-fleet':
      for (const line of await runFleetKeys(command, new Date())) console.log(line);
      return 0;
    case 'keys-update-signing': {
      const written = await writeSigningKeyPair(command.out);
      console.log(`Wrote ${written.privateKeyPath} (keep it secret, never on a host) and ${written.publicKeyPath}; key id ${written.keyId}`);
      return 0;
    }
    case 'publish': {
      const privateKey = loadPrivateKey(await readFile(command.signingKey), command.signingKey);
      const published = await publishBundle({
        bundleDir: command.bundle,
        channel: command.channel,
        toDir: command.to,
        now: new Date(),
        privateKey,
        ...(command.expiresInMs !== undefined ? { validForMs: command.expiresInMs } : {}),
        ...(command.waves !== undefined ? { waves: await loadWavePlan(command.waves) } : {}),
        // The bundle must verify with the same key: a host would refuse it otherwise.
        trustedKeys: [loadPublicKey(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }))],
      });
      console.log(`Published ${published.manifest.version} on channel ${command.channel}: ${published.channelPath}, signed, expires ${published.channel.expires}`);
      return 0;
    }
    case 'publish-halt': {
      const privateKey = loadPrivateKey(await readFile(command.signingKey), command.signingKey);
      const changed = await changeHalts(
        { toDir: command.to, channel: command.channel, now: new Date(), privateKey, ...(command.expiresInMs !== undefined ? { validForMs: command.expiresInMs } : {}) },
        command.halt,
        command.resume,
      );
      console.log(`Channel ${command.channel}: halted ${changed.channel.halted?.join(', ') || 'nothing'}; signed, expires ${changed.channel.expires}`);
      return 0;
    }
    case 'build': {
      const profileFile = path.resolve(command.profile ?? path.join(repoRoot, 'image-builder/profiles/qemu.yaml'));
      const profile = await loadProfileFile(profileFile);
      if (command.version) profile.version = command.version;
      const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 1_700_000_000);
      if (!Number.isInteger(epoch) || epoch < 0) throw new BerthError('CLI_USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds, got '${process.env.SOURCE_DATE_EPOCH}'`);
      const signingKey = command.signingKey === undefined ? undefined : loadPrivateKey(await readFile(command.signingKey), command.signingKey);
      const started = performance.now();
      const { outDir, manifest } = await buildImage({
        ...(signingKey ? { updateSigningKeyPem: createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString() } : {}),
        profile,
        repoRoot,
        outRoot: path.resolve(command.out ?? path.join(repoRoot, 'out')),
        ...(process.env.BERTH_CACHE_DIR ? { cacheDir: path.resolve(process.env.BERTH_CACHE_DIR) } : {}),
        epoch,
        ...(command.filesystem ? { filesystem: command.filesystem } : {}),
      });
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
      console.log(
        `Built berth ${manifest.version} (${manifest.profile}) in ${((performance.now() - started) / 1000).toFixed(1)}s: ${path.relative(process.cwd(), outDir) || outDir}/disk.raw` +
          ` root=${mib(manifest.rootImage.sizeBytes)} (${manifest.rootFilesystem}, tree ${mib(manifest.rootImage.treeBytes)}) root_hash=${manifest.verity.rootHash.slice(0, 16)}…`,
      );
      if (signingKey) {
        const bundle = await emitUpdateBundle({ outDir, build: manifest, privateKey: signingKey, channel: command.channel ?? 'stable', minVersion: command.minVersion ?? '0.0.0', created: new Date(epoch * 1000) });
        console.log(`Update bundle ${bundle.manifest.version} (channel ${bundle.manifest.channel}): ${path.relative(process.cwd(), bundle.dir) || bundle.dir}`);
      }
      return 0;
    }
  }
}

try {
  process.exitCode = await run(parseCliArgs(process.argv.slice(2), process.env));
} catch (error) {
  console.error(`berth: ${describeError(error)}`);
  process.exitCode = error instanceof BerthError && error.code === 'CLI_USAGE' ? 2 : 1;
}
