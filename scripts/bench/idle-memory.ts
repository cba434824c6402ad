/**
 * Where a guest's idle memory goes, from its /proc/meminfo and /proc/zoneinfo: the bench's
 * "idle memory" row (MemTotal − MemAvailable) split into parts both berth and the peer report
 * alike, so a gap between them names what it is made of. Pure: the bench reads the two files.
 *
 * MemAvailable (mm/show_mem.c si_mem_available) is MemFree less the kernel's reserves, plus most
 * of the file LRU and of reclaimable slab. So "used" is: pages owned by processes and the
 * kernel, plus the reserves, plus free pages MemFree does not count: those parked on the
 * per-CPU page lists (pcp), which the page allocator grows on a CPU that frees many pages at once
 * (Linux 6.7's pcp auto-tuning) and only drains under pressure or as vmstat decays them.
 */

export interface IdleMemory {
  /** MemTotal − MemAvailable, kB: the row the bench compares. */
  usedKb: number;
  /** AnonPages: processes' heaps and stacks (and THP). */
  anonKb: number;
  /** Kernel allocations no reclaim gives back: SUnreclaim + KernelStack + PageTables + VmallocUsed + Percpu. */
  kernelKb: number;
  /** Free pages on the per-CPU page lists (/proc/zoneinfo pagesets' count, every zone and CPU). */
  perCpuFreeKb: number;
  /** usedKb less the three above: shmem, the reserves MemAvailable keeps back, file pages it does not count as available. */
  restKb: number;
}

/** Names the meminfo field that is missing, so a changed kernel format fails the bench loudly. */
function meminfoField(meminfo: string, name: string): number {
  const match = new RegExp(`^${name.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
  if (!match) throw new Error(`/proc/meminfo has no "${name}:" line in kB`);
  return Number(match[1]);
}

/** Pages on the per-CPU lists: the `count:` lines after each zone's `pagesets` heading. */
export function perCpuFreePages(zoneinfo: string): number {
  let inPagesets = false;
  let pages = 0;
  let seen = false;
  for (const line of zoneinfo.split('\n')) {
    if (/^Node \d+, zone/.test(line)) inPagesets = false;
    else if (/^\s+pagesets\s*$/.test(line)) inPagesets = true;
    else if (inPagesets) {
      const count = /^\s+count:\s+(\d+)\s*$/.exec(line);
      if (count) {
        pages += Number(count[1]);
        seen = true;
      }
    }
  }
  if (!seen) throw new Error('/proc/zoneinfo lists no pagesets with a "count:" line');
  return pages;
}

export function idleMemory(meminfo: string, zoneinfo: string, pageKb = 4): IdleMemory {
  const field = (name: string) => meminfoField(meminfo, name);
  const usedKb = field('MemTotal') - field('MemAvailable');
  const anonKb = field('AnonPages');
  const kernelKb = field('SUnreclaim') + field('KernelStack') + field('PageTables') + field('VmallocUsed') + field('Percpu');
  const perCpuFreeKb = perCpuFreePages(zoneinfo) * pageKb;
  return { usedKb, anonKb, kernelKb, perCpuFreeKb, restKb: usedKb - anonKb - kernelKb - perCpuFreeKb };
}
