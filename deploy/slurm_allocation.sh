#!/usr/bin/env bash
# Run an ensemble inside one SLURM allocation (alternative to --cluster jobqueue:slurm, which submits
# worker jobs itself): scheduler and workers start under srun; the client joins through a scheduler file.
#SBATCH --job-name=ensemble
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=16
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
set -euo pipefail
SPEC=${1:?usage: sbatch deploy/slurm_allocation.sh SPEC.toml STORE}
STORE=${2:?usage: sbatch deploy/slurm_allocation.sh SPEC.toml STORE}
source .venv/bin/activate
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
SCHED_FILE=$PWD/scheduler-$SLURM_JOB_ID.json
dask scheduler --scheduler-file "$SCHED_FILE" &
sleep 5
srun --ntasks=$((SLURM_NTASKS - 1)) dask worker --scheduler-file "$SCHED_FILE" --nthreads 1 \
     --memory-limit "$(( ${SLURM_MEM_PER_CPU:-3800} ))MiB" &
sleep 10
ensemble run "$SPEC" --store "$STORE" --scheduler-file "$SCHED_FILE" --no-progress
