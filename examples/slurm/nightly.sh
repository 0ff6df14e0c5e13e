#!/bin/sh
# Submit tonight's sharded campaign to Slurm (README.md here):
#   1. solve.sbatch   the global dual prices of the budget and caps, on all users
#   2. shard.sbatch   --array=0-(SHARDS-1): merx run --shard $SLURM_ARRAY_TASK_ID/SHARDS with
#                     those prices, every task committing to the one shared store
#   3. report.sbatch  checks the shards' decisions against the global limits, totals
# Each step starts only when the one before succeeded (afterok); a failed step
# cancels the rest (kill_invalid_depend, or scancel). Prints the three job ids.
#
#   WORK=/shared/nightly/$(date +%F) STORE=/shared/merx-store CANDIDATES=/shared/cand \
#     [MERX=merx] [SHARDS=4] [BUDGET=1500] [CAPS=B=150,C=300] examples/slurm/nightly.sh
#
# CANDIDATES: a folder from `merx shard-split --column user --shards SHARDS`
# (each task reads only its part) or a CSV file (each task reads it all and
# keeps its users). WORK, STORE and CANDIDATES must be on a file system every
# node sees.
set -eu
: "${WORK:?set WORK}" "${STORE:?set STORE}" "${CANDIDATES:?set CANDIDATES}"
MERX_SLURM_DIR=$(cd "$(dirname "$0")" && pwd)
MERX=${MERX:-merx} SHARDS=${SHARDS:-4} BUDGET=${BUDGET:-1500} CAPS=${CAPS:-B=150,C=300}
export MERX_SLURM_DIR MERX SHARDS BUDGET CAPS WORK STORE CANDIDATES
mkdir -p "$WORK"
solve=$(sbatch --parsable --job-name=merx-solve -o "$WORK/solve.log" "$MERX_SLURM_DIR/solve.sbatch")
shards=$(sbatch --parsable --job-name=merx-shard --array="0-$((SHARDS - 1))" \
  --dependency="afterok:$solve" -o "$WORK/shard-%a.log" "$MERX_SLURM_DIR/shard.sbatch")
report=$(sbatch --parsable --job-name=merx-report --dependency="afterok:$shards" \
  -o "$WORK/report.log" "$MERX_SLURM_DIR/report.sbatch")
echo "$solve $shards $report"
