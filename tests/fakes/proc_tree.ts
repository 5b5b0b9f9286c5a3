/**
 * A fake host `/proc` for tests, the demo and benchmarks: writes the files the agent
 * reads (`vmstat`, `meminfo`, `pressure/memory`) in the real kernel formats, based on
 * files captured from Debian's 6.12 kernel (tests/fixtures/kernels/6.12.95+deb12-amd64).
 * Dependency-free: only Deno APIs.
 */

/** The figures a fake `/proc` reports. Every field is optional; defaults in brackets. */
export interface FakeProcOptions {
  /** `pswpin` in vmstat, pages read from swap since boot [0]. */
  readonly swapInPages?: number;
  /** `pswpout` in vmstat, pages written to swap since boot [0]. */
  readonly swapOutPages?: number;
  /** `MemTotal`, bytes [8 GiB]. */
  readonly memTotalBytes?: number;
  /** `MemAvailable`, bytes [half of memTotalBytes]. */
  readonly memAvailableBytes?: number;
  /** `MemFree`, bytes [memAvailableBytes]. */
  readonly memFreeBytes?: number;
  /** `SwapTotal`, bytes; 0 for a node without swap [2 GiB]. */
  readonly swapTotalBytes?: number;
  /** `SwapFree`, bytes [swapTotalBytes]. */
  readonly swapFreeBytes?: number;
  /** `pressure/memory` some avg10, percent [fullAvg10Percent]. */
  readonly someAvg10Percent?: number;
  /** `pressure/memory` full avg10, percent [0]. */
  readonly fullAvg10Percent?: number;
  /** `pressure/memory` some total, microseconds [fullTotalMicroseconds]. */
  readonly someTotalMicroseconds?: number;
  /** `pressure/memory` full total, microseconds [0]. */
  readonly fullTotalMicroseconds?: number;
  /** False writes `pressure/memory` without its `full` line, as some kernels do [true]. */
  readonly pressureFullLine?: boolean;
}

/** One PSI line's figures for `formatPressure`. */
export interface FakePressureLine {
  /** avg10, percent. */
  readonly avg10Percent: number;
  /** avg60, percent [avg10Percent / 4]. */
  readonly avg60Percent?: number;
  /** avg300, percent [avg10Percent / 20]. */
  readonly avg300Percent?: number;
  /** total, microseconds [0]. */
  readonly totalMicroseconds?: number;
}

/**
 * PSI file text as the kernel writes it (`some avg10=1.00 avg60=0.25 avg300=0.05 total=0`
 * and a `full` line unless `full` is null), for `memory.pressure` and
 * `/proc/pressure/memory`.
 */
export function formatPressure(some: FakePressureLine, full: FakePressureLine | null): string {
  const line = (kind: string, p: FakePressureLine) =>
    `${kind} avg10=${p.avg10Percent.toFixed(2)} ` +
    `avg60=${(p.avg60Percent ?? p.avg10Percent / 4).toFixed(2)} ` +
    `avg300=${(p.avg300Percent ?? p.avg10Percent / 20).toFixed(2)} ` +
    `total=${Math.round(p.totalMicroseconds ?? 0)}\n`;
  return line("some", some) + (full === null ? "" : line("full", full));
}

