#!/bin/bash
# Runs inside the debootstrapped bookworm root (chroot on the host, native speed) once per
# build: a PostgreSQL 15 cluster with a pgbench data set and a Redis 7 data dir, configured
# for the VM suite's real-server scenarios. The guest never has network; everything it
# needs is made here.
set -euo pipefail
PG=/usr/lib/postgresql/15/bin
SCALE=${PGBENCH_SCALE:-20}

# PostgreSQL: the cluster the scenarios start (not Debian's pg_createcluster one).
rm -rf /data/pg && mkdir -p /data/pg && chown postgres:postgres /data/pg
runuser -u postgres -- $PG/initdb -D /data/pg -E UTF8 --locale=C -A trust --no-sync >/dev/null
cat >>/data/pg/postgresql.conf <<'CONF'
# kube-soomkiller VM suite: a buffer pool far above the container's memory.max, so the
# server warms up into swap; the plateau is where the touched part of the data set ends.
shared_buffers = 1GB
huge_pages = off
dynamic_shared_memory_type = mmap
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
max_connections = 60
synchronous_commit = off
autovacuum = off
checkpoint_timeout = 30min
max_wal_size = 2GB
logging_collector = off
log_line_prefix = '%m [%p] '
log_checkpoints = off
CONF
runuser -u postgres -- $PG/pg_ctl -D /data/pg -l /tmp/prep-pg.log -w start >/dev/null
runuser -u postgres -- $PG/pgbench -h 127.0.0.1 -i -q -s "$SCALE" postgres >/dev/null 2>&1
runuser -u postgres -- $PG/psql -h 127.0.0.1 -Atc \
  "select 'pgbench data set: ' || pg_size_pretty(pg_database_size('postgres'))" postgres
runuser -u postgres -- $PG/pg_ctl -D /data/pg -m fast -w stop >/dev/null
# The read side of the benchmark: short range scans over pgbench_accounts (8 pages each),
# next to pgbench's own TPC-B-like writes, so the buffer pool warms up within minutes
# under TCG instead of hours.
cat >/data/range.sql <<SQL
\set a random(1, $((SCALE * 100000 - 500)))
SELECT sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN :a AND :a + 500;
SQL
chmod 644 /data/range.sql

# Redis: append-only file on, RDB snapshot on shutdown (a save point is configured).
rm -rf /data/redis && mkdir -p /data/redis && chown redis:redis /data/redis
cat >/etc/redis/e2e.conf <<'CONF'
bind 127.0.0.1
port 6379
protected-mode no
daemonize no
supervised no
dir /data/redis
logfile ""
loglevel notice
appendonly yes
appendfsync everysec
# No automatic AOF rewrite: its fork makes Redis' writes copy-on-write, and the copies come
# in bursts (measured: 10 MiB/s of swap for 20 s at a time, peak 362 MiB of 512) that this
# scenario is not about; the append-only file grows on the image's free space instead.
auto-aof-rewrite-percentage 0
save 3600 1
maxmemory 0
io-threads 1
CONF
chown redis:redis /etc/redis/e2e.conf
# Redis with persistence as operators run it: the RDB save points Redis ships
# (save 3600 1 300 100 60 10000) and the append-only file with its automatic rewrite
# (auto-aof-rewrite-percentage 100, min size 64mb): both fork, and the child's copy-on-write
# copies are charged to the container.
sed -e 's/^auto-aof-rewrite-percentage 0$/auto-aof-rewrite-percentage 100\nauto-aof-rewrite-min-size 64mb/' \
  -e 's/^save 3600 1$/save 3600 1 300 100 60 10000/' \
  -e 's/^# No automatic AOF rewrite.*$/# persistence as shipped (see prepare.sh)/' \
  -e '/^# in bursts (measured/d' -e '/^# scenario is not about/d' \
  /etc/redis/e2e.conf >/etc/redis/persist.conf
chown redis:redis /etc/redis/persist.conf
# The servers' programs and the libraries they load: the guest reads them once outside the
# pod before it starts a server, so their page cache is charged to the root cgroup, as for
# the synthetic workload (without it a pod at its limits livelocks re-reading its own text
# for minutes instead of being OOM-killed).
for b in $PG/postgres $PG/pgbench /usr/bin/redis-server /usr/bin/redis-benchmark; do
  readlink -f "$b"
  ldd "$b" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | xargs -r readlink -f
done | sort -u >/data/preload.list
echo "preload: $(wc -l </data/preload.list) files"
echo "prepared"
