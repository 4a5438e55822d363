"""Every admin URL and every admin action, walked by staff holding only view_* permissions: nothing changes in the
database and no secret (password-set link, private key, playback token) comes back. New admin pages and actions
are picked up from the admin site itself, so they are walked too."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from viewers.admin.keys import KEY_STEPS
from viewers.models import EntitlementImport, User

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"
# Everything a confirmation or a form of this admin might act on, in one body.
PAYLOAD = {
    "confirm": "1",
    "apply": "1",
    "post": "yes",
    "_save": "Save",
    "password1": "A-new-secret-pass-77",
    "password2": "A-new-secret-pass-77",
    "usable_password": "true",
    "until": "2099-01-01T00:00",
    "until_0": "2099-01-01",
    "until_1": "00:00",
    "name": "walked-key",
    "import_into_ivs": "on",
    "is_signing": "on",
    "is_active": "",
    "idp": "local",
    "display_name": "walked-group",
}
SECRETS = [
    re.compile(p)
    for p in (
        r"PRIVATE KEY",
        r"/accounts/reset/",
        r"eyJ[A-Za-z0-9_-]{10,}\.eyJ",
        r"ivs-scim-",
        r"local-idp-demo-secret",
    )
]
NOT_WALKED = {"logout", "view_on_site"}  # logging out ends the walk; view-on-site only redirects
# Changes a request makes by nature, not through the admin's permissions.
VOLATILE = {"sessions.Session"}


@pytest.fixture
def looker(db, client):
    user = User.objects.create_user("looker", "looker@example.com", "password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def snapshot():
    state = {}
    for model in apps.get_models():
        if model._meta.label not in VOLATILE:
            state[model._meta.label] = sorted(map(repr, model.objects.values_list()))
    return state


def filled(route: str, model, name: str):
    """Concrete URLs for a route: one per existing object (and rotation step)."""
    source = EntitlementImport if name == "viewers_entitlement_import_preview" else model
    pks = [str(pk) for pk in source.objects.values_list("pk", flat=True)] or ["1"]
    routes = [route]
    if "<str:step>" in route:
        routes = [route.replace("<str:step>", step) for step in KEY_STEPS]
    for placeholder in ("<path:object_id>", "<int:pk>", "<id>"):
        if any(placeholder in r for r in routes):
            routes = [r.replace(placeholder, pk) for r in routes for pk in pks]
    if any("<int:user_pk>" in r for r in routes):  # a channel's "stop watching" names the viewer too
        users = [str(pk) for pk in User.objects.values_list("pk", flat=True)]
        routes = [r.replace("<int:user_pk>", pk) for r in routes for pk in users]
    return routes


def admin_urls():
    urls = ["/admin/", "/admin/viewers/", "/admin/password_change/", "/admin/jsi18n/"]
    urls.append("/admin/autocomplete/?app_label=viewers&model_name=entitlement&field_name=user&term=a")
    for model, model_admin in admin.site._registry.items():
        prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            if pattern.name in NOT_WALKED:
                continue
            urls += [prefix + route for route in filled(str(pattern.pattern), model, pattern.name or "")]
    return sorted(set(urls))


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_harmless(response, url):
    assert response.status_code < 500, f"{url}: {response.status_code}"
    body = body_of(response)
    for secret in SECRETS:
        assert not secret.search(body), f"{url} returned something like {secret.pattern!r}"


@pytest.mark.django_db
def test_view_only_staff_change_nothing_and_see_no_secret_on_any_admin_url(world, looker):
    before = snapshot()
    urls = admin_urls()
    assert len(urls) > 60  # the walk reaches the whole admin, not a handful of pages
    for url in urls:
        assert_harmless(looker.get(url), url)
        assert_harmless(looker.post(url, PAYLOAD), url)
    assert snapshot() == before


@pytest.mark.django_db
def test_view_only_staff_change_nothing_and_see_no_secret_with_any_admin_action(world, looker, admin_user):
    before = snapshot()
    request = RequestFactory().get("/admin/")
    request.user = admin_user  # every action there is, including the ones hidden from this user
    walked = 0
    for model, model_admin in admin.site._registry.items():
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pks = list(model.objects.values_list("pk", flat=True))
        for action in model_admin.get_actions(request):
            # Without "_save": the changelist runs actions only when no list_editable save is asked for.
            form = {key: value for key, value in PAYLOAD.items() if key != "_save"}
            body = {**form, "action": action, ACTION_CHECKBOX_NAME: pks, "index": "0"}
            assert_harmless(looker.post(changelist, body), f"{changelist} action {action}")
            assert_harmless(looker.post(changelist, {**body, "select_across": "1"}), f"{changelist} {action} all")
            walked += 1
    assert walked >= 10
    assert snapshot() == before
