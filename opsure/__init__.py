"""Opsure's roof: the app factory, the CLI and the worker that compose every floor below."""
