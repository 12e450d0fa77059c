"""Merging fine bins into coarse ones: WOE/IV, pool adjacent violators, peaks and valleys.

The functions work on ordered fine bins given as counts of goods and bads, and return blocks:
lists of consecutive fine-bin indices that become one coarse bin each.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def woe_iv(
    goods: npt.ArrayLike, bads: npt.ArrayLike, *, smoothing: float = 0.5
) -> tuple[FloatArray, float]:
    """WOE per bin and the information value of the whole table.

    ``smoothing`` is added to every count so a bin with no goods or no bads stays finite; an
    empty bin has WOE 0. Without smoothing, a bin with goods but no bads has infinite WOE.
    """
    g = np.asarray(goods, dtype=np.float64)
    b = np.asarray(bads, dtype=np.float64)
    total_g, total_b = float(g.sum()), float(b.sum())
    if total_g <= 0 or total_b <= 0:
        return np.zeros(len(g)), 0.0
    empty = (g + b) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        woe = np.log((g + smoothing) / total_g) - np.log((b + smoothing) / total_b)
    # an empty bin has no evidence either way
    woe = np.where(empty, 0.0, woe)
    iv = float(np.sum((g / total_g - b / total_b) * woe))
    return woe, iv


def _pava(rates: FloatArray, weights: FloatArray, *, increasing: bool) -> list[list[int]]:
    """Pool adjacent violators: blocks of consecutive indices with a monotonic weighted mean."""
    sign = 1.0 if increasing else -1.0
    blocks: list[list[int]] = []
    means: list[float] = []
    sizes: list[float] = []
    for i, (r, w) in enumerate(zip(rates, weights, strict=True)):
        blocks.append([i])
        means.append(sign * float(r))
        sizes.append(float(w))
        while len(means) > 1 and means[-2] > means[-1]:
            w_total = sizes[-2] + sizes[-1]
            means[-2] = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / w_total
            sizes[-2] = w_total
            blocks[-2].extend(blocks[-1])
            del blocks[-1], means[-1], sizes[-1]
    return blocks


def merge_small(blocks: list[list[int]], goods: FloatArray, bads: FloatArray, min_n: float) -> None:
    """Merge blocks smaller than ``min_n`` into the neighbour with the closer bad rate."""
    while len(blocks) > 1:
        sizes = [float(goods[b].sum() + bads[b].sum()) for b in blocks]
        smallest = int(np.argmin(sizes))
        if sizes[smallest] >= min_n:
            return
        rate = [float(bads[b].sum()) / max(s, 1.0) for b, s in zip(blocks, sizes, strict=True)]
        if smallest == 0:
            other = 1
        elif smallest == len(blocks) - 1:
            other = smallest - 1
        else:
            left = abs(rate[smallest] - rate[smallest - 1])
            right = abs(rate[smallest] - rate[smallest + 1])
            other = smallest - 1 if left <= right else smallest + 1
        low, high = sorted((smallest, other))
        blocks[low] = blocks[low] + blocks[high]
        del blocks[high]


def enforce_woe_trend(
    blocks: list[list[int]],
    goods: FloatArray,
    bads: FloatArray,
    smoothing: float,
    *,
    bad_rate_increasing: bool,
) -> None:
    """Merge neighbours until the smoothed WOE itself is strictly monotonic."""
    while len(blocks) > 1:
        g = np.array([goods[b].sum() for b in blocks])
        b_ = np.array([bads[b].sum() for b in blocks])
        steps = np.diff(woe_iv(g, b_, smoothing=smoothing)[0])
        # bad rate up means WOE down
        violations = np.flatnonzero(steps >= 0 if bad_rate_increasing else steps <= 0)
        if len(violations) == 0:
            return
        i = int(violations[0])
        blocks[i] = blocks[i] + blocks[i + 1]
        del blocks[i + 1]


def _block_iv(blocks: list[list[int]], goods: FloatArray, bads: FloatArray, a: float) -> float:
    g = np.array([goods[b].sum() for b in blocks])
    b_ = np.array([bads[b].sum() for b in blocks])
    return woe_iv(g, b_, smoothing=a)[1]


def optimal_blocks(
    goods: FloatArray,
    bads: FloatArray,
    *,
    smoothing: float,
    min_bin_share: float,
    allow_peak: bool,
    peak_gain: float,
) -> tuple[list[list[int]], str]:
    """Group ordered fine bins into coarse bins with a monotonic (or unimodal) bad rate."""
    n = goods + bads
    rates = (bads + smoothing) / (n + 2 * smoothing)
    min_n = min_bin_share * float(n.sum())
    candidates: list[tuple[float, list[list[int]], str]] = []
    for increasing, name in ((True, "ascending"), (False, "descending")):
        blocks = _pava(rates, n, increasing=increasing)
        merge_small(blocks, goods, bads, min_n)
        enforce_woe_trend(blocks, goods, bads, smoothing, bad_rate_increasing=increasing)
        candidates.append((_block_iv(blocks, goods, bads, smoothing), blocks, name))
    best = max(candidates, key=lambda c: c[0])
    if not allow_peak or len(n) < 4:
        return best[1], best[2]
    unimodal: tuple[float, list[list[int]], str] | None = None
    for split in range(1, len(n) - 1):
        for first_up, name in ((True, "peak"), (False, "valley")):
            left = _pava(rates[:split], n[:split], increasing=first_up)
            right = _pava(rates[split:], n[split:], increasing=not first_up)
            blocks = left + [[i + split for i in b] for b in right]
            merge_small(blocks, goods, bads, min_n)
            iv = _block_iv(blocks, goods, bads, smoothing)
            if unimodal is None or iv > unimodal[0]:
                unimodal = (iv, blocks, name)
    if unimodal is not None and _clearly_better(unimodal, best, goods, bads, peak_gain):
        return unimodal[1], unimodal[2]
    return best[1], best[2]


def _g_statistic(blocks: list[list[int]], goods: FloatArray, bads: FloatArray) -> float:
    """Likelihood-ratio statistic of the bins against a single bad rate."""
    table = np.array([[goods[b].sum(), bads[b].sum()] for b in blocks])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    cells = table > 0
    return float(2.0 * np.sum(table[cells] * np.log(table[cells] / expected[cells])))


def _clearly_better(
    unimodal: tuple[float, list[list[int]], str],
    monotonic: tuple[float, list[list[int]], str],
    goods: FloatArray,
    bads: FloatArray,
    peak_gain: float,
) -> bool:
    """A peak or valley must multiply the IV and be significant (p < 0.001) over the trend."""
    from scipy.stats import chi2

    if unimodal[0] < monotonic[0] * peak_gain or unimodal[0] < monotonic[0] + 0.02:
        return False
    gain = _g_statistic(unimodal[1], goods, bads) - _g_statistic(monotonic[1], goods, bads)
    extra = max(len(unimodal[1]) - len(monotonic[1]), 1)
    return bool(gain > chi2.ppf(0.999, extra))
