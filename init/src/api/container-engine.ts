/**
 * The container and image endpoints' view of runtime's Engine: its statuses, inspections and
 * image listings shaped as the API sends them. No effects of its own (the engine has them).
 */
import type { Engine, LocalImage, PruneResult } from '../../../runtime/src/index.ts';
import type { ContainerControl, ContainerDetail, ContainerSummary } from './core/container-routes.ts';
import type { ImageControl, ImageSummary, RemovalResult } from './core/image-routes.ts';

function summaryOf(engine: Engine, name: string): ContainerDetail {
  const { status, config, startedAt, ip } = engine.inspect(name);
  const summary: ContainerSummary = {
    name,
    image: config.image,
    state: status.state,
    health: status.health ?? null,
    restarts: status.restartCount,
    pid: status.pid ?? null,
    started_at: startedAt?.toISOString() ?? null,
    exit_code: status.exitCode ?? null,
    critical: status.critical,
    error: status.error ?? null,
    ports: [...config.ports],
    network_mode: config.network_mode,
    addresses: ip === undefined ? [] : [ip],
  };
  return { ...summary, config };
}

function imageOf(image: LocalImage & { usedBy: string[] }): ImageSummary {
  return {
    reference: image.reference,
    digest: image.manifestDigest,
    config_digest: image.configDigest,
    size_bytes: image.sizeBytes,
    created: image.created ?? null,
    preloaded: image.preloaded,
    used_by: image.usedBy,
  };
}

function removalOf(result: PruneResult): RemovalResult {
  return { removed_images: result.removedImages, removed_blobs: result.removedBlobs, removed_layers: result.removedLayers, freed_bytes: result.freedBytes };
}

/** The engine as the container endpoints use it. */
export function containerControlOf(engine: Engine): ContainerControl {
  return {
    list: () => engine.statuses().map((status) => summaryOf(engine, status.name)).map(({ config: _config, ...summary }) => summary),
    inspect: (name) => summaryOf(engine, name),
    start: (name) => engine.startContainer(name),
    stop: (name) => engine.stopContainer(name),
    restart: (name) => engine.restartContainer(name),
    exec: (name, argv, timeoutMs, maxOutputBytes) => engine.exec(name, argv, { timeoutMs, maxOutputBytes }),
    readLog: (name, count, onRecord, signal) => engine.readLog(name, count, onRecord, signal),
  };
}

/** The engine as the image endpoints use it. */
export function imageControlOf(engine: Engine): ImageControl {
  return {
    listImages: async () => (await engine.listImages()).map(imageOf),
    pull: async (reference, onProgress) =>
      imageOf(
        await engine.pullImage(reference, (p) => onProgress({ digest: p.digest, kind: p.kind, done_bytes: p.doneBytes, total_bytes: p.totalBytes, status: p.status })),
      ),
    remove: async (reference) => removalOf(await engine.removeImage(reference)),
    prune: async () => removalOf(await engine.pruneImages()),
  };
}
