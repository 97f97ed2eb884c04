#!/usr/bin/env bash
# Tests tools/slurm/train_supernet.sbatch against a real Slurm: a one-node cluster on this
# machine (slurmctld, slurmd and munged from Debian's packages, started here with their own
# configuration, state and sockets under a temporary directory, and stopped at the end).
#
#   tools/slurm/test_local_slurm.sh [BUILD_DIR]     (as root; BUILD_DIR defaults to build)
#
# With the tiny space on CPU, two tasks per job:
#   1. a job trains to the end: COMPLETED, exit 0, every step logged once;
#   2. `scancel --signal=TERM --full` mid-run: an interrupt checkpoint at the step reached,
#      the job ends with exit code 75 and is not requeued;
#   3. a plain `scancel` mid-run (a user's cancel): the run continues from job 2's
#      checkpoint, writes another at the step reached, ends CANCELLED, no requeue;
#   4. a job with a one-minute time limit requeues itself until the run is done, and its
#      validation results equal job 1's bit for bit (the same weights);
#   5. a 2-task `edgeloop search` job (tools/slurm/edgeloop.sbatch search) over job 1's
#      supernet, stopped by `scancel --signal=TERM --full` after some generations, exits 75;
#      the same command submitted again continues the saved search to the end, every
#      generation logged once.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EDGELOOP=$PWD/$BUILD/tools/edgeloop
START=$SECONDS
fail() { echo "test_local_slurm: FAIL: $*" >&2; exit 1; }
say() { echo "test_local_slurm [$((SECONDS - START)) s]: $*"; }

[[ $(id -u) == 0 ]] || fail "run as root (it starts slurmd and munged)"
[[ -x $EDGELOOP ]] || fail "$EDGELOOP is missing: build the edgeloop target first"
[[ -f $PWD/$BUILD/tools/slurm/libedgeloop_srun_term_shield.so ]] ||
  fail "$BUILD/tools/slurm/libedgeloop_srun_term_shield.so is missing: build the edgeloop target"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
   ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi

