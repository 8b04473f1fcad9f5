#!/usr/bin/env bash
# The CUDA checks, for a machine with a GPU: every test marked `cuda`, then a short run of
# every model with --device cuda. Prints one summary line per model; logs go to $OUT.
#   bash scripts/cuda_check.sh            (OUT defaults to /tmp/cuda-check)
#   MODELS="dcgan cyclegan" bash scripts/cuda_check.sh    (only these runs)
set -uo pipefail
OUT=${OUT:-/tmp/cuda-check}
mkdir -p "$OUT/runs"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0))"

echo "== tests marked cuda"
python3 -m pytest -m cuda -q -p no:cacheprovider -n 8 -o addopts="" 2>&1 | tee "$OUT/cuda-tests.log" | tail -15

echo "== a short CUDA run of every model (20 steps each)"
# Twelve runs at once share the CPU cores: one thread each, or the CPU-side work (the
# classifiers that score samples, environments) oversubscribes the machine.
export OMP_NUM_THREADS=1
models=${MODELS:-}
[ -n "$models" ] || models=$(python3 -m cheatsheet run --list --json | python3 -c "import json, sys; print(' '.join(r['name'] for r in json.load(sys.stdin)))")
run_one() {
  model=$1; out=$2
  start=$SECONDS
  timeout 150 python3 -m cheatsheet run "$model" --device cuda --steps 20 --out "$out/runs/$model" --json \
    > "$out/runs/$model.json" 2> "$out/runs/$model.err"
  rc=$?
  printf '%-20s rc=%s %4ss %s\n' "$model" "$rc" "$((SECONDS - start))" \
    "$(head -c 160 "$out/runs/$model.json" | tr -d '\n')"
}
export -f run_one
printf '%s\n' $models | xargs -P 12 -I{} bash -c 'run_one {} '"$OUT" | sort | tee "$OUT/cuda-runs.txt"
