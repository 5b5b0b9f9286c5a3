#!/bin/busybox sh
# PID 1 of the VM suite's guest: mounts, modules, zram swap, the Deno disk, the host
# view (/host/proc, /host/sys/fs/cgroup), then the scenario driver; results go to the
# second disk as a tar, then the VM powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /out && mount -t tmpfs tmpfs /out
echo "@@E2E@@ init $(cat /proc/uptime)"

for m in $(cat /modules/order); do
  insmod /modules/$m.ko 2>/dev/null || echo "@@E2E@@ insmod $m failed"
done

ip link set lo up
ip addr add 127.0.0.1/8 dev lo 2>/dev/null

SCEN=thrash; TRACE=0; SWAPSIZE=512M; SWAPDEV=; AGENTFLAGS=
for w in $(cat /proc/cmdline); do
  case "$w" in
    e2e.scenario=*) SCEN=${w#e2e.scenario=} ;;
    e2e.trace=*) TRACE=${w#e2e.trace=} ;;
    e2e.swap=*) SWAPSIZE=${w#e2e.swap=} ;;
    e2e.swapdev=*) SWAPDEV=${w#e2e.swapdev=} ;;
    e2e.agentflags=*) AGENTFLAGS=${w#e2e.agentflags=} ;;
  esac
done

if [ -n "$SWAPDEV" ]; then
  # swap on a virtio disk (the host opens it with cache=none): real I/O latency
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /dev/$SWAPDEV ] && break; sleep 0.2; done
  mkswap /dev/$SWAPDEV >/dev/null && swapon /dev/$SWAPDEV || echo "@@E2E@@ swap failed"
else
  # zram swap
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/block/zram0 ] && break; sleep 0.2; done
  echo "$SWAPSIZE" > /sys/block/zram0/disksize
  mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || echo "@@E2E@@ swap failed"
fi

# Deno disk (qemu snapshot=on: writes are thrown away)
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /dev/vda ] && break; sleep 0.2; done
mount -t ext4 /dev/vda /disk || echo "@@E2E@@ mount /dev/vda failed"

# the real servers' root (third disk, when the scenario has one; snapshot=on as well)
if [ -e /dev/vdc ] && [ "$SWAPDEV" != vdc ]; then
  mkdir -p /srv && mount -t ext4 /dev/vdc /srv || echo "@@E2E@@ mount /dev/vdc failed"
fi

# the host view the agent's permission set allows
mkdir -p /host/proc /host/sys/fs/cgroup
mount --bind /proc /host/proc
mount --bind /sys/fs/cgroup /host/sys/fs/cgroup
mount -o remount,bind,ro /host/sys/fs/cgroup 2>/dev/null

mkdir -p /tmp/home
export HOME=/tmp/home DENO_DIR=/disk/deno_dir NO_COLOR=1
export LD_LIBRARY_PATH=/disk/sysroot/lib/x86_64-linux-gnu
echo "@@E2E@@ driver start $(cat /proc/uptime) swap=$(grep SwapTotal /proc/meminfo)"
cd /disk/app
/disk/deno/deno run -A --cached-only tests/vm/guest/node.ts --scenario "$SCEN" --trace "$TRACE" --out /out \
  --agent-deno-flags "$AGENTFLAGS"
echo "@@E2E@@ driver exit $? $(cat /proc/uptime)"
dmesg > /out/dmesg.txt
tar -cf /dev/vdb -C /out . && sync
echo "@@E2E@@ done"
reboot -f
