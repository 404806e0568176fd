"""Imports every domain's models so that Alembic and ``create_all`` see all tables."""

from buyergroup.accounts.models import (  # noqa: F401
    ApiToken,
    Invitation,
    PasswordReset,
    User,
    UserExpertise,
    UserLanguage,
)
from buyergroup.audit.models import AuditEntry  # noqa: F401
from buyergroup.community.models import (  # noqa: F401, E402
    DigestRun,
    Follow,
    Notification,
    NotificationPreference,
)
from buyergroup.core.models import ContentState  # noqa: F401
from buyergroup.discussions.models import Post, PostReport, Thread  # noqa: F401, E402
from buyergroup.events.models import (  # noqa: F401, E402
    AgendaItem,
    CalendarFeed,
    Event,
    EventMaterial,
    EventSeries,
    Registration,
)
from buyergroup.glossary.models import Concept, Term  # noqa: F401, E402
from buyergroup.labels.models import (  # noqa: F401, E402
    Label,
    LabelCitation,
    LabelGeneration,
    StaleLabelFlag,
)
from buyergroup.library.models import (  # noqa: F401, E402
    Attachment,
    Comment,
    ItemAuthor,
    ItemRelation,
    ItemTag,
    ItemVersion,
    LibraryItem,
)
from buyergroup.mail.models import OutboxMessage  # noqa: F401
from buyergroup.network.models import (  # noqa: F401
    Affiliation,
    GroupMembership,
    JoinRequest,
    Organisation,
    WorkingGroup,
)
from buyergroup.search.models import PendingIndexUpdate  # noqa: F401, E402
from buyergroup.statements.models import (  # noqa: F401, E402
    RoadmapAction,
    Signature,
    SigningAuthority,
    Statement,
    StatementVersion,
)
from buyergroup.toolkit.models import Basket, BasketEntry, ClauseUse  # noqa: F401, E402
