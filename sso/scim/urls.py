from django.urls import path, re_path

from sso.scim import views

urlpatterns = [
    path("Users", views.users_view, name="scim-users"),
    path("Users/<str:scim_id>", views.user_view, name="scim-user"),
    path("Groups", views.groups_view, name="scim-groups"),
    path("Groups/<str:scim_id>", views.group_view, name="scim-group"),
    path("ServiceProviderConfig", views.service_provider_config, name="scim-config"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
