"""Single sign-on in the admin: the IdP-managed groups and their members (read-only: the IdP owns them), the SCIM
token of each IdP with its last request, and making or rotating a token (shown once). allauth's own pages are taken
out: its "social applications" would show client secrets, and its tokens and e-mail pages are not used here."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from sso.models import IdpGroup, IdpIdentity, ScimToken
from sso.scim import auth
from viewers.admin.base import OpsMedia, ReadOnlyAdmin, admin_view, render

for model in (SocialApp, SocialToken, EmailAddress, SocialAccount):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SocialAccount)
class SocialAccountAdmin(ReadOnlyAdmin):
    """Which IdP subject logs in as which user: the OIDC login's match."""

    list_display = ("user", "provider", "uid", "last_login")
    list_filter = ("provider",)
    search_fields = ("user__username", "uid")
    list_select_related = ("user",)
    fields = ("user", "provider", "uid", "last_login", "date_joined")


@admin.register(IdpIdentity)
class IdpIdentityAdmin(ReadOnlyAdmin):
    list_display = ("user_name", "idp", "user", "scim_id", "created_at")
    list_filter = ("idp",)
    search_fields = ("user_name", "user__username", "external_id")
    list_select_related = ("user",)
    fields = ("idp", "user", "user_name", "external_id", "scim_id", "created_at")


class IdpGroupForm(forms.ModelForm):
    idp = forms.ChoiceField(label="Identity provider", choices=())

    class Meta:
        model = IdpGroup
        fields = ("idp", "display_name", "external_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "idp" in self.fields:  # only the add form has it: the IdP owns a group once it exists
            self.fields["idp"].choices = [(idp, idp) for idp in settings.SSO_PROVIDER_IDS]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        name = IdpGroup.django_name(data.get("idp", ""), data.get("display_name", ""))
        if Group.objects.filter(name=name).exists():
            raise forms.ValidationError(f"A group named {name} exists already.")
        return data


@admin.register(IdpGroup)
class IdpGroupAdmin(admin.ModelAdmin):
    """Made here for an IdP without SCIM (its groups claim names it), or by SCIM. Its members are the IdP's to set."""

    form = IdpGroupForm
    list_display = ("display_name", "idp", "external_id", "member_count", "django_group")
    list_filter = ("idp",)
    search_fields = ("display_name", "external_id")
    list_select_related = ("group",)
    readonly_fields = ("members", "django_group", "scim_id", "created_at")
    Media = OpsMedia

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(member_total=Count("group__user"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, idp_group):
        return idp_group.member_total

    @admin.display(description="Django group")
    def django_group(self, idp_group):
        if not idp_group.group_id:
            return "—"
        url = reverse("admin:auth_group_change", args=[idp_group.group_id])
        return format_html('<a href="{}">{}</a>', url, idp_group.group.name)

    @admin.display(description="members (set by the IdP)")
    def members(self, idp_group):
        users = idp_group.group.user_set.order_by("username") if idp_group.group_id else []
        rows = format_html_join(", ", "{}", ((u.username,) for u in users))
        return rows or "none yet"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("idp", "display_name", "external_id")
        return ("idp", "display_name", "external_id", "django_group", "members", "scim_id", "created_at")

    def has_change_permission(self, request, obj=None):
        # The IdP owns a group once it exists: its name, id and members change there (SCIM, the claim) or not at all.
        return False

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if not change:
            obj.group = Group.objects.create(name=IdpGroup.django_name(obj.idp, obj.display_name))
        super().save_model(request, obj, form, change)


class RotateForm(forms.Form):
    idp = forms.ChoiceField(label="Identity provider", choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idp"].choices = [(idp, idp) for idp in settings.SSO_PROVIDER_IDS]


def rotate_token(model_admin, request):
    """Make or rotate an IdP's SCIM token; the page that answers the POST is the only place it is ever shown."""
    form = RotateForm(request.POST or None)
    context = {"form": form, "submit": "Make a new token", "tokens": ScimToken.objects.order_by("idp")}
    if request.method == "POST" and form.is_valid():
        idp = form.cleaned_data["idp"]
        context["token"] = auth.rotate(idp, by=request.user)
        context["token_idp"] = idp
        context["scim_url"] = request.build_absolute_uri("/scim/v2/")
    response = render(model_admin, request, "admin/sso/rotate.html", "Make or rotate a SCIM token", **context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ScimToken)
class ScimTokenAdmin(ReadOnlyAdmin):
    list_display = ("idp", "created_at", "created_by", "last_used_at", "last_request")
    fields = ("idp", "created_at", "created_by", "last_used_at", "last_request", "last_detail")
    readonly_fields = fields
    change_list_template = "admin/sso/scimtoken/change_list.html"
    Media = OpsMedia

    @admin.display(description="last request")
    def last_request(self, token):
        if not token.last_used_at:
            return "none yet"
        return f"{token.last_method} {token.last_path} → {token.last_status}"

    def has_rotate_permission(self, request):
        # A token lets an IdP switch accounts off and change groups: only staff who may change users get one.
        return request.user.has_perms(["sso.change_scimtoken", "sso.add_scimtoken"])

    def changelist_view(self, request, extra_context=None):
        extra = {"may_rotate": self.has_rotate_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def get_urls(self):
        view = admin_view(self, rotate_token, permission=("view", "rotate"))
        return [path("rotate/", view, name="sso_scimtoken_rotate"), *super().get_urls()]
