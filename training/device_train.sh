#!/usr/bin/env bash
# The prepared plate-CRNN training run for a lent GPU machine: one device call, two candidate models.
#
# Here, first (CPU, seconds):
#   python -m recognition.training.pack_data --out .train-data      # ../shared/data does not travel; 32 MiB
#   MINUTES=0.3 DEVICE=cpu WORKERS=2 PYTHON=.venv/bin/python OUT=/tmp/dt bash recognition/training/device_train.sh   # dry run
# Then with the device tool (15 minutes of device time a session, a machine's start included):
#   run(command="bash recognition/training/device_train.sh", carry=[".train-data"], timeout_s=540)
# It trains each recipe of $RECIPES for $MINUTES (default 6) at the same time on the one GPU, the
# CPU cores rendering their training samples split between them (the GPU waits on the samples:
# about 300 samples/s a core here), and leaves in $OUT, per recipe, the ONNX model, its JSON
# summary (validation history, samples/s) and the log (6 files: the device tool brings back 8).
# Judge each model here, on the CPU, as every CRNN is judged (recognition/models/MODEL_CARD.md):
#   python -m recognition.training.eval_ocr --bench ../shared/bench/openalpr-dev --rendered 30 --engines crnn,rapid+crnn --crnn FILE.onnx
#   ALPR_CRNN_MODEL=FILE.onnx python -m recognition.bench ../shared/bench/openalpr-dev --json --spread
#
# Recipes: wide, a model with about twice the committed one's arithmetic (channels 32,64,112,160,
#   GRU 128; 4.5-5.3 instead of 3.3-3.4 ms a crop, two views, in eval_ocr), from scratch;
#   continue, the committed model's size, continued from recognition/models/plate_crnn.onnx.
# SEED, BATCH, EXTRA (more train.py options, for every recipe) and DATA (the data folder) can be set too.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/device-train}
MINUTES=${MINUTES:-6}
RECIPES=${RECIPES:-wide continue}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}  # the device image's python3 holds torch; here: PYTHON=.venv/bin/python
DATA=${DATA:-.train-data}
read -r -a recipes <<<"$RECIPES"
cores=$(nproc)
WORKERS=${WORKERS:-$(( cores > 2 * ${#recipes[@]} ? (cores - ${#recipes[@]}) / ${#recipes[@]} : 1 ))}  # per recipe
if [ ! -f "$DATA/us-plate-crops/groundtruth.csv" ]; then
  echo "$DATA is missing: run python -m recognition.training.pack_data --out .train-data here and carry it" >&2
  exit 2
fi
for recipe in "${recipes[@]}"; do
  case "$recipe" in wide|continue) ;; *) echo "recipes are wide and continue, not $recipe" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi -L
"$PYTHON" -c "import torch, cv2, PIL, onnx, onnxruntime; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
echo "recipes: ${recipes[*]}; $MINUTES minutes; $cores cores, $WORKERS sample workers per recipe"

pids=()
for recipe in "${recipes[@]}"; do
  case "$recipe" in
    wide) args=(--channels 32,64,112,160 --hidden 128 --lr 2e-3) ;;
    continue) args=(--init recognition/models/plate_crnn.onnx --lr 1e-3) ;;
  esac
  # shellcheck disable=SC2086
  "$PYTHON" -m recognition.training.train --data-dir "$DATA" --device "$DEVICE" --workers "$WORKERS" \
    --threads 1 --batch "${BATCH:-256}" --minutes "$MINUTES" --eval-minutes 1 --detector-margins \
    --seed "${SEED:-11}" "${args[@]}" ${EXTRA:-} \
    --out "$OUT/$recipe.onnx" --checkpoint "/tmp/$recipe.pt" >"$OUT/$recipe.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for recipe in "${recipes[@]}"; do
  echo "== $recipe"
  grep -v "libpng warning" "$OUT/$recipe.log" | grep -E "^(params|val|exported|best|final)|Error|error" | tail -n 6
  "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: d[k] for k in ('params', 'steps', 'samples_seen', 'samples_per_s', 'best_val_all')})" "$OUT/$recipe.json" || status=1
done
ls -la "$OUT"
exit $status
