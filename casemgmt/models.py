"""Imports every feature's models, so the metadata is complete wherever it is needed."""
from casemgmt.accounts.models import ApiToken, User  # noqa: F401
from casemgmt.api.models import IdempotencyRecord  # noqa: F401
from casemgmt.audit.models import AccessLogEntry, AuditEntry  # noqa: F401
from casemgmt.cases.models import (  # noqa: F401
    Attachment,
    Case,
    CaseConcern,
    CaseEvent,
    CaseNumberSequence,
    CaseSensitive,
    Child,
    Complaint,
    ComplaintLink,
    Household,
)
from casemgmt.cases.search import install_sqlite_search  # noqa: F401  (DDL hook for create_all)
from casemgmt.conferences.models import (  # noqa: F401
    CaseConference,
    ConferenceAttendee,
    ConferenceCase,
    ConferenceDecision,
    ConferenceOrganisation,
    Task,
)
from casemgmt.notify.models import Delivery, NotificationPreference  # noqa: F401
from casemgmt.notify.push import PushSubscription  # noqa: F401
from casemgmt.referrals.models import Referral  # noqa: F401
from casemgmt.reports.models import ExportJob, IndicatorBucket, IndicatorBuild, IndicatorDirty  # noqa: F401
from casemgmt.workflow.models import (  # noqa: F401
    Approval,
    Assessment,
    DeadlineSetting,
    MonitoringVisit,
    Notification,
    PlanAction,
    PlanGoal,
)
from casemgmt.directory.models import (  # noqa: F401
    Area,
    Organisation,
    OrganisationCoverage,
    OrganisationService,
)
from casemgmt.storage import FileChunk, StoredFile  # noqa: F401,E402
from casemgmt.transfers.models import Transfer  # noqa: F401,E402

# The indicators count the records above as they change: at each flush reports.tally marks the
# indicator buckets a new or changed Case, Child, Complaint, CaseConcern, transition event,
# Referral or PlanAction touches, and writes them down at commit, in the same transaction.
from casemgmt.reports import tally  # noqa: E402

tally.install()
# The counts a coordinator's home and triage page keep for a minute are dropped as the district's
# cases, conferences and settings change (workflow.kept_counts).
from casemgmt.workflow import kept_counts  # noqa: E402

kept_counts.install()
from casemgmt.population.models import (  # noqa: F401,E402
    OutreachEvent,
    OutreachItem,
    OutreachLetter,
    OutreachLetterSequence,
    PopulationCount,
    PopulationCurrent,
    PopulationImport,
    PopulationPerson,
)
