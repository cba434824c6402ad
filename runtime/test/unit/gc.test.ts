import t from 'tap';
import { planGarbageCollection, type ImageRecord } from '../../src/core/gc.ts';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const web: ImageRecord = { reference: 'docker.io/library/nginx:1', indexDigests: [d(1)], manifestDigest: d(2), configDigest: d(3), layerDigests: [d(4), d(5)], diffIds: [d(104), d(105)] };
const worker: ImageRecord = { reference: 'ghcr.io/x/worker:2', indexDigests: [], manifestDigest: d(6), configDigest: d(7), layerDigests: [d(4), d(8)], diffIds: [d(104), d(108)] };

void t.test('keeps what kept images reach, removes the rest', (t) => {
  const blobs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(d);
  const layers = [104, 105, 108, 109, 110].map(d);
  t.same(planGarbageCollection({ images: [web, worker], blobs, layers, layersInUse: [] }), { removeBlobs: [d(9), d(10)], removeLayers: [d(109), d(110)] });
  t.same(planGarbageCollection({ images: [worker], blobs, layers, layersInUse: [d(105)] }), {
    removeBlobs: [1, 2, 3, 5, 9, 10].map(d),
    removeLayers: [d(109), d(110)],
  }, 'a shared layer stays with the image still kept; a mounted layer stays without any image');
  t.same(planGarbageCollection({ images: [], blobs: [], layers: [], layersInUse: [] }), { removeBlobs: [], removeLayers: [] });
  t.end();
});
