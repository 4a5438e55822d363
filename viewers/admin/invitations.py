import logging

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry

from viewers.models import Invitation, User
from viewers.operators import exports
from viewers.operators.invitations import invitation_links

logger = logging.getLogger("viewers.admin")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at", "created_by", "accepted_at")
    list_filter = (("accepted_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__email", "user__username")
    list_select_related = ("user", "created_by")
    actions = ("download_links",)
    readonly_fields = ("user", "created_at", "created_by", "accepted_at")

    @admin.display(description="email", ordering="user__email")
    def email(self, invitation):
        return invitation.user.email

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_send_links_permission(self, request):
        # A link sets the password of an account and activates it with every channel it was granted: it is a
        # credential, so only someone who may change users may take it.
        return request.user.has_perm("viewers.change_user")

    @admin.action(
        description="Download password-set links (CSV) for the selected pending invitations",
        permissions=["send_links"],
    )
    def download_links(self, request, queryset):
        pending = queryset.filter(accepted_at__isnull=True).select_related("user")
        # Who took which links, in the admin's history and the log; never the links themselves.
        LogEntry.objects.log_actions(request.user.pk, pending, CHANGE, "Exported its password-set link (CSV).")
        logger.info(
            "password-set links exported by user %s for invitations %s", request.user.pk, [i.pk for i in pending]
        )
        users = User.objects.filter(invitation__in=pending).order_by("email")
        base = request.build_absolute_uri("/")
        return exports.csv_response(
            "invitation-links.csv", ["email", "password_set_link"], invitation_links(users, base)
        )
