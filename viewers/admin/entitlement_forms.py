"""The forms of the entitlement admin's own pages (granting to a group, extending), with the widgets its change
form uses: the split date and time field (YYYY-MM-DD, a calendar and a clock), the two-box channel picker and the
group autocomplete."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from viewers import validators
from viewers.models import Channel, Entitlement, Resolution

IN_SITE_TIME_ZONE = f"In the site's time zone ({settings.TIME_ZONE})."


class WindowField(forms.SplitDateTimeField):
    """A moment of an entitlement's window, typed as the change form's dates are."""

    widget = widgets.AdminSplitDateTime
    default_validators = [validators.validate_date_in_range]


def related(widget, field_name: str):
    """`widget` in the wrapper the change form puts around a relation's widget (with no add or change links):
    the two-box picker builds itself inside it, and would otherwise land before its label."""
    rel = Entitlement._meta.get_field(field_name).remote_field
    return widgets.RelatedFieldWidgetWrapper(widget, rel, admin.site, can_add_related=False)


class GroupGrantForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        # The autocomplete of the entitlement form's group field: the same search, the same permission check.
        widget=related(widgets.AutocompleteSelect(Entitlement._meta.get_field("group"), admin.site), "group"),
        help_text="Its members today and those added later.",
    )
    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.filter(is_private=True),
        widget=related(widgets.FilteredSelectMultiple("channels", is_stacked=False), "channel"),
        help_text="Private channels only: public ones need no entitlement.",
    )
    starts_at = WindowField(required=False, help_text=f"Empty: from now on. {IN_SITE_TIME_ZONE}")
    ends_at = WindowField(required=False, help_text="Empty: no end.")
    max_resolution = forms.ChoiceField(
        choices=[("", "No limit"), *Resolution.choices], required=False, label="Max resolution"
    )
    note = forms.CharField(max_length=500, required=False, widget=widgets.AdminTextInputWidget)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        try:
            Entitlement.check_window(starts, ends)
        except ValidationError as exc:
            self.add_error(None, exc)
        if ends and ends <= timezone.now():
            self.add_error("ends_at", "This window has already ended.")
        return data


class ExtendForm(forms.Form):
    until = WindowField(label="New end", help_text=IN_SITE_TIME_ZONE)

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return until
