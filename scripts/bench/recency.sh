#!/usr/bin/env bash
# Recency on implicit data (issue 21): a time split of the shared UCI Online
# Retail file. Train on purchases before 2011-10-01, test on purchases from
# 2011-10-01 on (items new to the user: merx eval drops each user's training
# items). Half-life and blend weight are chosen on a validation cut inside the
# training period (train < 2011-08-01, validate on August-September), then the
# test is measured once with the chosen values. Reads ../shared/data relative
# to the repo root (or $MERX_SHARED_DATA).
#   scripts/bench/recency.sh          # about a minute of CPU
# Prints P@10 and NDCG@10 for popularity, last-30-days popularity, today's
# defaults (ials, ease, bpr) and the recency-aware versions, with the CPU
# seconds (user+sys) of each final training run.
set -euo pipefail
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
DATA="${MERX_SHARED_DATA:-$ROOT/../shared/data}/online-retail/online-retail.csv.gz"
MERX="${MERX:-$ROOT/build/merx}"
PREP="$ROOT/scripts/bench/recency_prep.py"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/merx-bench-recency-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[ -x "$MERX" ] || { echo "build merx first (cmake --build build), or set MERX=" >&2; exit 1; }
[ -f "$DATA" ] || { echo "Online Retail not found at $DATA; nothing to run" >&2; exit 1; }
HALF_LIVES="${HALF_LIVES:-15 30 60 120}"   # days, the validation grid
BLEND_H="${BLEND_H:-0.5 2 5}"              # --recent-popular-users grid
C="--columns user=customer_id,item=stock_code,time=time"

echo "merx recency benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), merx $("$MERX" version 2>/dev/null | head -1)"
"$MERX" version --json
python3 "$PREP" "$DATA" "$TMP"

# fit SPLIT ARGS...: train on SPLIT's training file, evaluate on its held-out
# file; prints "P@10 NDCG@10 users cpu_s"
fit() {
  local split=$1; shift
  local train=trainval held=val now=2011-08-01
  [ "$split" = test ] && { train=train; held=test; now=2011-10-01; }
  case " $* " in *" --half-life "*|*" --recent-popular "*) set -- "$@" --now "$now" ;; esac
  /usr/bin/time -f "%U %S" -o "$TMP/time" "$MERX" train --data "$TMP/$train.csv" $C "$@" \
    --out "$TMP/m.mxm" > /dev/null
  "$MERX" eval --model "$TMP/m.mxm" --test "$TMP/$held.csv" $C --json > "$TMP/eval.json"
  python3 -c "import json; d=json.load(open('$TMP/eval.json')); u,s=open('$TMP/time').read().split(); print('%.4f %.4f %d %.2f' % (d['precision@10'], d['ndcg@10'], d['users'], float(u)+float(s)))"
}
ndcg() { echo "$1" | cut -d' ' -f2; }
better() { python3 -c "import sys; sys.exit(0 if float('$1') > float('$2') else 1)"; }

echo
echo "## Validation (train < 2011-08-01, validate 2011-08-01 .. 2011-09-30): NDCG@10"
read -r _ _ vpop _ < <(python3 "$PREP" --baselines "$TMP/trainval.csv" "$TMP/val.csv" 2011-08-01 | sed -n 1p)
echo "popularity $vpop"
declare -A BEST_HL BEST_ARGS
for algo in ials ease bpr; do
  r=$(fit val --algo $algo); best=$(ndcg "$r"); BEST_HL[$algo]=off
  printf '%-5s half-life off  %s\n' $algo "$best"
  for hl in $HALF_LIVES; do
    r=$(fit val --algo $algo --half-life "$hl"); n=$(ndcg "$r")
    printf '%-5s half-life %-4s %s\n' $algo "$hl" "$n"
    if better "$n" "$best"; then best=$n; BEST_HL[$algo]=$hl; fi
  done
  args="--algo $algo"; [ "${BEST_HL[$algo]}" != off ] && args="$args --half-life ${BEST_HL[$algo]}"
  if [ $algo != ease ]; then
    for h in $BLEND_H; do
      r=$(fit val $args --recent-popular 30 --recent-popular-users "$h"); n=$(ndcg "$r")
      printf '%-5s %s + recent-popular 30, H %-4s %s\n' $algo "${BEST_HL[$algo]}" "$h" "$n"
      if better "$n" "$best"; then best=$n; args="$args --recent-popular 30 --recent-popular-users $h"; fi
    done
  fi
  BEST_ARGS[$algo]="$args"
  echo "chosen: $args (validation NDCG@10 $best)"
done

echo
echo "## Test (train < 2011-10-01, test from 2011-10-01, items new to the user), K = 10"
printf '| %-58s | %-7s | %-7s | %-7s | %-11s | %-6s |\n' method "P@10" "NDCG@10" "x pop" "train cpu s" users
printf '|%s|\n' "------------------------------------------------------------|---------|---------|---------|-------------|--------"
python3 "$PREP" --baselines "$TMP/train.csv" "$TMP/test.csv" 2011-10-01 > "$TMP/base"
read -r _ _ pop _ < "$TMP/base"
while read -r name p n users; do
  [ $name = recent30 ] && name="last-30-days popularity"
  printf '| %-58s | %-7s | %-7s | %-7s | %-11s | %-6s |\n' "$name" "$p" "$n" \
    "$(python3 -c "print('%.2f' % ($n / $pop))")" - "$users"
done < "$TMP/base"
row() {
  local label=$1; shift
  read -r p n users cpu <<< "$(fit test "$@")"
  printf '| %-58s | %-7s | %-7s | %-7s | %-11s | %-6s |\n' "$label" "$p" "$n" \
    "$(python3 -c "print('%.2f' % ($n / $pop))")" "$cpu" "$users"
}
for algo in ials ease bpr; do row "$algo (defaults)" --algo $algo; done
for algo in ials ease bpr; do row "${BEST_ARGS[$algo]#--algo }" ${BEST_ARGS[$algo]}; done
