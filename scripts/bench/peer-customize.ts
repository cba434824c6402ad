// mmdebstrap customize hook of the peer image: `peer-customize.ts <root> <image-work-dir>`.
import { customizePeerRoot } from './peer-image.ts';

const [root, ociWork] = process.argv.slice(2);
if (!root || !ociWork) throw new Error('Usage: peer-customize.ts <root> <image-work-dir>');
await customizePeerRoot(root, ociWork);
