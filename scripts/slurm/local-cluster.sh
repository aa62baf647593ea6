#!/bin/sh
# local-cluster.sh — a private one-node Slurm cluster on 127.0.0.1, for trying
# `make sweep-slurm` on one machine and for tests/e2e_slurm.sh.
#
#   sh scripts/slurm/local-cluster.sh start DIR [OWNER_PID [MAX_SECONDS]]
#   export SLURM_CONF=DIR/slurm.conf      # then sbatch, squeue, make sweep-slurm
#   sh scripts/slurm/local-cluster.sh stop DIR
#
# `start` writes DIR/slurm.conf (node "localhost", up to 2 CPUs, 4 GiB, one
# partition "debug"; two free ports on 127.0.0.1; state, spool and logs in
# DIR), starts munged (its own key and socket in DIR), slurmctld and slurmd,
# and returns once sinfo shows the node idle (at most 60 s). A watchdog stops
# everything when OWNER_PID exits (even by SIGKILL) or after MAX_SECONDS
# (default 1800). `stop` cancels the cluster's jobs, stops the daemons it
# started (by the process ids in DIR), then kills any process still carrying
# this cluster's SLURM_CONF (a job's leftovers). Needs root (slurmd launches
# jobs), Debian's slurm-wlm and munge. Exit status: 0; 77 cannot run here
# (not root, no Slurm); 1 the cluster did not come up (logs in DIR).
set -u
cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: local-cluster.sh start|stop DIR [OWNER_PID [MAX_SECONDS]]" >&2; exit 2; }
case "$dir" in /*) ;; *) dir=$(pwd)/$dir ;; esac
conf=$dir/slurm.conf
# given to each Slurm command explicitly: this script's own helpers never carry it
unset SLURM_CONF

# this shell and its ancestors, never to be killed
ancestors() {
  p=$$
  while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null; do
    echo "$p"
    p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
  done
}

# processes started by this cluster: the daemons, the job steps and the jobs
# all carry SLURM_CONF=$conf in their environment
cluster_pids() {
  mine=" $(ancestors | tr '\n' ' ') "
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    case "$mine" in *" $p "*) continue ;; esac
    { tr '\0' '\n' < "$e"; } 2>/dev/null | grep -qx "SLURM_CONF=$conf" && echo "$p"
  done
}

# kill PIDS: TERM, up to 10 s, then KILL
stop_pids() {
  [ -n "$*" ] || return 0
  kill "$@" 2>/dev/null
  t=0
  while [ $t -lt 100 ]; do
    alive=""
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && return 0
    sleep 0.1
    t=$((t + 1))
  done
  kill -KILL $alive 2>/dev/null
}

stop() {
  if [ -f "$conf" ] && [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    SLURM_CONF=$conf scancel --user="$(id -un)" >/dev/null 2>&1
    t=0
    while [ $t -lt 50 ] && [ -n "$(SLURM_CONF=$conf squeue -h 2>/dev/null)" ]; do sleep 0.2; t=$((t + 1)); done
  fi
  [ -f "$dir/watchdog.pid" ] && { kill "$(cat "$dir/watchdog.pid")" 2>/dev/null; rm -f "$dir/watchdog.pid"; }
  for d in slurmd slurmctld munged; do
    [ -f "$dir/$d.pid" ] && stop_pids "$(cat "$dir/$d.pid")"
    rm -f "$dir/$d.pid"
  done
  # job steps outlive slurmd (slurmstepd is reparented): whatever still carries this cluster's SLURM_CONF
  left=$(cluster_pids)
  [ -n "$left" ] && stop_pids $left
  return 0
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "local-cluster.sh: unknown command '$cmd' (start or stop)" >&2; exit 2; }
owner=${3:-}
max_s=${4:-1800}

[ "$(id -u)" = 0 ] || { echo "local-cluster.sh: needs root (slurmd launches the jobs)"; exit 77; }
for t in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] ||
    { echo "local-cluster.sh: $t not found (apt-get install slurm-wlm munge)"; exit 77; }
done
export PATH="$PATH:/usr/sbin"

mkdir -p "$dir/state" "$dir/spool/localhost" "$dir/munge" "$dir/key"
# munged insists: the socket's directories searchable by all, the key private
chmod 755 "$dir" "$dir/munge"
chmod 700 "$dir/key" "$dir/state"
dd if=/dev/urandom of="$dir/key/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/key/munge.key"

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' && return
  fi
  while :; do
    p=$(awk -v s="$$$(date +%N)" 'BEGIN { srand(s % 1000000); print 20000 + int(rand() * 40000) }')
    ss -ltn 2>/dev/null | grep -q ":$p " || { echo "$p"; return; }
  done
}
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$slurmd_port" = "$ctld_port" ] && slurmd_port=$((ctld_port + 1))
cpus=$(nproc 2>/dev/null || echo 1)
[ "$cpus" -gt 2 ] && cpus=2
# what the scheduler hands out (nothing enforces it here): up to 4 GiB, below the machine's
mem_mb=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 512; print (m < 4096 ? m : 4096) }' /proc/meminfo)

cat > "$conf" <<EOF
# a private one-node cluster written by scripts/slurm/local-cluster.sh
ClusterName=attnbench-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_min_interval=100000
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

munged --foreground --key-file="$dir/key/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.daemon.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
  >"$dir/munged.out" 2>&1 &
echo $! > "$dir/munged.pid"
t=0
while [ $t -lt 100 ] && [ ! -S "$dir/munge/munge.sock" ]; do sleep 0.1; t=$((t + 1)); done
[ -S "$dir/munge/munge.sock" ] || { echo "local-cluster.sh: munged did not start:"; cat "$dir/munged.out" "$dir/munged.log" 2>/dev/null; stop; exit 1; }
SLURM_CONF=$conf slurmctld -D -c >"$dir/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
SLURM_CONF=$conf slurmd -D -N localhost >"$dir/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"

# the watchdog: nothing of this cluster outlives its owner or MAX_SECONDS
if [ -n "$owner" ]; then
  (
    trap - INT TERM
    s=0
    while [ $s -lt "$max_s" ] && kill -0 "$owner" 2>/dev/null; do sleep 1; s=$((s + 1)); done
    rm -f "$dir/watchdog.pid"
    sh "$0" stop "$dir" >/dev/null 2>&1
  ) </dev/null >/dev/null 2>&1 &
  echo $! > "$dir/watchdog.pid"
fi

t=0
while [ $t -lt 300 ]; do
  state=$(SLURM_CONF=$conf sinfo -h -n localhost -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  for d in slurmctld slurmd; do
    kill -0 "$(cat "$dir/$d.pid")" 2>/dev/null || { echo "local-cluster.sh: $d exited:"; tail -n 20 "$dir/$d.out"; stop; exit 1; }
  done
  sleep 0.2
  t=$((t + 1))
done
if [ "${state:-}" != idle ]; then
  echo "local-cluster.sh: the node is not idle after 60 s (state '${state:-}'); logs in $dir"
  tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" 2>/dev/null
  stop
  exit 1
fi
echo "local-cluster.sh: up: node localhost ($cpus CPUs, $mem_mb MB), partition debug, 127.0.0.1:$ctld_port; export SLURM_CONF=$conf"
