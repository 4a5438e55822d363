"""No page shows template source. Django's {# #} comment is one line only: a multi-line one is printed as text,
and so is any tag or variable a template gets wrong. Every viewer page and every admin page is rendered and its
visible text (what a browser shows, not scripts, styles, templates or attribute values) is searched for template
syntax. The admin's model pages and actions are taken from the admin site itself, so new ones are covered too."""

import boto3
import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views import defaults
from moto import mock_aws

from ivssite import errors
from tests.visible_text import template_syntax_in, visible_text
from viewers.admin.keys import KEY_STEPS
from viewers.models import EntitlementImport, User

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reset_link(user, token=None) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/reset/{uid}/{token or default_token_generator.make_token(user)}/"


def too_many(settings, world):
    settings.IVS_PLAYER_PAGES_PER_MINUTE = 1  # the world's own visit spent it
    response = logged_in(world["alice"]).get("/channels/main-event/")
    assert response.status_code == 429
    return response


def locked_out(settings, world):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 1
    response = Client().post("/accounts/login/", {"username": "alice", "password": "wrong-password"})
    assert response.status_code == 429
    return response


def logged_out(settings, world):
    return logged_in(world["alice"]).post("/accounts/logout/")


def reset_done(settings, world):
    return Client().post("/accounts/password_reset/", {"email": world["alice"].email}, follow=True)


def reset_confirm_valid(settings, world):
    response = Client().get(reset_link(world["alice"]), follow=True)
    assert 'name="new_password1"' in response.content.decode()
    return response


def reset_confirm_invalid(settings, world):
    response = Client().get(reset_link(world["alice"], "bad-token"))
    assert 'name="new_password1"' not in response.content.decode()
    return response


def request_for(user=None):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    return request


# page -> (the status it answers with, how it is reached)
VIEWER_PAGES = {
    "home, signed out": (200, lambda s, w: Client().get("/")),
    "home, signed in": (200, lambda s, w: logged_in(w["alice"]).get("/")),
    "private player with a token": (200, lambda s, w: logged_in(w["alice"]).get("/channels/main-event/")),
    "public player": (200, lambda s, w: Client().get("/channels/lobby/")),
    "403 denied (no entitlement)": (403, lambda s, w: logged_in(w["carol"]).get("/channels/main-event/")),
    "404": (404, lambda s, w: Client().get("/channels/no-such-channel/")),
    "429 too many player pages": (429, too_many),
    "login": (200, lambda s, w: Client().get("/accounts/login/")),
    "login with a wrong password": (
        200,
        lambda s, w: Client().post("/accounts/login/", {"username": "alice", "password": "wrong-password"}),
    ),
    "locked out": (429, locked_out),
    "logged out": (200, logged_out),
    "password reset form": (200, lambda s, w: Client().get("/accounts/password_reset/")),
    "password reset done": (200, reset_done),
    "password reset confirm, valid link": (200, reset_confirm_valid),
    "password reset confirm, invalid link": (200, reset_confirm_invalid),
    "password reset complete": (200, lambda s, w: Client().get("/accounts/reset/done/")),
    "password change form": (200, lambda s, w: logged_in(w["alice"]).get("/accounts/password_change/")),
    "password change done": (200, lambda s, w: logged_in(w["alice"]).get("/accounts/password_change/done/")),
    "error page 400": (400, lambda s, w: defaults.bad_request(request_for(), Exception())),
    "error page 403": (403, lambda s, w: defaults.permission_denied(request_for(w["carol"]), PermissionDenied())),
    "error page 500": (500, lambda s, w: errors.server_error(request_for())),
    "error page 503 (database down)": (503, lambda s, w: errors.database_unavailable(request_for())),
}


def admin_get(path):
    return lambda s, w: logged_in(w["admin"]).get(path, follow=True)


