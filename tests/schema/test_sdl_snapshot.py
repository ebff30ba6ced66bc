"""The public contract is reviewed: code and the committed SDL snapshot must agree."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from schema import build_schema

SNAPSHOT = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


def test_sdl_matches_committed_snapshot() -> None:
    current = build_schema(Settings()).as_str() + "\n"
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "schema changed: run `opsure schema --output schema/schema.graphql` and commit the diff"
    )
