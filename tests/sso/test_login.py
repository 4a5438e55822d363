"""The OpenID Connect login against the local IdP (a real OpenID provider), through the test client: the login
page's buttons, the flow (state, nonce, PKCE), a first login creating the user, a second finding them by subject."""

import pytest
from allauth.socialaccount.models import SocialAccount

from tests.sso.idp import authorize, finish, idp_user, log_in, query, start
from viewers.models import User

pytestmark = pytest.mark.django_db


def test_the_login_page_has_a_button_for_each_idp_and_the_password_form(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/accounts/sso/local/login/"' in page
    assert "Log in with Local IdP" in page
    assert 'id="id_password"' in page


def test_without_password_login_the_form_is_gone_and_passwords_are_refused(client, settings, carol):
    settings.IVS_PASSWORD_LOGIN = False
    page = client.get("/accounts/login/").content.decode()
    assert "Log in with Local IdP" in page and 'id="id_password"' not in page
    response = client.post("/accounts/login/", {"username": "carol", "password": "password"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    admin_login = client.post("/admin/login/", {"username": "carol", "password": "password"})
    assert admin_login.status_code == 200 and "_auth_user_id" not in client.session


def test_with_password_login_on_a_password_still_logs_in(client, carol):
    response = client.post("/accounts/login/", {"username": "carol", "password": "password"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(carol.pk)


def test_the_authorization_request_carries_state_nonce_and_an_s256_challenge(client, idp_http):
    params = query(start(client))
    assert params["response_type"] == "code" and params["client_id"] == "ivs-site"
    assert len(params["state"]) >= 16 and len(params["nonce"]) >= 32
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "http://testserver/accounts/sso/local/login/callback/"
    assert "openid" in params["scope"].split()


def test_a_get_of_the_login_url_starts_nothing(client, idp_http):
    assert client.get("/accounts/sso/local/login/").status_code == 405


def test_an_unknown_idp_is_a_404(client, idp_http):
    assert client.post("/accounts/sso/nobody/login/").status_code == 404


def test_a_first_login_creates_the_user_matched_by_subject_and_a_second_finds_them(client, idp_http):
    alice = idp_user("idp-alice", email="alice@corp.example", email_verified=True)
    response = log_in(client, next_path="/channels/")
    assert response.status_code == 302 and response["Location"] == "/channels/"
    account = SocialAccount.objects.get(provider="local", uid=alice.subject)
    assert client.session["_auth_user_id"] == str(account.user_id)
    assert account.user.username == "local.idp-alice" and account.user.email == "alice@corp.example"
    assert not account.user.has_usable_password()
    client.post("/accounts/logout/")
    log_in(client)
    assert client.session["_auth_user_id"] == str(account.user_id)
    assert User.objects.filter(username__startswith="local.").count() == 1


def test_the_token_endpoint_was_called_with_the_pkce_verifier(client, idp_http):
    idp_user("idp-alice")
    log_in(client)
    assert ("POST", "/idp/token") in idp_http.calls
    assert ("GET", "/idp/jwks") in idp_http.calls  # the signature is checked, though the token came over TLS


def test_a_wrong_password_at_the_idp_logs_nobody_in(client, idp_http):
    idp_user("idp-alice")
    location = start(client)
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    response = client.post(f"{parts.path}?{parts.query}", {"username": "idp-alice", "password": "wrong"})
    assert response.status_code == 401 and b"Wrong username or password" in response.content
    assert "_auth_user_id" not in client.session


def test_cancelling_at_the_idp_comes_back_to_the_login_page(client, idp_http):
    idp_user("idp-alice")
    from urllib.parse import urlsplit

    parts = urlsplit(start(client))
    callback = client.post(f"{parts.path}?{parts.query}", {"cancel": "1"})["Location"]
    assert query(callback)["error"] == "access_denied"
    response = finish(client, callback)
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)
    assert page.request["PATH_INFO"] == "/accounts/login/" and b"was cancelled" in page.content
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_is_refused_at_login(client, idp_http):
    alice = idp_user("idp-alice")
    log_in(client)
    user = SocialAccount.objects.get(uid=alice.subject).user
    user.is_active = False
    user.save()
    client.post("/accounts/logout/")
    response = log_in(client)
    assert response.status_code == 403 and b"not active" in response.content
    assert "_auth_user_id" not in client.session


def test_the_idp_sign_in_is_not_a_site_login(client, idp_http):
    idp_user("idp-alice")
    authorize(client, start(client))  # signed in at the IdP, the callback not followed
    assert "_auth_user_id" not in client.session
    assert client.get("/channels/main-event/").status_code in (302, 404)


def test_a_next_address_on_another_site_is_not_followed(client, idp_http):
    idp_user("idp-alice")
    response = log_in(client, next_path="https://evil.example/phish")
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert "_auth_user_id" in client.session
