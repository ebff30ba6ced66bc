"""Ground floor of Opsure: settings, database, auth primitives, ids, errors.

Nothing in this package imports any other Opsure package, so every import points down.
"""
