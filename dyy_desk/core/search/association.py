"""Term association learnt from the library: how often entries have two terms together, relative to
chance. The ranker uses it to recognise rival words (花呗 / 借呗) without a hand-kept list.

The statistics are taken over a fixed sample (the first `SAMPLE_SLOTS` slots), which keeps the cost
bounded at any library size, and cached until the index changes (`forget`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Mapping, Sequence

SAMPLE_SLOTS = 4096
_MIN_EXPECTED = 2.0
_ASSOC_CACHE = 200_000
_SAMPLE_CACHE = 500_000  # slots held in cached samples, summed over terms


class TermAssociation:
    """Caches of one index's association statistics. The index passes its postings (items packed as
    `slot << 8 | impact`, in slot order) and its slots (None where an entry was removed) on each call,
    so compaction or a restore never leaves this holding stale containers."""

    def __init__(self) -> None:
        self._ratios: dict[tuple[str, str], float | None] = {}
        self._samples: dict[str, frozenset[int]] = {}
        self._sample_size = 0
        self._live_in_sample = -1  # live slots among the first SAMPLE_SLOTS; -1 until counted

    def forget(self) -> None:
        """The index changed: every cached statistic may be wrong."""
        self._ratios.clear()
        self._samples.clear()
        self._sample_size = 0
        self._live_in_sample = -1

    def ratio(
        self, a: str, b: str, postings: Mapping[str, array[int]], slots: Sequence[object | None]
    ) -> float | None:
        """Observed / expected co-occurrence of two terms. None when chance alone would put them
        together in fewer than two entries: too little evidence either way."""
        key = (a, b) if a <= b else (b, a)
        if key in self._ratios:
            return self._ratios[key]
        sa, sb = self._sample(a, postings, slots), self._sample(b, postings, slots)
        n = self._sample_live(slots)
        expected = len(sa) * len(sb) / n if n else 0.0
        value = len(sa & sb) / expected if expected >= _MIN_EXPECTED else None
        if len(self._ratios) >= _ASSOC_CACHE:
            self._ratios.clear()
        self._ratios[key] = value
        return value

    def _sample(
        self, term: str, postings: Mapping[str, array[int]], slots: Sequence[object | None]
    ) -> frozenset[int]:
        found = self._samples.get(term)
        if found is None:
            plist = postings.get(term)
            if plist is None:
                found = frozenset()
            else:
                # Postings are in slot order, so the sample is a prefix of each list.
                head = plist[: bisect_left(plist, SAMPLE_SLOTS << 8)]
                found = frozenset(s for s in (p >> 8 for p in head) if slots[s] is not None)
            if self._sample_size + len(found) > _SAMPLE_CACHE:
                self._samples.clear()
                self._sample_size = 0
            self._samples[term] = found
            self._sample_size += len(found)
        return found

    def _sample_live(self, slots: Sequence[object | None]) -> int:
        if self._live_in_sample < 0:
            self._live_in_sample = sum(1 for d in slots[:SAMPLE_SLOTS] if d is not None)
        return self._live_in_sample