/** `/proc/vmstat` of an idle 6.12 guest; pswpin/pswpout are replaced. */
const VMSTAT_TEMPLATE = `nr_free_pages 109937
nr_zone_inactive_anon 0
nr_zone_active_anon 795
nr_zone_inactive_file 1
nr_zone_active_file 0
nr_zone_unevictable 0
nr_zone_write_pending 0
nr_mlock 0
nr_bounce 0
nr_zspages 5
nr_free_cma 0
nr_unaccepted 0
numa_hit 6869
numa_miss 0
numa_foreign 0
numa_interleave 789
numa_local 6869
numa_other 0
nr_inactive_anon 0
nr_active_anon 795
nr_inactive_file 1
nr_active_file 0
nr_unevictable 0
nr_slab_reclaimable 206
nr_slab_unreclaimable 2020
nr_isolated_anon 0
nr_isolated_file 0
workingset_nodes 0
workingset_refault_anon 0
workingset_refault_file 0
workingset_activate_anon 0
workingset_activate_file 0
workingset_restore_anon 0
workingset_restore_file 0
workingset_nodereclaim 0
nr_anon_pages 43
nr_mapped 416
nr_file_pages 755
nr_dirty 0
nr_writeback 0
nr_writeback_temp 0
nr_shmem 754
nr_shmem_hugepages 0
nr_shmem_pmdmapped 0
nr_file_hugepages 0
nr_file_pmdmapped 0
nr_anon_transparent_hugepages 0
nr_vmscan_write 0
nr_vmscan_immediate_reclaim 0
nr_dirtied 1
nr_written 1
nr_throttled_written 0
nr_kernel_misc_reclaimable 0
nr_foll_pin_acquired 0
nr_foll_pin_released 0
nr_kernel_stack 960
nr_page_table_pages 84
nr_sec_page_table_pages 0
nr_iommu_pages 0
nr_swapcached 0
pgpromote_success 0
pgpromote_candidate 0
pgdemote_kswapd 0
pgdemote_direct 0
pgdemote_khugepaged 0
nr_dirty_threshold 21690
nr_dirty_background_threshold 10831
nr_memmap_pages 0
nr_memmap_boot_pages 2048
pgpgin 20
pgpgout 4
pswpin 0
pswpout 0
pgalloc_dma 32
pgalloc_dma32 10328
pgalloc_normal 0
pgalloc_movable 0
pgalloc_device 0
allocstall_dma 0
allocstall_dma32 0
allocstall_normal 0
allocstall_movable 0
allocstall_device 0
pgskip_dma 0
pgskip_dma32 0
pgskip_normal 0
pgskip_movable 0
pgskip_device 0
pgfree 123155
pgactivate 0
pgdeactivate 0
pglazyfree 0
pgfault 2411
pgmajfault 0
pglazyfreed 0
pgrefill 0
pgreuse 319
pgsteal_kswapd 0
pgsteal_direct 0
pgsteal_khugepaged 0
pgscan_kswapd 0
pgscan_direct 0
pgscan_khugepaged 0
pgscan_direct_throttle 0
pgscan_anon 0
pgscan_file 0
pgsteal_anon 0
pgsteal_file 0
zone_reclaim_success 0
zone_reclaim_failed 0
pginodesteal 0
slabs_scanned 0
kswapd_inodesteal 0
kswapd_low_wmark_hit_quickly 0
kswapd_high_wmark_hit_quickly 0
pageoutrun 0
pgrotated 0
drop_pagecache 0
drop_slab 0
oom_kill 0
numa_pte_updates 0
numa_huge_pte_updates 0
numa_hint_faults 0
numa_hint_faults_local 0
numa_pages_migrated 0
pgmigrate_success 0
pgmigrate_fail 0
thp_migration_success 0
thp_migration_fail 0
thp_migration_split 0
compact_migrate_scanned 0
compact_free_scanned 0
compact_isolated 0
compact_stall 0
compact_fail 0
compact_success 0
compact_daemon_wake 0
compact_daemon_migrate_scanned 0
compact_daemon_free_scanned 0
htlb_buddy_alloc_success 0
htlb_buddy_alloc_fail 0
unevictable_pgs_culled 0
unevictable_pgs_scanned 0
unevictable_pgs_rescued 0
unevictable_pgs_mlocked 0
unevictable_pgs_munlocked 0
unevictable_pgs_cleared 0
unevictable_pgs_stranded 0
thp_fault_alloc 0
thp_fault_fallback 0
thp_fault_fallback_charge 0
thp_collapse_alloc 0
thp_collapse_alloc_failed 0
thp_file_alloc 0
thp_file_fallback 0
thp_file_fallback_charge 0
thp_file_mapped 0
thp_split_page 0
thp_split_page_failed 0
thp_deferred_split_page 0
thp_underused_split_page 0
thp_split_pmd 0
thp_scan_exceed_none_pte 0
thp_scan_exceed_swap_pte 0
thp_scan_exceed_share_pte 0
thp_split_pud 0
thp_zero_page_alloc 0
thp_zero_page_alloc_failed 0
thp_swpout 0
thp_swpout_fallback 0
balloon_inflate 0
balloon_deflate 0
balloon_migrate 0
swap_ra 0
swap_ra_hit 0
swpin_zero 0
swpout_zero 0
ksm_swpin_copy 0
cow_ksm 0
zswpin 0
zswpout 0
zswpwb 0
direct_map_level2_splits 3
direct_map_level3_splits 0
nr_unstable 0
`;