def ivs_sync_with_aws(settings, world, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    settings.AWS_REGION = "us-west-2"
    with mock_aws():
        boto3.client("ivs", region_name="us-west-2").create_channel(name="Finals", authorized=True)
        return logged_in(world["admin"]).get("/admin/viewers/channel/ivs-sync/")


def ivs_sync_without_aws(settings, world):
    settings.AWS_REGION = ""
    return logged_in(world["admin"]).get("/admin/viewers/channel/ivs-sync/")


def activity(settings, world):
    return logged_in(world["admin"]).get(f"/admin/viewers/channel/{world['channel'].pk}/activity/")


def import_preview(settings, world):
    staged = EntitlementImport.objects.get(filename="staged.csv")
    return logged_in(world["admin"]).get(f"/admin/viewers/entitlement/import/{staged.pk}/")


def group_grant_form(settings, world):
    return logged_in(world["admin"]).get("/admin/viewers/entitlement/group-grant/")


def group_grant_confirm(settings, world):
    form = {"group": Group.objects.get(name="subscribers").pk, "channels": [world["channel"].pk]}
    response = logged_in(world["admin"]).post("/admin/viewers/entitlement/group-grant/", form)
    assert "Confirm" in response.content.decode()
    return response


def key_generated(settings, world):
    response = logged_in(world["admin"]).post("/admin/viewers/playbackkey/generate/", {"name": "new-key"})
    assert "PRIVATE KEY" in response.content.decode()
    return response


def key_step(step):
    return lambda s, w: logged_in(w["admin"]).get(f"/admin/viewers/playbackkey/{w['old_key'].pk}/step/{step}/")


ADMIN_PAGES = {
    "admin index": admin_get("/admin/"),
    "admin app index (viewers)": admin_get("/admin/viewers/"),
    "admin password change": admin_get("/admin/password_change/"),
    "admin password change done": admin_get("/admin/password_change/done/"),
    "admin channel activity": activity,
    "admin ivs sync with AWS": ivs_sync_with_aws,
    "admin ivs sync without AWS": ivs_sync_without_aws,
    "admin entitlement import": admin_get("/admin/viewers/entitlement/import/"),
    "admin entitlement import preview": import_preview,
    "admin group grant": group_grant_form,
    "admin group grant confirmation": group_grant_confirm,
    "admin key generate": admin_get("/admin/viewers/playbackkey/generate/"),
    "admin key generated": key_generated,
    **{f"admin key step {step}": key_step(step) for step in KEY_STEPS},
    "admin user password": lambda s, w: logged_in(w["admin"]).get(f"/admin/viewers/user/{w['alice'].pk}/password/"),
}


def _superuser_request():
    # Unsaved: the admin's permission methods answer a superuser without the database (collection has none).
    request = RequestFactory().get("/admin/")
    request.user = User(username="collector", is_superuser=True, is_staff=True, is_active=True)
    return request


def _model_pages():
    request = _superuser_request()
    pages = {}
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages[f"admin {label} changelist"] = ("list", model, prefix)
        if model_admin.has_add_permission(request):
            pages[f"admin {label} add form"] = ("add", model, prefix + "add/")
        for kind in ("change", "history", "delete"):
            if kind == "delete" and not model_admin.has_delete_permission(request):
                continue
            pages[f"admin {label} {kind} form" if kind == "change" else f"admin {label} {kind}"] = (kind, model, prefix)
        for action in model_admin.get_actions(request):
            if action != "delete_selected" or model_admin.has_delete_permission(request):
                pages[f"admin {label} action {action}"] = ("action", model, prefix, action)
    return pages


MODEL_PAGES = _model_pages()


def model_page(world, kind, model, prefix, action=None):
    client = logged_in(world["admin"])
    if kind in ("list", "add"):
        return client.get(prefix, follow=True)
    pks = list(model.objects.values_list("pk", flat=True))
    assert pks, f"the world has no {model._meta.label}: add one to the fixture"
    if kind == "action":
        # The confirmation page where the action has one; otherwise where it sends the operator.
        return client.post(prefix, {"action": action, ACTION_CHECKBOX_NAME: pks, "index": "0"}, follow=True)
    suffix = {"change": "change/", "history": "history/", "delete": "delete/"}[kind]
    return client.get(f"{prefix}{pks[0]}/{suffix}", follow=True)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def assert_no_template_syntax(response, page):
    if not response["Content-Type"].startswith("text/html"):
        return  # a CSV download, for instance
    found = template_syntax_in(body_of(response))
    assert not found, f"{page} shows template syntax: " + "; ".join(found)


def test_visible_text_leaves_out_scripts_styles_templates_and_attributes():
    html = (
        '<p title="{{ a }}">Hello</p><script>x = "{% b %}";</script><style>p::after{content:"{#"}</style>'
        "<template><p>{{ c }}</p></template><!-- {% d %} --><p>world</p>"
    )
    assert visible_text(html) == "Helloworld"
    assert template_syntax_in("<body><p>{# not a comment</p></body>")


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(VIEWER_PAGES) + list(ADMIN_PAGES))
def test_the_page_shows_no_template_syntax(page, world, settings, monkeypatch):
    status, render = VIEWER_PAGES[page] if page in VIEWER_PAGES else (200, ADMIN_PAGES[page])
    response = render(settings, world, monkeypatch) if render is ivs_sync_with_aws else render(settings, world)
    assert response.status_code == status, f"{page}: {response.status_code}"
    assert_no_template_syntax(response, page)


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(MODEL_PAGES))
def test_the_admin_model_page_shows_no_template_syntax(page, world):
    response = model_page(world, *MODEL_PAGES[page])
    assert response.status_code == 200, f"{page}: {response.status_code}"
    assert_no_template_syntax(response, page)
