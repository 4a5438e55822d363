"""The local IdP's users and groups in the admin: "removing someone from the group at the IdP" in the demo."""

from django.contrib import admin

from localidp.models import LocalGroup, LocalUser


@admin.register(LocalGroup)
class LocalGroupAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(LocalUser)
class LocalUserAdmin(admin.ModelAdmin):
    list_display = ("username", "email", "email_verified")
    search_fields = ("username", "email")
    fields = ("username", "name", "email", "email_verified", "groups", "subject")
    readonly_fields = ("subject",)
    filter_horizontal = ("groups",)
