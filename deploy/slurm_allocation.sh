#!/usr/bin/env bash
# Run an ensemble inside one SLURM allocation (alternative to --cluster jobqueue:slurm, which submits
# worker jobs itself): scheduler and workers start under srun; the client joins through a scheduler file.
#   sbatch deploy/slurm_allocation.sh SPEC.toml STORE
# Environment: ENSEMBLE_VENV (default .venv) is activated when it exists; ENSEMBLE_DASK_HOST (e.g.
# 127.0.0.1 on a single node) pins scheduler and workers to one address.
#SBATCH --job-name=ensemble
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=16
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
set -euo pipefail
SPEC=${1:?usage: sbatch deploy/slurm_allocation.sh SPEC.toml STORE}
STORE=${2:?usage: sbatch deploy/slurm_allocation.sh SPEC.toml STORE}
VENV=${ENSEMBLE_VENV:-.venv}
if [ -f "$VENV/bin/activate" ]; then source "$VENV/bin/activate"; fi
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
HOST_ARGS=()
if [ -n "${ENSEMBLE_DASK_HOST:-}" ]; then HOST_ARGS=(--host "$ENSEMBLE_DASK_HOST"); fi
SCHED_FILE=$PWD/scheduler-$SLURM_JOB_ID.json
trap 'rm -f "$SCHED_FILE"' EXIT
python -m distributed.cli.dask_scheduler --scheduler-file "$SCHED_FILE" "${HOST_ARGS[@]}" &
for _ in $(seq 120); do [ -s "$SCHED_FILE" ] && break; sleep 0.5; done
srun --ntasks=$((SLURM_NTASKS - 1)) python -m distributed.cli.dask_worker --scheduler-file "$SCHED_FILE" \
     --nthreads 1 --memory-limit "$(( ${SLURM_MEM_PER_CPU:-3800} ))MiB" "${HOST_ARGS[@]}" &
python -m ensemble.cli run "$SPEC" --store "$STORE" --scheduler-file "$SCHED_FILE" --no-progress
