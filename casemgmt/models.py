"""Imports every feature's models, so the metadata is complete wherever it is needed."""
from casemgmt.accounts.models import ApiToken, User  # noqa: F401
from casemgmt.audit.models import AuditEntry  # noqa: F401
from casemgmt.directory.models import (  # noqa: F401
    Area,
    Organisation,
    OrganisationCoverage,
    OrganisationService,
)
