"""The custom admin pages' forms and sentences, the admin's way: a form laid out as the change form lays out its
fields (admin/includes/fieldset.html: form rows, help text, errors), its admin widgets' scripts with the core.js
they need, and dates inside sentences in a format that ends in no full stop of its own."""

from django import forms, template
from django.contrib.admin import helpers
from django.utils import dateformat

from viewers.attendance.live import device_of

register = template.Library()

# The locale's DATETIME_FORMAT ends in "p.m.", which a sentence's full stop doubles ("1:25 p.m.."). This ends in
# the time zone's name instead, which also says which clock the time is on: "3 Dec 2026, 13:25 UTC".
SENTENCE_DATETIME_FORMAT = "j M Y, H:i T"


@register.filter
def admin_form(form):
    """`form` as the admin's AdminForm: one unnamed fieldset holding its fields, in their order."""
    return helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})


@register.filter
def admin_media(form):
    """The scripts and styles `form`'s admin widgets need. The date widgets use core.js, which a change form gets
    from ModelAdmin.media; a custom page has to ask for it."""
    return forms.Media(js=["admin/js/core.js"]) + form.media


@register.filter(expects_localtime=True)
def in_sentence(value):
    """A date and time for the middle or the end of a sentence, in the current time zone; "" for none."""
    return dateformat.format(value, SENTENCE_DATETIME_FORMAT) if value else ""


@register.filter
def minutes(seconds):
    """Seconds watched as a person reads them: "under a minute", "12 min", "1 h 05 min"."""
    total = int(seconds or 0) // 60
    if total < 1:
        return "under a minute"
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


@register.filter
def device(user_agent):
    """A user agent as a person names it ("Chrome 156 on Linux"); "" for none."""
    return device_of(user_agent) if user_agent else ""
