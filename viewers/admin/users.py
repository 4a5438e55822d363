from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from viewers.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    readonly_fields = ("viewer_id",)
    fieldsets = DjangoUserAdmin.fieldsets + (("Playback", {"fields": ("viewer_id",)}),)

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

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "user_permissions")
