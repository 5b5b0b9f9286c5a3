/*
 * Workload for the VM suite: a process that puts its own cgroup under memory pressure.
 * Built on the host with `gcc -static -O2`. Modes:
 *   thrash  --mb M [--duration S]        working set of M MiB, rewritten cyclically
 *   leak    --start-mb M --rate-mb R     grows R MiB/s (touched once) + 8 MiB hot set
 *           [--step-mb N --step-s P]     … or N MiB at once every P s, paused between
 *           [--grow-s G]                 stops growing after G s (a ramp), then holds
 *   burst   --mb B --burst-mb X --burst-at S --burst-s T --duration S
 *                                        B MiB hot; at S s one excursion of X MiB for
 *                                        T s, freed again; quiet afterwards
 *   idle    --mb M [--duration S]        touches M MiB once, then sleeps
 * Common: --cgroup DIR   moves itself into DIR/cgroup.procs before allocating
 *         --marker FILE  state file: "running <ms> <MiB>", "terminating <ms>", "clean <ms>"
 *         --shutdown-ms N  on SIGTERM: flush + fsync the marker for N ms, then exit 0
 * Exit: 0 after a clean shutdown or when the duration ends; killed otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define PAGE 4096UL

static volatile sig_atomic_t term_requested = 0;
static const char *marker_path = NULL;
static int marker_fd = -1;
static long shutdown_ms = 2000;
static struct timespec t0;

static void on_term(int sig) {
  (void)sig;
  term_requested = 1;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) == -1 && errno == EINTR && !term_requested) {
  }
}

static void marker(const char *fmt, long a, long b) {
  if (marker_fd < 0) return;
  char buf[128];
  int n = snprintf(buf, sizeof buf, fmt, a, b);
  if (pwrite(marker_fd, buf, (size_t)n, 0) < 0) return;
  if (ftruncate(marker_fd, n) < 0) return;
}

static void clean_shutdown(void) {
  marker("terminating %ld\n", now_ms(), 0);
  fsync(marker_fd);
  /* "flush": write some state in steps, fsync each, for shutdown_ms */
  long end = now_ms() + shutdown_ms;
  char block[4096];
  memset(block, 'f', sizeof block);
  int fd = -1;
  if (marker_path) {
    char p[512];
    snprintf(p, sizeof p, "%s.flush", marker_path);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  while (now_ms() < end) {
    if (fd >= 0 && write(fd, block, sizeof block) < 0) break;
    if (fd >= 0) fsync(fd);
    struct timespec t = {0, 100000000L};
    nanosleep(&t, NULL);
  }
  if (fd >= 0) close(fd);
  marker("clean %ld\n", now_ms(), 0);
  fsync(marker_fd);
  _exit(0);
}

static char *alloc(size_t bytes) {
  char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(3);
  }
  madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

/* Rewrite 512 B of each page (compressible but not same-filled). */
static unsigned char gen = 1;
static int touch(char *p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += PAGE) {
    memset(p + off, gen, 512);
    p[off + 600] = (char)(off >> 12);
    if (((off / PAGE) & 255) == 0 && term_requested) return 1;
  }
  gen++;
  return 0;
}

