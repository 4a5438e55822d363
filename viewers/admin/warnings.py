"""The channel and key admin pages repeat the system checks' warnings about them, where operators look."""

from viewers.ivs import key_regions
from viewers.player import geo


def ops_warnings() -> list[str]:
    return key_regions.missing_key_messages() + geo.unsourced_rule_messages()


class OpsWarnings:
    """A ModelAdmin mixin: `ops_warnings` in the context of the list and the change form (a few small queries)."""

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "ops_warnings": ops_warnings()})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        context = {**(extra_context or {}), "ops_warnings": ops_warnings()}
        return super().changeform_view(request, object_id, form_url, context)
