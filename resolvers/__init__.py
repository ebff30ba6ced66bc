"""Behaviour behind the GraphQL schema, one sub-package per domain (models, service, loaders)."""
