"""Users in the admin: the list (with who is active, invited or switched off), and a user's page with what they may
watch and where they watched."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from viewers import access
from viewers.admin.base import OpsMedia
from viewers.models import AccountStatus, Entitlement, TokenAudit, User, account_status, account_status_q

RECENT_SESSIONS = 20
# Why a user's entitlements give them nothing to watch yet, by account status.
CANNOT_WATCH = {
    AccountStatus.INVITED: "Invited, and no password set yet: this user can watch none of these until they have set "
    "one through their invitation link (which activates the account).",
    AccountStatus.INACTIVE: "This account is inactive: it can watch none of these until it is made active again.",
}


class AccountStatusFilter(admin.SimpleListFilter):
    title = "account status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return AccountStatus.choices

    def queryset(self, request, queryset):
        if self.value() in AccountStatus.values:
            return queryset.filter(account_status_q(AccountStatus(self.value())))
        return queryset


def with_state(entitlements, now) -> list:
    """Each entitlement with its state at `now`, labelled by the access rule's own access.entitlement_state (the
    entitlement list's status column says the same); "active" reads "in force" next to a person."""
    rows = list(entitlements.order_by("channel__name", "-created_at"))
    for row in rows:
        state = access.entitlement_state(row.revoked_at, row.starts_at, row.ends_at, now)
        row.state = "in force" if state == "active" else state
    return rows


def user_panels(request, user) -> dict:
    """What the user's page shows below the form, each part only to staff who may see that list: the user's
    entitlements (their own and their groups'), and their latest playback sessions (token audit rows, never a
    token). A fixed number of queries, however many rows."""
    panels = {"cannot_watch": CANNOT_WATCH.get(account_status(user), "")}
    if request.user.has_perm("viewers.view_entitlement"):
        now = timezone.now()
        entitlements = Entitlement.objects.select_related("channel")
        panels["direct_entitlements"] = with_state(entitlements.filter(user=user), now)
        panels["group_entitlements"] = with_state(entitlements.filter(group__user=user).select_related("group"), now)
    if request.user.has_perm("viewers.view_tokenaudit"):
        # The (user, channel, issued_at) index leads with the user: the latest rows are read, not the whole audit.
        sessions = list(
            TokenAudit.objects.filter(user=user)
            .select_related("channel", "viewing")
            .order_by("-issued_at")[: RECENT_SESSIONS + 1]
        )
        panels["sessions"] = sessions[:RECENT_SESSIONS]
        panels["more_sessions"] = len(sessions) > RECENT_SESSIONS
        panels["recent_sessions"] = RECENT_SESSIONS
        panels["can_stop"] = request.user.has_perm("viewers.stop_session")
    return panels


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # Without Django's two name columns (the search still finds names), so the status and login columns fit.
    list_display = ("username", "email", "status", "is_active", "staff", "last_seen")
    list_filter = (AccountStatusFilter, "is_staff", "is_superuser", "is_active", "groups")
    readonly_fields = ("viewer_id",)
    fieldsets = DjangoUserAdmin.fieldsets + (("Playback", {"fields": ("viewer_id",)}),)
    change_form_template = "admin/viewers/user/change_form.html"
    Media = OpsMedia

    @admin.display(description="status", ordering="is_active")
    def status(self, user):
        return account_status(user).label

    @admin.display(description="staff", boolean=True, ordering="is_staff")
    def staff(self, user):
        return user.is_staff

    @admin.display(description="last login", ordering="last_login")
    def last_seen(self, user):
        # A date is enough in a list (the user's page has the time); "never" is what tells an invitation unused.
        return f"{timezone.localtime(user.last_login):%Y-%m-%d}" if user.last_login else "never"

    @admin.display(description="password")
    def password_state(self, user):
        return "set" if user.has_usable_password() else "not set"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Staff who may only look get neither the password's hash (the admin shows a read-only field's raw value)
        # nor the "set password" button: only whether there is one.
        return [
            (name, {**options, "fields": [f if f != "password" else "password_state" for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), "password_state")
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "user_permissions")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context.update(user_panels(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # change_user is what invitation links need; it must not also mean "become a superuser": only superusers
    # edit superusers (their password included) or hand out superuser status and per-user permissions.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)
