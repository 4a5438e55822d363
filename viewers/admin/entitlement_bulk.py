"""The entitlement list's bulk actions (revoke, end now, extend): a confirmation page that names what it acts on,
then the write through viewers.services.

The page lists the first SHOWN entitlements and the first SHOWN viewers holding them, and counts the rest, with a
query each: "select all" across a filtered list of 50,000 rows must not load them."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import ngettext

from viewers import services
from viewers.admin.base import render
from viewers.admin.entitlement_forms import ExtendForm

SHOWN = 50


@dataclass(frozen=True)
class BulkAction:
    verb: str  # the page's title, its question and its button
    done: str  # the message afterwards
    changes: str  # which of the selected ones it changes: "2 of the 3 are <changes>"
    changes_none: str  # why it would change none of them, for one selected entitlement or many
    when: str = ""  # after the verb: "End 3 entitlements now"


BULK_ACTIONS = {
    "revoke": BulkAction("Revoke", "Revoked", "not revoked yet", "every selected entitlement is revoked already"),
    "end_now": BulkAction("End", "Ended", "in force now", "no selected entitlement is in force now", " now"),
    "extend": BulkAction("Extend", "Extended", "not revoked", "every selected entitlement is revoked"),
}


def _apply(request, queryset, action, form) -> int:
    if action == "revoke":
        return services.entitlements_revoke(entitlements=queryset, revoked_by=request.user)
    if action == "end_now":
        return services.entitlements_end_now(entitlements=queryset)
    return services.entitlements_extend(entitlements=queryset, until=form.cleaned_data["until"])


def _first(queryset, count):
    """The first SHOWN rows, and how many are left out of `count`."""
    rows = list(queryset[:SHOWN])
    return rows, count - len(rows)


def _acted_on(model_admin, queryset, action) -> dict:
    """How many entitlements and viewers, how many of them the action changes, and the first SHOWN of each: a
    query each, however many are selected."""
    count, holders = queryset.count(), queryset.holders()
    viewer_count = holders.count()
    entitlements, more_entitlements = _first(queryset.select_related("user", "group", "channel"), count)
    viewers, more_viewers = _first(holders.order_by("username"), viewer_count)
    return {
        "count": count,
        "changing": services.bulk_changes(action, queryset, timezone.now()).count(),
        "rows": [(entitlement, model_admin.status(entitlement)) for entitlement in entitlements],
        "more_entitlements": more_entitlements,
        "viewer_count": viewer_count,
        "viewers": viewers,
        "more_viewers": more_viewers,
    }


def bulk_action(model_admin, request, queryset, action):
    """Confirmation page for revoke / end now / extend, then the write through viewers.services."""
    bulk = BULK_ACTIONS[action]
    form = ExtendForm(request.POST if "apply" in request.POST else None) if action == "extend" else None
    if "apply" in request.POST and (form is None or form.is_valid()):
        count = _apply(request, queryset, action, form)
        message = ngettext("%(done)s %(count)d entitlement.", "%(done)s %(count)d entitlements.", count)
        model_admin.message_user(request, message % {"done": bulk.done, "count": count}, messages.SUCCESS)
        return None
    select_across = request.POST.get("select_across") == "1"
    return render(
        model_admin,
        request,
        "admin/viewers/entitlement/bulk_confirm.html",
        f"{bulk.verb} entitlements{bulk.when}",
        action=action,
        bulk=bulk,
        form=form,
        reconcile_seconds=settings.IVS_RECONCILE_SECONDS,
        # Without "select all", the selected rows (one page at most) go back with the form; with it, the filter.
        pks=[] if select_across else list(queryset.values_list("pk", flat=True)),
        select_across=select_across,
        first_pk=request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)[:1],
        action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
        **_acted_on(model_admin, queryset, action),
    )
