"""A small CRNN for plate text: conv blocks -> BiGRU -> CTC over blank + A-Z0-9."""

from __future__ import annotations

import torch
from torch import nn

from recognition.vision.ocr import CRNN_HEIGHT, PLATE_ALPHABET

NUM_CLASSES = len(PLATE_ALPHABET) + 1  # 0 = CTC blank


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class PlateCRNN(nn.Module):
    """(N, 1, 48, W) -> (N, W/4, 37) log-probabilities (``forward``) or probabilities (``export``)."""

    def __init__(self, channels: tuple[int, ...] = (24, 48, 80, 112), hidden: int = 96) -> None:
        super().__init__()
        self.channels, self.hidden = tuple(channels), hidden
        c1, c2, c3, c4 = channels
        self.features = nn.Sequential(
            *_block(1, c1),
            nn.MaxPool2d(2),  # 24 x W/2
            *_block(c1, c2),
            nn.MaxPool2d(2),  # 12 x W/4
            *_block(c2, c3),
            *_block(c3, c3),
            nn.MaxPool2d((2, 1)),  # 6 x W/4
            *_block(c3, c4),
            nn.MaxPool2d((2, 1)),  # 3 x W/4
        )
        rows = CRNN_HEIGHT // 16
        self.collapse = nn.Sequential(
            nn.Conv2d(c4, c4, (rows, 1), bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True)
        )
        self.rnn = nn.GRU(c4, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(2 * hidden, NUM_CLASSES)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        f = self.collapse(self.features(x)).squeeze(2).transpose(1, 2)  # N, T, C
        f, _ = self.rnn(f)
        return self.head(self.dropout(f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).log_softmax(-1)


class SoftmaxExport(nn.Module):
    """Wrapper exported to ONNX: probabilities (N, T, 37)."""

    def __init__(self, model: PlateCRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.logits(x).softmax(-1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
