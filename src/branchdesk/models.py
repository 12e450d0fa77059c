"""Every domain's tables, imported in one place so metadata (and Alembic) sees them all."""

from __future__ import annotations

from branchdesk.analytics import models as analytics_models
from branchdesk.appointments import models as appointment_models
from branchdesk.care import models as care_models
from branchdesk.catalog import models as catalog_models
from branchdesk.complaints import models as complaint_models
from branchdesk.compliance import models as compliance_models
from branchdesk.core import events as core_events
from branchdesk.core import references as core_references
from branchdesk.core.db import Base
from branchdesk.customers import models as customer_models
from branchdesk.feedback import models as feedback_models
from branchdesk.identity import models as identity_models
from branchdesk.ledger import models as ledger_models
from branchdesk.loans import models as loan_models
from branchdesk.loyalty import models as loyalty_models
from branchdesk.operations import models as operations_models
from branchdesk.portal import models as portal_models
from branchdesk.quality import models as quality_models
from branchdesk.queue import models as queue_models
from branchdesk.risk.cases import models as risk_models
from branchdesk.social import models as social_models
from branchdesk.teller import models as teller_models
from branchdesk.textanalysis import models as textanalysis_models
from branchdesk.training import models as training_models

__all__ = [
    "Base",
    "analytics_models",
    "appointment_models",
    "care_models",
    "catalog_models",
    "complaint_models",
    "compliance_models",
    "core_events",
    "core_references",
    "customer_models",
    "feedback_models",
    "identity_models",
    "ledger_models",
    "loan_models",
    "loyalty_models",
    "operations_models",
    "portal_models",
    "quality_models",
    "queue_models",
    "risk_models",
    "social_models",
    "teller_models",
    "textanalysis_models",
    "training_models",
]
