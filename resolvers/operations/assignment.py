"""Variant assignment exactly as the GrowthBook SDKs compute it (hash v1/v2, namespaces, coverage, weights).

Pure functions over plain values, so the hot path costs two FNV-1a hashes and a scan of the
bucket ranges. ``tests/operations/test_assignment_growthbook.py`` compares them with the
``growthbook`` package's ``GrowthBook.run`` over 10,000 subjects.

Example::

    ranges = bucket_ranges([0.5, 0.5], coverage=0.8)
    choose(gbhash("claim-fast", "customer:42", 2), ranges)  # 0, 1 or -1 (outside coverage)
"""

from __future__ import annotations

__all__ = ["bucket_ranges", "choose", "fnv1a32", "gbhash", "in_namespace"]

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a32(s: str) -> int:
    """32-bit FNV-1a over UTF-16 code units (as the JavaScript SDK's ``charCodeAt`` loop)."""
    h = _FNV_OFFSET
    if s.isascii():
        for b in s.encode():
            h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFF
        return h
    data = s.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = ((h ^ (data[i] | (data[i + 1] << 8))) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def gbhash(seed: str, value: str, version: int) -> float:
    """The subject's position in [0, 1): version 2 hashes twice (4 decimals), version 1 once (3 decimals)."""
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    raise ValueError(f"unknown hash version {version}")


def in_namespace(subject: str, namespace: str, start: float, end: float) -> bool:
    """Whether the subject falls in [start, end) of the namespace (GrowthBook hashes it with v1, seed ``__name``)."""
    n = gbhash("__" + namespace, subject, 1)
    return start <= n < end


def bucket_ranges(weights: list[float], coverage: float = 1.0) -> list[tuple[float, float]]:
    """Each variant's [start, end): consecutive weight slices, each shrunk to ``coverage`` of its width."""
    coverage = min(max(coverage, 0.0), 1.0)
    ranges: list[tuple[float, float]] = []
    cumulative = 0.0
    for w in weights:
        start = cumulative
        cumulative += w
        ranges.append((start, start + coverage * w))
    return ranges


def choose(n: float, ranges: list[tuple[float, float]]) -> int:
    """The index of the range holding ``n``, or -1 (not in the experiment)."""
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1
