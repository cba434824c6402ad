/**
 * Image references (`nginx`, `ghcr.io/org/app:1.2`, `localhost:5000/x@sha256:…`): parsing
 * with the grammar of the distribution project, and normalisation to Docker's defaults
 * (registry docker.io, namespace library/, tag latest). Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import { digestProblem, type Digest } from './digest.ts';

/** The registry a reference without a host names. */
export const DEFAULT_REGISTRY = 'docker.io';
/** Where the docker.io registry API actually lives. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const NAME_TOTAL_LENGTH_MAX = 255;

/** A fully normalised image reference. At least one of tag and digest is present. */
export interface ImageReference {
  /** Host with optional port, lowercase hostname kept as written: `docker.io`, `registry.example.com:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`, `org/team/app`. */
  repository: string;
  /** Tag, `latest` when neither tag nor digest was given. */
  tag?: string;
  /** When present, the content is pinned: pulls use the digest and ignore the tag. */
  digest?: Digest;
}

// Grammar from github.com/distribution/reference (regexp.go), anchored piecewise so
// each failure can say which part is wrong.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function invalid(input: string, why: string): BerthError {
  return new BerthError('RUNTIME_REFERENCE_INVALID', `Invalid image reference '${input}': ${why}`);
}

/** True when the first path component of a reference names a registry host rather than a namespace. */
function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

/**
 * Parses and normalises an image reference. Throws RUNTIME_REFERENCE_INVALID with the
 * reference and the part that is wrong.
 */
export function parseReference(input: string): ImageReference {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input.trim() !== input) throw invalid(input, 'leading or trailing whitespace');
  if (/[\s\0]/.test(input)) throw invalid(input, 'contains whitespace');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestText = rest.slice(at + 1);
    const problem = digestProblem(digestText);
    if (problem !== undefined) throw invalid(input, `digest '${digestText}': ${problem}`);
    digest = digestText as Digest;
    rest = rest.slice(0, at);
  }

  // A tag follows the last ':' only when no '/' comes after it (else the ':' was a port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw invalid(input, `tag '${tag}' must be 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'`);
    }
  }

  if (rest.length === 0) throw invalid(input, 'missing repository name');
  const components = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = components[0] ?? '';
  if (components.length > 1 && looksLikeHost(first)) {
    if (!HOST.test(first)) throw invalid(input, `registry host '${first}' is not a valid host[:port]`);
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    components.shift();
  }
  for (const component of components) {
    if (component === '') throw invalid(input, 'empty path component');
    if (component !== component.toLowerCase() && PATH_COMPONENT.test(component.toLowerCase())) {
      throw invalid(input, `repository name must be lowercase ('${component}')`);
    }
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(input, `path component '${component}' must be lowercase letters and digits separated by '.', '_', '__' or '-'`);
    }
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) components.unshift('library');
  const repository = components.join('/');
  if (`${registry}/${repository}`.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(input, `name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }

  const reference: ImageReference = { registry, repository };
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

function tagAndDigest(reference: ImageReference): string {
  return (reference.tag === undefined ? '' : `:${reference.tag}`) + (reference.digest === undefined ? '' : `@${reference.digest}`);
}

/** The fully qualified form: `docker.io/library/nginx:latest`, `host:5000/app@sha256:…`. */
export function formatReference(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}${tagAndDigest(reference)}`;
}

/** The short form Docker prints: `nginx:latest`, `org/app:1`, `ghcr.io/org/app:1`. */
export function familiarReference(reference: ImageReference): string {
  let name = `${reference.registry}/${reference.repository}`;
  if (reference.registry === DEFAULT_REGISTRY) {
    const parts = reference.repository.split('/');
    name = parts.length === 2 && parts[0] === 'library' ? (parts[1] ?? '') : reference.repository;
  }
  return `${name}${tagAndDigest(reference)}`;
}

/** What a registry request is made for: the digest when pinned, else the tag. */
export function manifestSelector(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? DEFAULT_TAG;
}

/** The host[:port] to contact for a registry name (docker.io's API lives elsewhere). */
export function registryApiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_API_HOST : registry;
}
