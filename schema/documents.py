"""GraphQL document text: the size cap, the digest caches key on, and the bounded caches.

A client chooses the size of its documents, so everything kept per document is bounded:
a document over ``max_bytes`` (UTF-8) is refused before parsing; the parser counts
comments as tokens (``max_tokens``), so a comment-padded document is refused while it is
being read; parsed documents and validation passes are cached under the SHA-256 of the
text (never the text itself) in caches bounded in entries and in estimated bytes.

Example::

    store = DocumentStore(max_bytes=65536, max_tokens=4000)
    document, digest = store.parse(text)              # GraphQLError when refused
    errors = store.validate(schema._schema, document, rules, digest=digest)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document

from schema.cache import BoundedCache, CacheStats

__all__ = [
    "DOCUMENT_TOO_LARGE",
    "DocumentStore",
    "document_digest",
    "document_size",
    "document_too_large",
    "parsed_cost",
    "too_large_error",
]

DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"

# Measured with tracemalloc on graphql-core 3.3 (tests/schema/test_document_cache.py keeps
# these an upper bound): an AST with locations keeps every token, comments included, at
# up to ~400 bytes each, and copies of comment and string token values.
_BYTES_PER_TOKEN = 480
_BYTES_PER_DOCUMENT = 4096
_VALIDATION_PASS_COST = 512  # the key: a digest and the tuple of rule classes


def document_size(text: str) -> int:
    """The size of ``text`` in UTF-8 bytes (lone surrogates count as three)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def document_too_large(text: str, max_bytes: int) -> bool:
    """True when ``text`` is over ``max_bytes`` in UTF-8 (without encoding long texts)."""
    return len(text) > max_bytes or (len(text) * 4 > max_bytes and document_size(text) > max_bytes)


def document_digest(text: str) -> bytes:
    """The SHA-256 of the document's UTF-8 text: the key of every document cache."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def parsed_cost(text: str, document: DocumentNode) -> int:
    """Estimated bytes an AST of ``text`` (with locations) keeps alive, the text included."""
    tokens = getattr(document, "token_count", None)
    if not isinstance(tokens, int):
        tokens = len(text) // 2 + 1
    return 2 * document_size(text) + _BYTES_PER_TOKEN * tokens + _BYTES_PER_DOCUMENT


def too_large_error(max_bytes: int) -> GraphQLError:
    """The error refusing a document over the cap."""
    return GraphQLError(f"The GraphQL document is larger than {max_bytes} bytes.",
                        extensions={"code": DOCUMENT_TOO_LARGE})


class DocumentStore:
    """One schema's parsed documents and validation passes, keyed by digest and bounded."""

    def __init__(self, *, max_bytes: int, max_tokens: int, parse_entries: int = 1024,
                 parse_bytes: int = 32 << 20, validation_entries: int = 4096) -> None:
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.parsed: BoundedCache[bytes, DocumentNode] = BoundedCache(
            "parsed documents", max_entries=parse_entries, max_bytes=parse_bytes)
        self.validated: BoundedCache[tuple[bytes, tuple[type[ASTValidationRule], ...]], bool] = BoundedCache(
            "validation passes", max_entries=validation_entries,
            max_bytes=validation_entries * _VALIDATION_PASS_COST)

    def parse(self, text: str) -> tuple[DocumentNode, bytes]:
        """The AST of ``text`` and its digest: refused over the size cap, comments counted, cached."""
        if document_too_large(text, self.max_bytes):
            raise too_large_error(self.max_bytes)
        digest = document_digest(text)
        document = self.parsed.get(digest)
        if document is None:
            # ``max_tokens`` counts comments too (graphql-core 3.3; pinned, tests/schema/
            # test_pinned_internals.py): ``max_lexical_tokens`` would not.
            document = parse(text, max_tokens=self.max_tokens)
            self.parsed.put(digest, document, cost=parsed_cost(text, document))
        return document, digest

    def validate(self, schema: GraphQLSchema, document: DocumentNode,
                 rules: Sequence[type[ASTValidationRule]], *, digest: bytes | None) -> list[GraphQLError]:
        """Validation errors of ``document`` under ``rules``; passes are remembered, refusals not."""
        key = (digest, tuple(rules)) if digest is not None else None
        if key is not None and self.validated.get(key):
            return []
        errors = validate_document(schema, document, tuple(rules))
        if not errors and key is not None:
            self.validated.put(key, True, cost=_VALIDATION_PASS_COST)
        return errors

    def stats(self) -> list[CacheStats]:
        """The state of both caches."""
        return [self.parsed.stats(), self.validated.stats()]
