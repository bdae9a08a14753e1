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
W and H follow from the box and the angle. The detector's box also holds
some of the plate's surround; where the box gives no plate shape, the plate
inside it (its share of the box, ``pipeline.PLATE_BOX_SCALE``) is tried.
Then ``plate_shear`` sweeps the
columns the same way: characters that lean (a plate seen from the side and
above) are set upright when they lean by 0.12 or more (about 7 degrees).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

# Below MIN_ANGLE the crop is read as it is: the recognisers were trained on
# plates turned by up to about 6 degrees, and the estimate is within 4
# degrees of the truth on 92 % of level bench crops. MAX_ANGLE bounds the search.
MIN_ANGLE = 5.0
MAX_ANGLE = 30.0
COARSE_STEP = 2.0
# Leaning characters (a plate seen from the side and above): corrected from
# MIN_SHEAR (the recognisers were trained on up to about 0.1) to MAX_SHEAR.
MIN_SHEAR = 0.12
MAX_SHEAR = 0.5
SHEAR_STEP = 0.1
# Working heights of the estimates: the angle is found as well at 32 rows as
# at 64 (in a third of the time), the lean of the characters needs more.
ANGLE_HEIGHT = 32
SHEAR_HEIGHT = 64


def _profile_contrast(bins: np.ndarray) -> np.ndarray:
    """Per row of ``bins`` (one row per candidate transform: the profile bin of each
    stroke pixel), the sum of squared differences between neighbouring bin counts."""
    bins = bins - bins.min(axis=1, keepdims=True)
    length = int(bins.max()) + 1
    n = bins.shape[0]
    counts = np.bincount((bins + length * np.arange(n)[:, None]).ravel(), minlength=length * n)
    return np.sum(np.diff(counts.reshape(n, length).astype(np.float64), axis=1) ** 2, axis=1)


def _sweep(score: Callable[[np.ndarray], np.ndarray], limit: float, step: float) -> float:
    """The value in [-limit, limit] that ``score`` (values -> scores) rates highest:
    every ``step``, then every step / 4 around the best."""
    coarse = np.arange(-limit, limit + 1e-6, step)
    best = float(coarse[int(np.argmax(score(coarse)))])
    fine = np.arange(best - step, best + step + 1e-6, step / 4)
    return float(fine[int(np.argmax(score(fine)))])


def _row_contrast(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """For each angle, how unequal the row counts of the stroke pixels (ys, xs) are
    once the image is turned by that angle (degrees, counter-clockwise)."""
    rad = np.radians(angles)[:, None]
    return _profile_contrast(np.floor(ys[None, :] * np.cos(rad) - xs[None, :] * np.sin(rad) + 0.5).astype(np.int64))


def _strokes(crop: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(ys, xs) of the dark strokes of the crop scaled to ``height`` rows; None if too few."""
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    if h < 8 or w < 8:
        return None
    scale = height / h
    small = cv2.resize(grey, (max(8, round(w * scale)), height), interpolation=cv2.INTER_AREA)
    strokes = cv2.adaptiveThreshold(
        small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 2 * (height // 4) + 1, 5
    )
    ys, xs = np.nonzero(strokes)
    if len(ys) < 16:
        return None
    return ys.astype(np.float64), xs.astype(np.float64)


def plate_angle(crop: np.ndarray, max_angle: float = MAX_ANGLE) -> float:
    """The plate's angle in the crop in degrees, counter-clockwise positive (as
    ``cv2.getRotationMatrix2D`` turns): the crop turned by minus this is level."""
    strokes = _strokes(crop, ANGLE_HEIGHT)
    if strokes is None:
        return 0.0
    ys, xs = strokes
    return -_sweep(lambda angles: _row_contrast(ys, xs, angles), max_angle, COARSE_STEP)


def plate_shear(crop: np.ndarray, max_shear: float = MAX_SHEAR) -> float:
    """How far the characters lean: the k for which moving each row by k times its
    height above the middle (x + k (y - h/2)) makes their vertical strokes upright.
    The same sweep as ``plate_angle``, over the columns."""
    strokes = _strokes(crop, SHEAR_HEIGHT)
    if strokes is None:
        return 0.0
    ys, xs = strokes
    ys = ys - SHEAR_HEIGHT / 2.0
    return _sweep(lambda shears: _column_contrast(ys, xs, shears), max_shear, SHEAR_STEP)


def _column_contrast(ys: np.ndarray, xs: np.ndarray, shears: np.ndarray) -> np.ndarray:
    cols = np.floor(xs[None, :] + shears[:, None] * ys[None, :] + 0.5).astype(np.int64)
    return _profile_contrast(cols)


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
    crop: np.ndarray,
    margin_x: float = 0.0,
    margin_y: float = 0.0,
    min_angle: float = MIN_ANGLE,
    min_shear: float = MIN_SHEAR,
    plate_in_box: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float, float]:
    """(the crop levelled, the plate's angle, the lean taken out).

    A plate turned by at least ``min_angle`` is turned level and cut out;
    then characters that lean by at least ``min_shear`` are set upright. Where
    neither applies, the crop itself comes back with 0.0, 0.0.

    ``margin_x`` / ``margin_y``: the fraction of the detector's box that was
    added on each side to make the crop (pipeline.expand_box); the cut keeps
    the same margin around the levelled plate.

    ``plate_in_box``: the plate's share of the detector's box (width, height;
    pipeline.PLATE_BOX_SCALE). Where the box taken as the turned plate's
    bounding box gives no plate shape (the box's surround makes a turned
    plate look too tall), the plate inside it is tried, and the cut is grown
    back by the same share.
    """
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    out, angle = _turn_level(crop, grey, margin_x, margin_y, min_angle, plate_in_box)
    shear = plate_shear(grey if out is crop else out)
    if abs(shear) < min_shear:
        return out, angle, 0.0
    h, w = out.shape[:2]
    m = np.array([[1.0, shear, -shear * h / 2.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    return cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), angle, shear


def _plate_shaped(size: tuple[float, float] | None, crop_h: int) -> bool:
    """A plate at least 1.5 times as wide as high, not a sliver of the crop."""
    return size is not None and size[0] >= 1.5 * size[1] and size[1] >= 0.15 * crop_h


def _turn_level(
    crop: np.ndarray,
    grey: np.ndarray,
    margin_x: float,
    margin_y: float,
    min_angle: float,
    plate_in_box: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float]:
    angle = plate_angle(grey)
    if abs(angle) < min_angle:
        return crop, 0.0
    h, w = crop.shape[:2]
    box_w, box_h = w / (1 + 2 * margin_x), h / (1 + 2 * margin_y)
    size, grow = plate_size(box_w, box_h, angle), (1.0, 1.0)
    if not _plate_shaped(size, h) and plate_in_box is not None:
        size = plate_size(box_w * plate_in_box[0], box_h * plate_in_box[1], angle)
        grow = (1.0 / plate_in_box[0], 1.0 / plate_in_box[1])
    if size is None or not _plate_shaped(size, h):  # the box is not the plate's bounding box
        return crop, 0.0
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle, 1.0)
    turned = cv2.warpAffine(crop, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cut_w = min(w, round(size[0] * grow[0] * (1 + 2 * margin_x)))
    cut_h = min(h, round(size[1] * grow[1] * (1 + 2 * margin_y)))
    x0, y0 = (w - cut_w) // 2, (h - cut_h) // 2
    return turned[y0 : y0 + cut_h, x0 : x0 + cut_w], angle