W=$(mktemp -d /tmp/edgeloop-slurm.XXXXXX)
chmod 755 "$W"  # munged wants its socket's directory reachable by all
mkdir -p "$W/ctld" "$W/spool" "$W/runs"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  export SLURM_CONF=$W/slurm.conf
  scancel --quiet --full --signal=KILL --user=root 2>/dev/null || true
  for d in slurmd slurmctld munged; do
    [[ -f $W/$d.pid ]] && kill "$(cat "$W/$d.pid")" 2>/dev/null || true
  done
  sleep 1
  if (( rc != 0 )); then
    echo "--- the cluster's logs (kept in $W) ---" >&2
    tail -n 20 "$W"/slurmctld.log "$W"/slurmd.log "$W"/runs/*.out >&2 2>/dev/null || true
  else
    rm -rf "$W"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a one-node cluster ------------------------------------------------------------
say "starting munged, slurmctld and slurmd in $W"
mungekey --create --keyfile="$W/munge.key" >/dev/null
chmod 600 "$W/munge.key"
munged --socket="$W/munge.socket" --key-file="$W/munge.key" --pid-file="$W/munged.pid" \
  --log-file="$W/munged.log" --seed-file="$W/munge.seed"
HOST=$(hostname -s)
MEMORY=$(slurmd -C | grep -o 'RealMemory=[0-9]*' | cut -d= -f2)
PORT=$((17000 + RANDOM % 900))
cat > "$W/slurm.conf" <<CONF
ClusterName=edgeloop-test
SlurmctldHost=${HOST}(127.0.0.1)
SlurmctldPort=${PORT}
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire also delays a requeued job's restart (120 s by default).
AuthInfo=socket=${W}/munge.socket,cred_expire=5
CredType=cred/munge
StateSaveLocation=${W}/ctld
SlurmdSpoolDir=${W}/spool
SlurmctldPidFile=${W}/slurmctld.pid
SlurmdPidFile=${W}/slurmd.pid
SlurmctldLogFile=${W}/slurmctld.log
SlurmdLogFile=${W}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
KillWait=30
MinJobAge=600
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=${MEMORY} State=UNKNOWN
PartitionName=edgeloop Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$W/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up: $(sinfo 2>&1)"
say "cluster up: $(sinfo -h -o '%P %D node(s) %c CPUs %T')"

# ---- helpers ----------------------------------------------------------------------------
DATA=$W/lpbf.h5
"$EDGELOOP" data synth --out "$DATA" --objects C027 --layers 2 --lines-per-layer 8 \
  --frame-size 32 --seed 5 >/dev/null 2>&1
STEPS=900
train_args() {  # RUN_DIR STEPS
  echo --data "$DATA" --train-split 'C027:layers[0:50%]' --val-split 'C027:layers[50%:100%]' \
    --val-samples 8 --out "$1" --steps "$2" --batch-size 4 --seed 3 --workers 1 --log-every 1 --quiet
}
submit() {  # NAME SBATCH_OPTIONS... -- TRAIN_ARGS...
  submit_script tools/slurm/train_supernet.sbatch "$@"
}
submit_script() {  # SCRIPT NAME SBATCH_OPTIONS... -- ARGS...
  local script=$1 name=$2; shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  EDGELOOP=$EDGELOOP SPACE=supernet/spaces/tiny.textproto \
    sbatch --parsable --job-name="$name" --ntasks=2 --output="$W/runs/$name-%j.out" "${opts[@]}" \
    "$script" "$@"
}
field() { scontrol show job -o "$1" | grep -o "$2=[^ ]*" | cut -d= -f2; }
wait_done() {  # JOB TIMEOUT_S: waits for the job's final state and prints it
  local state
  for _ in $(seq $(($2 * 2))); do
    state=$(field "$1" JobState)
    case $state in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|PREEMPTED|OUT_OF_MEMORY)
      echo "$state"; return;;
    esac
    sleep 0.5
  done
  fail "job $1 still $state after $2 s"
}
logged_steps() { grep -o '"step":[0-9]*,"epoch"' "$1/log.jsonl" | grep -o '[0-9]*'; }
wait_logged() {  # RUN_DIR LINES
  for _ in $(seq 240); do
    [[ -f $1/log.jsonl ]] && (( $(logged_steps "$1" | wc -l) >= $2 )) && return
    sleep 0.25
  done
  fail "$1 logged fewer than $2 steps in 60 s"
}
checkpoint_step() { local c; c=$(cat "$1/checkpoints/latest"); c=${c#ckpt-}; echo $((10#${c%.pt})); }
expect_each_step_once() {  # RUN_DIR LAST_STEP
  local want got
  want=$(seq 1 "$2" | tr '\n' ' ')
  got=$(logged_steps "$1" | tr '\n' ' ')
  [[ $got == "$want" ]] || fail "$1/log.jsonl does not hold steps 1..$2 once each: $(logged_steps "$1" | uniq -d | head -3 | tr '\n' ' ')"
}
val_results() { grep -o '"val":{.*}' "$1/summary.json" | sed 's/,"mean_predictor_mse".*//'; }

# ---- 1. a job trains to the end ------------------------------------------------------
RUN1=$W/runs/straight
job=$(submit straight -- $(train_args "$RUN1" "$STEPS"))
state=$(wait_done "$job" 300)
[[ $state == COMPLETED && $(field "$job" ExitCode) == 0:0 ]] ||
  fail "job 1: $state, exit $(field "$job" ExitCode)"
expect_each_step_once "$RUN1" "$STEPS"
say "1. a 2-task job trained $STEPS steps: COMPLETED, exit 0:0"

# ---- 2. scancel --signal=TERM --full mid-run ---------------------------------------------
RUN2=$W/runs/signalled
job=$(submit signalled -- $(train_args "$RUN2" 100000))
wait_logged "$RUN2" 20
scancel --signal=TERM --full "$job"
state=$(wait_done "$job" 120)
exit_code=$(field "$job" ExitCode)
[[ $exit_code == 75:0 ]] || fail "job 2: $state, exit $exit_code (want 75: interrupted)"
reached=$(logged_steps "$RUN2" | tail -n 1)
[[ $(checkpoint_step "$RUN2") == "$reached" ]] ||
  fail "job 2: checkpoint at step $(checkpoint_step "$RUN2"), the run reached $reached"
