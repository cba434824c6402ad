/** The wire types of the image endpoints (/v1/images...). */

/** One image reference the host holds. */
export interface ImageSummary {
  /** Canonical: docker.io/library/web:latest. */
  reference: string;
  /** The manifest digest. */
  digest: string;
  config_digest: string;
  /** Manifest, config and layers as stored (layers compressed). */
  size_bytes: number;
  created: string | null;
  /** Preloaded by the image-builder: kept by prune even when unused. */
  preloaded: boolean;
  /** Containers whose `image` names it. */
  used_by: string[];
}

/** How far one blob of a pull has come. */
export interface PullProgressEvent {
  event: 'progress';
  digest: string;
  kind: 'config' | 'layer';
  done_bytes: number;
  total_bytes: number;
  status: 'downloading' | 'done' | 'exists';
}

/** What a removal or prune took away. */
export interface RemovalResult {
  removed_images: string[];
  removed_blobs: number;
  removed_layers: number;
  freed_bytes: number;
}

/** The answer of GET /v1/images. */
export interface ImageList {
  images: ImageSummary[];
}

/** One line of POST /v1/images/pull's NDJSON stream: progress events, then `pulled` or `error`. */
export type PullStreamEvent = PullProgressEvent | { event: 'pulled'; image: ImageSummary } | { event: 'error'; error: { code: string; message: string } };
