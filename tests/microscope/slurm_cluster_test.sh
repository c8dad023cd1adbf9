#!/bin/bash
# A one-node SLURM cluster (Debian's munge, slurmctld, slurmd, slurm-client) started here,
# without systemd, in a temporary directory, running a sharded Microscope build:
#   1. the dataset-examples step as one job, then `sbatch --array=0-3 --wait` depending on
#      it; `featvis microscope finalize`; the site equals a one-process build byte for byte;
#   2. fault: scancel one array task mid-build, `sbatch --array=K` of the same script,
#      finalize: nothing lost or corrupt, the site equals the uninterrupted one.
# Daemons are stopped by their PIDs on any exit. Exit 77 (CTest skip) without the SLURM
# binaries, root, or the real model in ../shared.
#
# usage: slurm_cluster_test.sh FEATVIS_BINARY [SOURCE_DIR]
set -euo pipefail
FEATVIS=$(realpath "$1")
SOURCE=$(realpath "${2:-.}")
skip() { echo "SKIP: $*"; exit 77; }
for b in munged slurmctld slurmd sbatch scancel squeue; do command -v "$b" >/dev/null || skip "$b not installed (scripts/setup.sh)"; done
[ "$(id -u)" = 0 ] || skip "slurmd must run as root"
MODEL="$SOURCE/../shared/models/darknet_tiny_imagenet.onnx"
PHOTOS_SRC="$SOURCE/../shared/images/imagenet-samples"
[ -f "$MODEL" ] && [ -d "$PHOTOS_SRC" ] || skip "darknet_tiny or the sample photos not in ../shared"

