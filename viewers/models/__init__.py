"""The site's models, one module per family; everything is importable from viewers.models."""

from viewers.models.chat import ChatBan, ChatEnd, ChatRoom, ChatRoomStatus, ChatSession
from viewers.models.entitlements import (
    ENDS_AFTER_START,
    ENTITLEMENT_STATES,
    Channel,
    Entitlement,
    EntitlementImport,
    Resolution,
    current_entitlement_q,
)
from viewers.models.keys import PlaybackKey, PlaybackKeyRegion
from viewers.models.sessions import (
    UNKNOWN_SIGNER,
    CountryDenial,
    Revocation,
    RevocationKind,
    RevocationStatus,
    SessionEnd,
    TokenAudit,
)
from viewers.models.users import AccountStatus, Invitation, User, account_status, account_status_q, new_viewer_id
from viewers.models.viewings import PendingHeartbeat, Viewing

__all__ = [
    "AccountStatus",
    "ENDS_AFTER_START",
    "ENTITLEMENT_STATES",
    "Channel",
    "ChatBan",
    "ChatEnd",
    "ChatRoom",
    "ChatRoomStatus",
    "ChatSession",
    "CountryDenial",
    "Entitlement",
    "EntitlementImport",
    "Invitation",
    "PendingHeartbeat",
    "PlaybackKey",
    "PlaybackKeyRegion",
    "Resolution",
    "Revocation",
    "RevocationKind",
    "RevocationStatus",
    "SessionEnd",
    "TokenAudit",
    "UNKNOWN_SIGNER",
    "User",
    "Viewing",
    "account_status",
    "account_status_q",
    "current_entitlement_q",
    "new_viewer_id",
]