/** `/proc/meminfo` of an idle 6.12 guest; the fields the agent reads are replaced. */
const MEMINFO_TEMPLATE = `MemTotal:         475180 kB
MemFree:          439748 kB
MemAvailable:     434316 kB
Buffers:               4 kB
Cached:             3016 kB
SwapCached:            0 kB
Active:             3180 kB
Inactive:              4 kB
Active(anon):       3180 kB
Inactive(anon):        0 kB
Active(file):          0 kB
Inactive(file):        4 kB
Unevictable:           0 kB
Mlocked:               0 kB
SwapTotal:        524284 kB
SwapFree:         524284 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:                 0 kB
Writeback:             0 kB
AnonPages:           120 kB
Mapped:             1664 kB
Shmem:              3016 kB
KReclaimable:        824 kB
Slab:               8904 kB
SReclaimable:        824 kB
SUnreclaim:         8080 kB
KernelStack:         960 kB
PageTables:          336 kB
SecPageTables:         0 kB
NFS_Unstable:          0 kB
Bounce:                0 kB
WritebackTmp:          0 kB
CommitLimit:      761872 kB
Committed_AS:       4028 kB
VmallocTotal:   34359738367 kB
VmallocUsed:        8588 kB
VmallocChunk:          0 kB
Percpu:              576 kB
HardwareCorrupted:     0 kB
AnonHugePages:         0 kB
ShmemHugePages:        0 kB
ShmemPmdMapped:        0 kB
FileHugePages:         0 kB
FilePmdMapped:         0 kB
Unaccepted:            0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:       28532 kB
DirectMap2M:      495616 kB
DirectMap1G:           0 kB
`;

const GIB = 1024 * 1024 * 1024;

/** Replaces the value of the `key` line (`key value` or `Key:   value kB`). */
function setLine(text: string, key: string, value: string): string {
  let start = 0;
  if (!text.startsWith(key)) {
    const at = text.indexOf("\n" + key);
    if (at === -1) throw new Error(`Template has no "${key}" line`);
    start = at + 1;
  }
  const end = text.indexOf("\n", start);
  return text.slice(0, start) + key + value + text.slice(end);
}

/** `/proc/vmstat` text with the given swap counters. */
export function vmstatText(swapInPages: number, swapOutPages: number): string {
  return setLine(
    setLine(VMSTAT_TEMPLATE, "pswpin ", String(swapInPages)),
    "pswpout ",
    String(swapOutPages),
  );
}

/** The value part of a meminfo line for bytes, laid out as the kernel does (`%-16s%8lu kB`). */
function kib(key: string, bytes: number): string {
  const line = `${key}:`.padEnd(16) + String(Math.floor(bytes / 1024)).padStart(8) + " kB";
  return line.slice(key.length + 1);
}

/** `/proc/meminfo` text with the memory and swap figures of `options`. */
export function meminfoText(options: FakeProcOptions = {}): string {
  const memTotal = options.memTotalBytes ?? 8 * GIB;
  const memAvailable = options.memAvailableBytes ?? memTotal / 2;
  const swapTotal = options.swapTotalBytes ?? 2 * GIB;
  const fields: [string, number][] = [
    ["MemTotal", memTotal],
    ["MemFree", options.memFreeBytes ?? memAvailable],
    ["MemAvailable", memAvailable],
    ["SwapTotal", swapTotal],
    ["SwapFree", options.swapFreeBytes ?? swapTotal],
  ];
  let text = MEMINFO_TEMPLATE;
  for (const [key, bytes] of fields) text = setLine(text, `${key}:`, kib(key, bytes));
  return text;
}

/**
 * Writes `text` to `path` atomically (temp file + rename), as readers may be polling.
 * Synchronous inside: much faster than two async ops for a tiny file.
 */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const temp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp`;
  Deno.writeTextFileSync(temp, text);
  Deno.renameSync(temp, path);
  return Promise.resolve();
}

/**
 * Writes a fake host `/proc` subset into `dir` (created if needed): `vmstat`, `meminfo`
 * and `pressure/memory`. Call again to move the counters on; each file is replaced
 * atomically, so an agent polling the directory never reads half a file.
 */
export async function writeProc(dir: string, options: FakeProcOptions = {}): Promise<void> {
  await Deno.mkdir(`${dir}/pressure`, { recursive: true });
  const fullAvg10 = options.fullAvg10Percent ?? 0;
  const fullTotal = options.fullTotalMicroseconds ?? 0;
  const some = {
    avg10Percent: options.someAvg10Percent ?? fullAvg10,
    totalMicroseconds: options.someTotalMicroseconds ?? fullTotal,
  };
  const full = options.pressureFullLine === false
    ? null
    : { avg10Percent: fullAvg10, totalMicroseconds: fullTotal };
  await Promise.all([
    writeFileAtomic(
      `${dir}/vmstat`,
      vmstatText(options.swapInPages ?? 0, options.swapOutPages ?? 0),
    ),
    writeFileAtomic(`${dir}/meminfo`, meminfoText(options)),
    writeFileAtomic(`${dir}/pressure/memory`, formatPressure(some, full)),
  ]);
}