int main(int argc, char **argv) {
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const char *mode = "idle", *cg = NULL;
  long mb = 64, duration = 0, start_mb = 16, rate_mb = 4, burst_mb = 100, burst_at = 3,
       burst_s = 3, step_mb = 0, step_s = 3, grow_s = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--mode")) mode = v;
    else if (!strcmp(k, "--cgroup")) cg = v;
    else if (!strcmp(k, "--marker")) marker_path = v;
    else if (!strcmp(k, "--shutdown-ms")) shutdown_ms = atol(v);
    else if (!strcmp(k, "--mb")) mb = atol(v);
    else if (!strcmp(k, "--duration")) duration = atol(v);
    else if (!strcmp(k, "--start-mb")) start_mb = atol(v);
    else if (!strcmp(k, "--rate-mb")) rate_mb = atol(v);
    else if (!strcmp(k, "--burst-mb")) burst_mb = atol(v);
    else if (!strcmp(k, "--burst-at")) burst_at = atol(v);
    else if (!strcmp(k, "--burst-s")) burst_s = atol(v);
    else if (!strcmp(k, "--step-mb")) step_mb = atol(v);
    else if (!strcmp(k, "--step-s")) step_s = atol(v);
    else if (!strcmp(k, "--grow-s")) grow_s = atol(v);
    else {
      fprintf(stderr, "workload: unknown flag %s\n", k);
      return 2;
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  if (marker_path) marker_fd = open(marker_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (cg) {
    char p[512], pid[32];
    snprintf(p, sizeof p, "%s/cgroup.procs", cg);
    int fd = open(p, O_WRONLY);
    int n = snprintf(pid, sizeof pid, "%d\n", getpid());
    if (fd < 0 || write(fd, pid, (size_t)n) != n) {
      perror("cgroup.procs");
      return 4;
    }
    close(fd);
  }
  marker("running %ld %ld\n", now_ms(), 0);
  long last_mark = 0;
  long deadline = duration > 0 ? duration * 1000L : -1;

  if (!strcmp(mode, "thrash")) {
    size_t bytes = (size_t)mb * MIB;
    char *p = alloc(bytes);
    while (!term_requested && (deadline < 0 || now_ms() < deadline)) {
      if (touch(p, bytes)) break;
      if (now_ms() - last_mark >= 1000) {
        last_mark = now_ms();
        marker("running %ld %ld\n", last_mark, mb);
      }
    }
  } else if (!strcmp(mode, "leak")) {
    size_t hot_bytes = 8 * MIB;
    char *hot = alloc(hot_bytes);
    touch(hot, hot_bytes);
    long total = 8;
    if (start_mb > 8) {
      char *q = alloc((size_t)(start_mb - 8) * MIB);
      touch(q, (size_t)(start_mb - 8) * MIB);
      total = start_mb;
    }
    /* Steady: 1 MiB every 1/R s. Stepped: N MiB at once every P s. */
    long chunk_mb = step_mb > 0 ? step_mb : 1;
    long step_ms = step_mb > 0 ? step_s * 1000L : (rate_mb > 0 ? 1000 / rate_mb : 1000);
    long grow_until = grow_s > 0 ? now_ms() + grow_s * 1000L : -1;
    long next = now_ms();
    while (!term_requested && (deadline < 0 || now_ms() < deadline)) {
      if (grow_until < 0 || now_ms() < grow_until) {
        char *q = alloc((size_t)chunk_mb * MIB);
        touch(q, (size_t)chunk_mb * MIB);
        total += chunk_mb;
      }
      touch(hot, hot_bytes);
      next += step_ms;
      long d = next - now_ms();
      if (d > 0) sleep_ms(d);
      if (now_ms() - last_mark >= 1000) {
        last_mark = now_ms();
        marker("running %ld %ld\n", last_mark, total);
      }
    }
  } else if (!strcmp(mode, "burst")) {
    size_t bytes = (size_t)mb * MIB;
    char *p = alloc(bytes);
    touch(p, bytes);
    int burst_done = 0;
    while (!term_requested && (deadline < 0 || now_ms() < deadline)) {
      if (!burst_done && now_ms() >= burst_at * 1000L) {
        size_t xb = (size_t)burst_mb * MIB;
        char *x = alloc(xb);
        long until = now_ms() + burst_s * 1000L;
        do {
          if (touch(x, xb)) break;
        } while (now_ms() < until && !term_requested);
        munmap(x, xb);
        burst_done = 1;
      }
      touch(p, bytes);
      sleep_ms(1000);
      last_mark = now_ms();
      marker("running %ld %ld\n", last_mark, mb);
    }
  } else { /* idle */
    size_t bytes = (size_t)mb * MIB;
    char *p = alloc(bytes);
    touch(p, bytes);
    marker("running %ld %ld\n", now_ms(), mb);
    while (!term_requested && (deadline < 0 || now_ms() < deadline)) sleep_ms(500);
  }
  if (term_requested) clean_shutdown();
  marker("done %ld %ld\n", now_ms(), 0);
  fsync(marker_fd);
  return 0;
}
