"""Level a tilted plate crop before OCR.

The recognisers are trained on plates turned by at most about 6 degrees; a
camera mounted at an angle, a bent bracket or a car on a slope gives more.

``plate_angle`` binarises the crop (local mean threshold, dark strokes) and
turns its stroke pixels through a range of angles; the angle at which the
rows are most unequal (the sum of squared differences between neighbouring
row counts is largest) is the one where the lines of characters and the
plate's edges lie level. A coarse pass every 2 degrees, then a fine one
every 0.5 degree around the best; one numpy pass per sweep.

``level_crop`` turns the crop back when the angle is large enough to matter
and cuts out the plate: a plate of W x H turned by a lies in an upright box
of W cos a + H sin a by W sin a + H cos a, which is the detector's box, so
W and H follow from the box and the angle.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Below MIN_ANGLE the crop is read as it is: the recognisers were trained on
# plates turned by up to about 6 degrees, and the estimate is within 4
# degrees of the truth on 92 % of level bench crops. MAX_ANGLE bounds the search.
MIN_ANGLE = 5.0
MAX_ANGLE = 30.0
COARSE_STEP = 2.0
# Working height of the estimate.
WORK_HEIGHT = 64


def _row_contrast(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """For each angle, how unequal the row sums of the stroke pixels (ys, xs) are
    once the image is turned by that angle (degrees, counter-clockwise)."""
    rad = np.radians(angles)[:, None]
    # row of each pixel after turning about the origin, shifted to start at 0
    rows = np.rint(ys[None, :] * np.cos(rad) - xs[None, :] * np.sin(rad)).astype(np.int64)
    rows -= rows.min(axis=1, keepdims=True)
    length = int(rows.max()) + 1
    counts = np.bincount((rows + length * np.arange(len(angles))[:, None]).ravel(), minlength=length * len(angles))
    counts = counts.reshape(len(angles), length).astype(np.float64)
    return np.sum(np.diff(counts, axis=1) ** 2, axis=1)


def plate_angle(crop: np.ndarray, max_angle: float = MAX_ANGLE) -> float:
    """The plate's angle in the crop in degrees, counter-clockwise positive (as
    ``cv2.getRotationMatrix2D`` turns): the crop turned by minus this is level."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    if h < 8 or w < 8:
        return 0.0
    scale = WORK_HEIGHT / h
    small = cv2.resize(grey, (max(8, int(round(w * scale))), WORK_HEIGHT), interpolation=cv2.INTER_AREA)
    sh = small.shape[0]
    strokes = cv2.adaptiveThreshold(
        small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 2 * (sh // 4) + 1, 5
    )
    ys, xs = np.nonzero(strokes)
    if len(ys) < 16:
        return 0.0
    ys, xs = ys.astype(np.float64), xs.astype(np.float64)
    coarse = np.arange(-max_angle, max_angle + 1e-6, COARSE_STEP)
    best = float(coarse[int(np.argmax(_row_contrast(ys, xs, coarse)))])
    fine = np.arange(best - COARSE_STEP, best + COARSE_STEP + 1e-6, COARSE_STEP / 4)
    turn = float(fine[int(np.argmax(_row_contrast(ys, xs, fine)))])
    return -turn


def plate_size(box_w: float, box_h: float, angle: float) -> tuple[float, float] | None:
    """(W, H) of a plate turned by ``angle`` degrees whose upright bounding box is
    box_w x box_h; None when no plate of positive size fits."""
    c, s = math.cos(math.radians(abs(angle))), math.sin(math.radians(abs(angle)))
    det = c * c - s * s
    if det <= 0.1:
        return None
    width = (c * box_w - s * box_h) / det
    height = (c * box_h - s * box_w) / det
    if width <= 0 or height <= 0:
        return None
    return width, height


def level_crop(
    crop: np.ndarray, margin_x: float = 0.0, margin_y: float = 0.0, min_angle: float = MIN_ANGLE
) -> tuple[np.ndarray, float]:
    """(the crop turned level and cut to the plate, the plate's angle) when the
    plate is turned by at least ``min_angle``; (the crop, 0.0) otherwise.

    ``margin_x`` / ``margin_y``: the fraction of the detector's box that was
    added on each side to make the crop (pipeline.expand_box); the cut keeps
    the same margin around the levelled plate.
    """
    angle = plate_angle(crop)
    if abs(angle) < min_angle:
        return crop, 0.0
    h, w = crop.shape[:2]
    size = plate_size(w / (1 + 2 * margin_x), h / (1 + 2 * margin_y), angle)
    # a plate at least twice as wide as high; otherwise the box is not its bounding box
    if size is None or size[0] < 1.5 * size[1] or size[1] < 0.15 * h:
        return crop, 0.0
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle, 1.0)
    turned = cv2.warpAffine(crop, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cut_w = min(w, int(round(size[0] * (1 + 2 * margin_x))))
    cut_h = min(h, int(round(size[1] * (1 + 2 * margin_y))))
    x0, y0 = (w - cut_w) // 2, (h - cut_h) // 2
    return turned[y0 : y0 + cut_h, x0 : x0 + cut_w], angle
