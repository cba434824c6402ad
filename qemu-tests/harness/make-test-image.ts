/**
 * `npx tsx qemu-tests/harness/make-test-image.ts [DIR]`: writes the container tests' OCI image
 * layout (busybox-static from the test machine) to DIR, default out/test-images/berth-test, where
 * qemu-tests/profiles/containers.yaml preloads it from. Effects: writes DIR.
 */
import path from 'node:path';
import { REPO_ROOT, writeTestImage } from '../../vm/src/index.ts';

const dir = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'out/test-images/berth-test'));
const image = await writeTestImage(dir);
process.stdout.write(`${image.layoutDir} ${image.manifestDigest}\n`);
