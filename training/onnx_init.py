"""Start training from an exported plate CRNN (``.onnx``) instead of a ``.pt`` checkpoint.

The ONNX export folds each BatchNorm into the convolution before it and
stores the GRU in ONNX gate order, so the weights are mapped back:

- each fused convolution becomes the model's convolution, and its BatchNorm
  is set so that it adds the fused bias in evaluation mode. Calibrated on a
  batch of training images, its running mean and variance are those of the
  convolution's output, so in training mode (batch statistics) it still
  computes about the same function;
- the GRU's gates go from ONNX order (update, reset, new) to PyTorch order
  (reset, update, new); the biases are split into input and hidden parts.

``load_onnx_weights`` checks that the rebuilt model reproduces the ONNX
model's output on the calibration batch.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from recognition.vision import config

from .model import PlateCRNN


def _gru_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX gate blocks (z, r, h) along axis 0 -> PyTorch order (r, z, n)."""
    z, r, h = w[:hidden], w[hidden : 2 * hidden], w[2 * hidden :]
    return np.concatenate([r, z, h], axis=0)


def _conv_bn_pairs(model: PlateCRNN) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    layers = [*model.features, *model.collapse]
    return [(a, b) for a, b in itertools.pairwise(layers) if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)]


def load_onnx_weights(path: Path, calibration: np.ndarray, atol: float = 1e-3) -> PlateCRNN:
    """A :class:`PlateCRNN` with the weights of the exported model at ``path``.

    ``calibration``: (N, 1, H, W) preprocessed crops, used to set the
    BatchNorm statistics and to check the result against ONNX Runtime.
    """
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i).copy() for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    gru = next(n for n in graph.node if n.op_type == "GRU")
    matmul = next(n for n in graph.node if n.op_type == "MatMul")
    add = next(n for n in graph.node if n.op_type == "Add" and matmul.output[0] in n.input)
    hidden = next(a.i for a in gru.attribute if a.name == "hidden_size")

    channels = [init[n.input[1]].shape[0] for n in convs[:-1]]
    # features: c1, c2, c3, c3, c4 -> PlateCRNN(channels=(c1, c2, c3, c4))
    model = PlateCRNN(channels=(channels[0], channels[1], channels[2], channels[4]), hidden=hidden)
    pairs = _conv_bn_pairs(model)
    if len(pairs) != len(convs):
        raise ValueError(f"{path}: {len(convs)} convolutions, model has {len(pairs)}")
    x = torch.from_numpy(calibration.astype(np.float32))
    with torch.no_grad():
        for (conv, bn), node in zip(pairs, convs, strict=True):
            conv.weight.copy_(torch.from_numpy(init[node.input[1]]))
            bias = torch.from_numpy(init[node.input[2]])
            bn.weight.fill_(1.0)
            bn.bias.copy_(bias)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        # calibrate layer by layer: BN statistics = those of its convolution's output
        model.eval()
        for conv, bn in pairs:
            captured: dict[str, torch.Tensor] = {}
            hook = conv.register_forward_hook(lambda _m, _i, out, c=captured: c.__setitem__("out", out))
            model.logits(x)
            hook.remove()
            out = captured["out"]
            mean = out.mean(dim=(0, 2, 3))
            std = out.var(dim=(0, 2, 3), unbiased=False).add(bn.eps).sqrt()
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(std**2 - bn.eps)
            bn.bias.add_(mean)
            bn.weight.copy_(std)

        w_ih, w_hh, b = (init[gru.input[k]] for k in (1, 2, 3))
        for d, suffix in enumerate(("", "_reverse")):
            getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(_gru_gates(w_ih[d], hidden)))
            getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(_gru_gates(w_hh[d], hidden)))
            getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(_gru_gates(b[d][: 3 * hidden], hidden)))
            getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(_gru_gates(b[d][3 * hidden :], hidden)))
        model.head.weight.copy_(torch.from_numpy(init[matmul.input[1]].T))
        model.head.bias.copy_(torch.from_numpy(init[next(i for i in add.input if i in init)]))

        ours = model.logits(x).softmax(-1).numpy()
    sess = ort.InferenceSession(
        str(path), sess_options=config.ort_session_options(), providers=["CPUExecutionProvider"]
    )
    theirs = sess.run(None, {sess.get_inputs()[0].name: calibration.astype(np.float32)})[0]
    err = float(np.abs(ours - theirs).max())
    if err > atol:
        raise ValueError(f"{path}: rebuilt model differs from ONNX by {err:.2e}")
    model.train()
    return model
