#!/usr/bin/env bash
# The prepared plate-CRNN training run for a lent GPU machine: one device call.
#
# Here, first (CPU, seconds):
#   python -m recognition.training.pack_data --out .train-data      # ../shared/data does not travel; 32 MiB
#   MINUTES=0.3 DEVICE=cpu WORKERS=1 PYTHON=.venv/bin/python OUT=/tmp/dt bash recognition/training/device_train.sh   # dry run
# Then with the device tool (15 minutes of device time a session, a start included):
#   run(command="bash recognition/training/device_train.sh", carry=[".train-data"], timeout_s=540)
# It trains for $MINUTES (default 6) on the GPU while every CPU core but one renders training samples
# (the GPU waits on them: about 300 samples/s a core here), and leaves in $OUT the ONNX model, its
# JSON summary (validation history, samples/s), the checkpoint and the log. Judge the model here, on
# the CPU, as every CRNN is judged (docs/benchmarks.md, recognition/models/MODEL_CARD.md):
#   python -m recognition.training.eval_ocr --bench ../shared/bench/openalpr-dev --rendered 30 --engines crnn,rapid+crnn --crnn $FILES/plate_crnn.onnx
#   ALPR_CRNN_MODEL=$FILES/plate_crnn.onnx python -m recognition.bench ../shared/bench/openalpr-dev --json --spread
#
# RECIPE=wide (default): a model about twice the committed one's arithmetic (channels 32,64,112,160,
#   GRU 128; about 4 ms a crop on one CPU core instead of 2), from scratch;
# RECIPE=continue: the committed model's size, continued from recognition/models/plate_crnn.onnx.
# SEED, BATCH, LR and EXTRA (more train.py options) can be set too.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/device-train}
MINUTES=${MINUTES:-6}
RECIPE=${RECIPE:-wide}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}  # the device image's python3 holds torch; here: PYTHON=.venv/bin/python
WORKERS=${WORKERS:-$(( $(nproc) > 2 ? $(nproc) - 1 : 1 ))}
case "$RECIPE" in
  wide) recipe=(--channels 32,64,112,160 --hidden 128 --lr "${LR:-2e-3}") ;;
  continue) recipe=(--init recognition/models/plate_crnn.onnx --lr "${LR:-1e-3}") ;;
  *) echo "RECIPE must be wide or continue, not $RECIPE" >&2; exit 2 ;;
esac
if [ ! -f .train-data/us-plate-crops/groundtruth.csv ]; then
  echo ".train-data is missing: run python -m recognition.training.pack_data --out .train-data here and carry it" >&2
  exit 2
fi
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi -L
"$PYTHON" -c "import torch, cv2, PIL, onnx, onnxruntime; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cores', __import__('os').cpu_count())"
# shellcheck disable=SC2086
"$PYTHON" -m recognition.training.train --data-dir .train-data --device "$DEVICE" --workers "$WORKERS" \
  --threads 1 --batch "${BATCH:-256}" --minutes "$MINUTES" --eval-minutes 1 --detector-margins \
  --seed "${SEED:-11}" "${recipe[@]}" ${EXTRA:-} \
  --out "$OUT/plate_crnn.onnx" --checkpoint "$OUT/plate_crnn.pt" 2>&1 | grep --line-buffered -v "libpng warning" | tee "$OUT/train.log"
ls -la "$OUT"