T=$(mktemp -d /tmp/featvis-slurm.XXXXXX)
chmod 755 "$T"
PIDS=()
CLUSTER_CONF=
cleanup() {
  local rc=$?
  # Jobs of this cluster first (slurmstepd outlives slurmd), then the daemons.
  # Only this test's private cluster (CLUSTER_CONF is set once its slurm.conf exists).
  if [ -n "${CLUSTER_CONF:-}" ] && [ -n "$(SLURM_CONF=$CLUSTER_CONF squeue -h 2>/dev/null)" ]; then
    SLURM_CONF=$CLUSTER_CONF scancel --full $(SLURM_CONF=$CLUSTER_CONF squeue -h -o %i) 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(SLURM_CONF=$CLUSTER_CONF squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ $rc != 0 ] && [ $rc != 77 ]; then
    echo "--- logs (test failed, rc=$rc)"
    tail -n 20 "$T"/*.log "$T"/out/*.out 2>/dev/null || true
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
T0=$(now)

# --- munge: its own key and socket, so nothing clashes with a system munged.
mkdir -p "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 755 "$T/munge"; chmod 400 "$T/munge/munge.key"
munged --force --foreground --key-file="$T/munge/munge.key" --socket="$T/munge/socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge/seed" 2>>"$T/munged.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/munge/socket" ] && break; sleep 0.1; done
[ -S "$T/munge/socket" ] || fail "munged did not start"

# --- slurm.conf: ports from this shell's PID, so parallel runs rarely meet.
NODE=$(hostname -s)
PORT=$((20000 + ($$ % 20000) * 2))
mkdir -p "$T/state" "$T/spool" "$T/out"
cat > "$T/slurm.conf" <<CONF
ClusterName=featvis
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
PlugStackConfig=$T/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MinJobAge=5
ReturnToService=2
MpiDefault=none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
: > "$T/plugstack.conf"
CLUSTER_CONF="$T/slurm.conf"
export SLURM_CONF="$CLUSTER_CONF"
slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$T/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.1
done
sinfo -h -o %T | grep -qx idle || fail "the node did not come up: $(sinfo 2>&1 | tail -1)"
printf 'cluster up in %.1f s\n' "$(echo "$(now) - $T0" | bc)"

# --- the build: 2 layers x 8 units, batches of 2 (10 work items for 4 shards). 48 steps, so
# that a shard still has about a second of rendering left when the fault below (2) cancels
# it half a second after it starts writing: at 16 steps a shard could end first.
mkdir -p "$T/photos"
for f in $(ls "$PHOTOS_SRC"/*.JPEG | head -6); do ln -s "$f" "$T/photos/"; done
export OMP_NUM_THREADS=1 FEATVIS_MODEL_PATH="$SOURCE/../shared/models"
ARGS=(microscope build darknet_tiny --layers leaky_re_lu_1,leaky_re_lu_4 --units 8 --batch 2 --steps 48 --size 64
      --diversity 2 --threads 1 -q --images "$T/photos")

# The job scripts a user would write (docs/MICROSCOPE_AT_SCALE.md): one examples step,
# one array whose index is the shard (--shard-count, so one index can be resubmitted).
write_jobs() {  # SITE
  cat > "$T/examples.sh" <<JOB
#!/bin/bash
exec "$FEATVIS" ${ARGS[*]} --out "$1" --examples-only
JOB
  cat > "$T/shard.sh" <<JOB
#!/bin/bash
exec "$FEATVIS" ${ARGS[*]} --out "$1" --shard-count 4
JOB
  chmod +x "$T/examples.sh" "$T/shard.sh"
}

"$FEATVIS" "${ARGS[@]}" --out "$T/one" >/dev/null || fail "the one-process build failed"
printf 'one-process build done at %.1f s\n' "$(echo "$(now) - $T0" | bc)"

# 1. examples step, then the array as its dependency; --wait returns when the array ends.
write_jobs "$T/site"
EX=$(sbatch --parsable -o "$T/out/examples.out" "$T/examples.sh")
sbatch --wait --dependency=afterok:"$EX" --array=0-3 --cpus-per-task=1 -o "$T/out/task-%a.out" "$T/shard.sh" \
  >/dev/null || fail "sbatch --array=0-3 --wait failed"
for k in 0 1 2 3; do
  grep -q "shard $k/4 (from SLURM_ARRAY_TASK_ID) done" "$T/out/task-$k.out" || fail "task $k did not report its shard"
done
[ ! -e "$T/site/darknet_tiny/manifest.json" ] || fail "a shard wrote the manifest"
"$FEATVIS" microscope finalize "$T/site" >/dev/null || fail "finalize failed"
diff -r "$T/one" "$T/site" >/dev/null || fail "the sharded site differs: $(diff -rq "$T/one" "$T/site" | head -3)"
[ "$(find "$T/site" -name unit.json | wc -l)" = 16 ] || fail "not 16 units"
printf 'array of 4 + finalize equal to one process at %.1f s\n' "$(echo "$(now) - $T0" | bc)"

# 2. fault: cancel task 1 once it is running, resubmit index 1, finalize.
write_jobs "$T/fault"
EX=$(sbatch --parsable -o "$T/out/fexamples.out" "$T/examples.sh")
JOB=$(sbatch --parsable --dependency=afterok:"$EX" --array=0-3 --cpus-per-task=1 -o "$T/out/fault-%a.out" "$T/shard.sh")
for _ in $(seq 600); do
  [ "$(squeue -h -j "${JOB}_1" -o %T 2>/dev/null)" = RUNNING ] && [ -e "$T/fault/darknet_tiny/build.json" ] && break
  sleep 0.05
done
[ "$(squeue -h -j "${JOB}_1" -o %T)" = RUNNING ] || fail "task 1 never ran"
sleep 0.5
scancel "${JOB}_1"
for _ in $(seq 600); do [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break; sleep 0.2; done
if "$FEATVIS" microscope finalize "$T/fault" >"$T/out/partial.txt" 2>&1; then
  fail "finalize found nothing missing after task 1 was cancelled"
fi
grep -q "^missing: " "$T/out/partial.txt" || fail "finalize listed nothing missing"
sbatch --wait --array=1 -o "$T/out/rerun.out" "$T/shard.sh" >/dev/null || fail "resubmitting index 1 failed"
grep -q "shard 1/4 (from SLURM_ARRAY_TASK_ID) done" "$T/out/rerun.out" || fail "the rerun was not shard 1/4"
"$FEATVIS" microscope finalize "$T/fault" >/dev/null || fail "finalize after the rerun failed"
diff -r "$T/one" "$T/fault" >/dev/null || fail "the repaired site differs: $(diff -rq "$T/one" "$T/fault" | head -3)"
printf 'cancelled task, resubmitted index, finalize equal at %.1f s\n' "$(echo "$(now) - $T0" | bc)"
echo PASS
