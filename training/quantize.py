"""Static int8 quantisation of an ONNX model, shared by the plate detector and
PP-OCR's text-line finder (onnxruntime's tools; no Django, no torch).

Run it in a process that has not made an onnxruntime session with the
vision core's shared thread pool: calibration makes sessions of its own.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np


def quantize_qdq(
    fp32: Path,
    inputs: Iterable[np.ndarray],
    out: Path,
    float_nodes: Callable[[Any], list[str]] = lambda model: [],
    opset: int | None = None,
    **options: Any,
) -> Path:
    """Write an int8 version of ``fp32`` to ``out``, calibrated on ``inputs``.

    QDQ format, int8 weights per channel, uint8 activations. ``inputs`` are
    ready model inputs for its only input, read once; ``float_nodes(model)``
    names the nodes to leave in float, given the pre-processed model;
    ``opset`` converts the model first (per-channel QDQ needs 13 or later);
    ``options`` go to ``quantize_static`` (e.g. the calibration method).
    Writes into a temporary folder next to ``out`` and renames.
    """
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Inputs(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self._name = name
            self._it = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {self._name: x}

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        model = onnx.load(str(pre))
        if opset is not None:
            model = version_converter.convert_version(model, opset)
            onnx.save(model, str(pre))
        tmp_out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(pre),
            str(tmp_out),
            Inputs(model.graph.input[0].name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=float_nodes(model),
            **options,
        )
        os.replace(tmp_out, out)
    return out
