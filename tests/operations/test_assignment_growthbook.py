"""Assignment equals the GrowthBook SDK's (``growthbook`` package): 10,000 subjects per configuration."""

from __future__ import annotations

import pytest
from growthbook import Experiment as GbExperiment
from growthbook import GrowthBook
from hypothesis import given
from hypothesis import strategies as st

from resolvers.operations.assignment import bucket_ranges, choose, fnv1a32, gbhash, in_namespace
from resolvers.operations.experiments import _bucket
from resolvers.operations.models import Experiment, Flow

CONFIGS = [
    # (weights, coverage, namespace (name, start, end) or None, seed)
    ([0.5, 0.5], 1.0, None, "claim-fast"),
    ([0.2, 0.8], 1.0, None, "claim-fast"),
    ([0.1, 0.3, 0.6], 0.7, None, "three-way"),
    ([0.5, 0.5], 0.25, ("claim", 0.0, 0.5), "ns-left"),
    ([0.34, 0.66], 1.0, ("claim", 0.5, 1.0), "ns-right"),
    ([0.5, 0.5], 0.9, ("消费", 0.1, 0.6), "种子"),
]


def _sdk(subject: str, weights: list[float], coverage: float, namespace: tuple[str, float, float] | None,
         seed: str) -> int:
    gb = GrowthBook(attributes={"id": subject})
    exp = GbExperiment(key="exp", variations=list(range(len(weights))), weights=weights, coverage=coverage,
                       namespace=namespace, seed=seed, hashVersion=2)
    result = gb.run(exp)
    return result.variationId if result.inExperiment else -1


@pytest.mark.parametrize(("weights", "coverage", "namespace", "seed"), CONFIGS)
def test_ten_thousand_subjects_match_the_sdk(weights: list[float], coverage: float,
                                             namespace: tuple[str, float, float] | None, seed: str) -> None:
    ns, start, end = namespace or ("claim", 0.0, 1.0)
    exp = Experiment(key="exp", flow=Flow.CLAIM, variants=[{"key": str(i), "weight": w} for i, w in enumerate(weights)],
                     coverage=coverage, namespace=ns, namespace_start=start, namespace_end=end, seed=seed,
                     hash_version=2)
    subjects = [f"customer:{i}" for i in range(10_000)]
    ours = [_bucket(exp, s) for s in subjects]
    theirs = [_sdk(s, weights, coverage, namespace, seed) for s in subjects]
    assert ours == theirs
    assert len(set(ours)) == len(weights) + (1 if coverage < 1 or namespace else 0)  # every arm (and "out") occurs


@given(st.text(min_size=1, max_size=40), st.text(max_size=20))
def test_hash_matches_the_sdk_on_any_text(subject: str, seed: str) -> None:
    from growthbook.core import fnv1a32 as gb_fnv
    from growthbook.core import gbhash as gb_hash
    from growthbook.core import inNamespace

    assert fnv1a32(subject) == gb_fnv(subject)
    assert gbhash(seed, subject, 2) == gb_hash(seed, subject, 2)
    assert gbhash(seed, subject, 1) == gb_hash(seed, subject, 1)
    assert in_namespace(subject, seed, 0.2, 0.7) == inNamespace(subject, (seed, 0.2, 0.7))


def test_coverage_leaves_the_rest_of_each_slice_out() -> None:
    assert choose(0.3, bucket_ranges([0.5, 0.5], 0.5)) == -1
    assert choose(0.2, bucket_ranges([0.5, 0.5], 0.5)) == 0
    assert choose(0.6, bucket_ranges([0.5, 0.5], 0.5)) == 1
    assert choose(0.8, bucket_ranges([0.5, 0.5], 0.5)) == -1
