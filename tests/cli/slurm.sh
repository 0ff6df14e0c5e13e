# The Slurm recipe (examples/slurm/) on a real single-node Slurm: munged with
# its own key, slurmctld and slurmd on 127.0.0.1 with free ports and state
# under this test's folder (no cgroups: proctrack/linuxproc, task/none). The
# nightly job chain (prices once, a 4-task array of `merx run --shard
# $SLURM_ARRAY_TASK_ID/4` on one shared store, a report) must leave every user
# decided by exactly one shard, the global budget and caps held, and a total
# value within 1% of the unsharded run. Skipped (77) when Slurm is not
# installed or cannot start here; everything started is stopped by PID.
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || { echo "SKIP: $b not found (Debian slurm-wlm and munge; scripts/lib.sh installs them)"; exit 77; }
done
T="$PWD/slurm"
mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 700 "$T/munge"
PIDS=()
stop_all() {
  # slurmd first (it ends its job steps), then the controller, then munged
  for ((k = ${#PIDS[@]} - 1; k >= 0; k--)); do kill "${PIDS[k]}" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap 'stop_all; rm -rf "$work"' EXIT
skip() { echo "SKIP: $1"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done; exit 77; }

head -c 1024 /dev/urandom > "$T/munge/munge.key"
chmod 600 "$T/munge/munge.key"
munged -F -f --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/seed" --log-file="$T/munged.log" \
  >"$T/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.sock" ] || skip "munged did not start"

read -r P1 P2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
H=$(hostname -s 2>/dev/null || hostname)
cat > "$T/slurm.conf" <<CONF
ClusterName=merxtest
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$P1
SlurmdPort=$P2
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1,batch_sched_delay=0,kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
NodeName=mxnode NodeHostname=$H NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=mx Nodes=mxnode Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -i >>"$T/slurmctld.log" 2>&1 &
PIDS+=($!)
slurmd -D -N mxnode >>"$T/slurmd.log" 2>&1 &
PIDS+=($!)
up=0
for _ in $(seq 100); do
  [ "$(sinfo -h -n mxnode -o %T 2>/dev/null)" = idle ] && { up=1; break; }
  sleep 0.2
done
[ $up = 1 ] || skip "slurmctld + slurmd did not bring the node up within 20 s"

# candidates: 2,000 users x up to 3 offers, split by user for 4 shards
python3 - <<'PY'
import csv, random
random.seed(11)
w = csv.writer(open("cand.csv", "w", newline=""))
w.writerow(["user", "offer", "value", "cost"])
cost = {"A": 1.0, "B": 3.0, "C": 2.0}
for u in range(2000):
    for o in "ABC":
        if random.random() < 0.8:
            w.writerow([f"c{u:05d}", o, round(random.uniform(0.5, 1.5) * cost[o] * 1.5, 4), cost[o]])
PY
expect_exit 0 "$MERX" shard-split --data cand.csv --column user --shards 4 --out cand
EX="$MERX_SRC/examples/slurm"
# the unsharded run, for the totals
expect_exit 0 "$MERX" run "$EX/campaign.lua" --data cand --set candidates="$PWD/cand" --out full

start=$(date +%s)
expect_exit 0 env MERX="$MERX" WORK="$PWD/night" STORE="$PWD/store" CANDIDATES="$PWD/cand" \
  "$EX/nightly.sh"
read -r J1 J2 J3 < out.txt
# wait (bounded) until the chain left the queue, or a job waits for something
# other than its turn (a limit, a failed dependency)
for _ in $(seq 200); do
  q=$(squeue -h -j "$J1,$J2,$J3" -o '%r' 2>/dev/null | grep -vxE 'None|Priority|Resources|Dependency' || true)
  [ -z "$(squeue -h -j "$J1,$J2,$J3" 2>/dev/null)" ] || [ -n "$q" ] && break
  sleep 0.2
done
state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' '; }
for j in $J1 $J2 $J3; do
  s=$(state "$j")
  [ "$s" = "JobState=COMPLETED " ] || {
    echo "FAIL: job $j: ${s:-unknown}"; squeue; for f in night/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }
done
echo "slurm chain: $(($(date +%s) - start)) s"
cat night/report.log
expect_contains night/report.log "4 shards: 1978 users decided once each"
for i in 0 1 2 3; do expect_contains night/shard-$i.log "shard $i/4"; done

python3 - <<'PY'
import csv
full = list(csv.DictReader(open("full/offer.csv")))
rows, seen = [], {}
for i in range(4):
    for r in csv.DictReader(open(f"night/shard-{i}/offer.csv")):
        assert r["user"] not in seen, ("decided by two shards", r["user"], seen[r["user"]], i)
        seen[r["user"]] = i
        rows.append(r)
assert set(seen) == {r["user"] for r in full}, "a user decided by no shard"
given = [r for r in rows if r["offer"] != "none"]
spend = sum(float(r["cost"]) for r in given)
assert spend <= 1500 + 1e-9, ("budget", spend)
for o, cap in (("B", 150), ("C", 300)):
    k = sum(1 for r in given if r["offer"] == o)
    assert k <= cap, ("cap", o, k)
value = sum(float(r["value"]) for r in given)
ref = sum(float(r["value"]) for r in full if r["offer"] != "none")
print(f"sharded: {len(given)} offers, spend {spend:.2f}, value {value:.2f} = {value / ref:.4%} of unsharded {ref:.2f}")
assert abs(value - ref) <= 0.01 * ref, (value, ref)
PY
# the one shared store holds every shard's decisions
expect_exit 0 "$MERX" explain --store store --user c00002
expect_contains out.txt "c00002"
