"""The moderator's "remove from the chat" form, cleaned here rather than in the view."""

import re

from django import forms

from viewers.models import User

# The chat user ids the site gives IVS: users' viewer ids (32 hex digits).
_CHAT_USER_ID = re.compile(r"[0-9a-f]{32}")


class BanForm(forms.Form):
    user_id = forms.CharField(max_length=40, strip=False)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, moderator, **kwargs):
        super().__init__(*args, **kwargs)
        self.moderator, self.target = moderator, None

    def clean_user_id(self):
        value = self.cleaned_data["user_id"]
        if not _CHAT_USER_ID.fullmatch(value):
            raise forms.ValidationError("That is not a chat user.")
        self.target = User.objects.filter(viewer_id=value).first()
        if self.target is None:
            raise forms.ValidationError("No such viewer.", code="unknown")
        return value

    def clean(self):
        cleaned = super().clean()
        if self.target is not None and self.target.pk == self.moderator.pk:
            raise forms.ValidationError("You cannot remove yourself.")
        return cleaned

    @property
    def status(self) -> int:
        """404 when the only thing wrong is a viewer who does not exist; 400 for anything malformed."""
        unknown = self.has_error("user_id", "unknown") and len(self.errors) == 1
        return 404 if unknown else 400

    def first_error(self) -> str:
        return next(iter(error for errors in self.errors.values() for error in errors), "Invalid request.")