grep -q "not requeued" "$W"/runs/signalled-"$job".out || fail "job 2 was requeued"
say "2. scancel --signal=TERM --full: checkpoint at step $reached (the step reached), exit 75, not requeued"

# ---- 3. a user's plain scancel -------------------------------------------------------------
job=$(submit cancelled -- $(train_args "$RUN2" 100000))
wait_logged "$RUN2" $((reached + 20))
scancel "$job"
state=$(wait_done "$job" 120)
[[ $state == CANCELLED ]] || fail "job 3: $state"
reached3=$(logged_steps "$RUN2" | tail -n 1)
(( $(checkpoint_step "$RUN2") == reached3 && reached3 > reached )) ||
  fail "job 3: checkpoint at step $(checkpoint_step "$RUN2"), the run reached $reached3"
expect_each_step_once "$RUN2" "$reached3"
say "3. scancel: resumed from step $reached, checkpoint at step $reached3, CANCELLED, not requeued"

# ---- 4. a one-minute time limit: self-requeue until done -------------------------------------
RUN4=$W/runs/requeued
job=$(submit requeued --time=1 --signal=B:TERM@10 -- $(train_args "$RUN4" "$STEPS"))
state=$(wait_done "$job" 600)
restarts=$(field "$job" Restarts)
[[ $state == COMPLETED && $(field "$job" ExitCode) == 0:0 ]] ||
  fail "job 4: $state, exit $(field "$job" ExitCode)"
(( restarts >= 1 )) || fail "job 4 finished without a requeue (the machine is faster than the test assumes)"
expect_each_step_once "$RUN4" "$STEPS"
[[ -n $(val_results "$RUN1") && $(val_results "$RUN4") == "$(val_results "$RUN1")" ]] ||
  fail "job 4's validation differs from job 1's: $(val_results "$RUN4") vs $(val_results "$RUN1")"
attempts=$(grep -c "attempt [0-9]*:" "$W"/runs/requeued-"$job".out)
say "4. --time=1: requeued itself $restarts time(s), $attempts attempts in one output file, validation equal to job 1's"

# ---- 5. a search job: stopped, then continued by the same command ---------------------------
"$EDGELOOP" predictor bootstrap --simulate --space supernet/spaces/tiny.textproto --samples 16 \
  --db "$W/boot.db" --out "$W/model.json" --folds 3 >/dev/null 2>&1 || fail "predictor bootstrap"
SEARCH=$W/runs/search
search_args=(search --run "$RUN1" --data "$DATA" --val-split 'C027:layers[50%:100%]'
  --predictor "$W/model.json" --db "$W/search.db" --out "$SEARCH" --population 6
  --generations 12 --samples 8 --eval-batch 4 --workers 1 --seed 3 --quiet)
generations() { grep -c '"generation"' "$SEARCH/log.jsonl" 2>/dev/null || echo 0; }
job=$(submit_script tools/slurm/edgeloop.sbatch search1 -- "${search_args[@]}")
for _ in $(seq 240); do (( $(generations) >= 3 )) && break; sleep 0.25; done
(( $(generations) >= 3 )) || fail "job 5: the search logged $(generations) generations in 60 s"
scancel --signal=TERM --full "$job"
state=$(wait_done "$job" 120)
[[ $(field "$job" ExitCode) == 75:0 && -f $SEARCH/state.json ]] ||
  fail "job 5: $state, exit $(field "$job" ExitCode) (want 75 and a saved search)"
stopped_at=$(generations)
(( stopped_at < 13 )) || fail "job 5: the search had finished before the TERM"
job=$(submit_script tools/slurm/edgeloop.sbatch search2 -- "${search_args[@]}")
state=$(wait_done "$job" 300)
[[ $state == COMPLETED && $(field "$job" ExitCode) == 0:0 ]] ||
  fail "job 5 (continued): $state, exit $(field "$job" ExitCode)"
(( $(generations) == 13 )) || fail "job 5: $(generations) generation lines after the continued search, want 13 (0..12 once each)"
[[ -f $SEARCH/front.json ]] || fail "job 5: no front.json"
say "5. search: stopped after $stopped_at generations (exit 75), continued by the same command to generation 12, each logged once"
say "passed"
