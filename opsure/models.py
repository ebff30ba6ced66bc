"""Imports every table module so the one metadata knows all tables (migrations, tests)."""

from __future__ import annotations

from core import audit as _audit  # noqa: F401
from core import event_stream as _event_stream  # noqa: F401
from core import ratelimit as _ratelimit  # noqa: F401
from core.db import Base
from ledger import models as _ledger  # noqa: F401
from partners import models as _partners  # noqa: F401
from resolvers.advances import models as _advances  # noqa: F401
from resolvers.analytics import models as _analytics  # noqa: F401
from resolvers.claims import models as _claims  # noqa: F401
from resolvers.claims.ops import models as _claims_ops  # noqa: F401
from resolvers.claims.risk import rule_models as _claim_rules  # noqa: F401
from resolvers.investigations import models as _investigations  # noqa: F401
from resolvers.knowledge import models as _knowledge  # noqa: F401
from resolvers.operations import models as _operations  # noqa: F401
from resolvers.operations.tags import models as _operations_tags  # noqa: F401
from resolvers.payments import models as _payments  # noqa: F401
from resolvers.policies import models as _policies  # noqa: F401
from resolvers.service import models as _service  # noqa: F401

metadata = Base.metadata

__all__ = ["metadata"]
