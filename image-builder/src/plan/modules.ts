/**
 * Kernel module selection for the initramfs, as pure data: given modules.dep and the
 * list of built-in modules, the load order (dependencies first) of what the initramfs
 * needs to open a root through dm-verity.
 */

/** What the initramfs must be able to load; built-in or absent ones are skipped. */
export const INITRAMFS_MODULES = [
  'virtio_blk',
  'virtio_scsi',
  'sd_mod',
  'ahci',
  'nvme',
  'dm-verity',
  'erofs',
  'squashfs',
] as const;

export interface ModuleDb {
  /** module name -> relative path of its .ko(.xz|.zst) file */
  paths: Map<string, string>;
  /** module name -> names of modules it depends on */
  deps: Map<string, string[]>;
  builtin: Set<string>;
}

/** Module names treat '-' and '_' alike, as the kernel does. */
export function moduleName(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export function parseModuleDb(modulesDep: string, modulesBuiltin: string): ModuleDb {
  const paths = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon).trim();
    const name = moduleName(file);
    paths.set(name, file);
    deps.set(name, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName));
  }
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName));
  return { paths, deps, builtin };
}

/** Load order for the wanted modules: each module after everything it depends on. */
export function moduleLoadOrder(db: ModuleDb, wanted: readonly string[]): { order: string[]; skipped: string[] } {
  const order: string[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of db.deps.get(name) ?? []) visit(dep);
    order.push(name);
  };
  for (const raw of wanted) {
    const name = raw.replace(/-/g, '_');
    if (db.builtin.has(name) || !db.paths.has(name)) skipped.push(name);
    else visit(name);
  }
  return { order, skipped };
}
