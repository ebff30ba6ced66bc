"""The full introspection query (what GraphiQL and code generators send) answers without errors."""

from __future__ import annotations

from graphql import get_introspection_query, graphql_sync

from core.settings import Settings
from schema import build_schema


def test_the_full_introspection_query_answers() -> None:
    schema = build_schema(Settings())._schema
    result = graphql_sync(schema, get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert result.errors is None, result.errors
    assert result.data and result.data["__schema"]["queryType"]["name"] == "Query"
