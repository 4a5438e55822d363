"""The ID token is checked the real way: signed in the test with the IdP's key (accepted) or another (refused),
with the wrong issuer, audience or nonce, expired, or its state replayed. Each refusal logs nobody in and creates
nobody. A token endpoint the test answers itself stands in for a compromised or misbehaving IdP."""

import time

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from tests.sso.idp import finish, idp_user, log_in, other_key_pem, query, signed_id_token, start
from viewers.models import User

pytestmark = pytest.mark.django_db
ISSUER = "http://testserver/idp"


def answering(idp_http, claims_of, **signing):
    """Make the token endpoint answer with an ID token of `claims_of(nonce)`, signed as `signing` says."""

    def token_endpoint(request):
        return 200, {"access_token": "at", "token_type": "Bearer", "id_token": signed_id_token(claims_of, **signing)}

    idp_http.answers["/idp/token"] = token_endpoint


def attempt(client, idp_http, make_claims, **signing):
    params = query(start(client))
    claims = make_claims(params["nonce"])
    answering(idp_http, claims, **signing)
    return finish(client, f"/accounts/sso/local/login/callback/?code=c0de&state={params['state']}")


def good(nonce):
    return {"iss": ISSUER, "aud": "ivs-site", "sub": "subject-1", "nonce": nonce, "preferred_username": "eve"}


def assert_refused(client, response):
    assert response.status_code == 401 and b"The login did not complete" in response.content
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists() and not User.objects.filter(username__startswith="local.").exists()


def test_a_token_signed_with_the_idps_key_is_accepted(client, idp_http):
    # The control for the refusals below: the same answer, signed with the IdP's own key, logs in.
    response = attempt(client, idp_http, good)
    assert response.status_code == 302 and SocialAccount.objects.get().uid == "subject-1"


def test_a_forged_token_signed_with_another_key_is_refused(client, idp_http):
    assert_refused(client, attempt(client, idp_http, good, key=other_key_pem()))


def test_a_token_naming_a_key_the_idp_does_not_have_is_refused(client, idp_http):
    assert_refused(client, attempt(client, idp_http, good, key=other_key_pem(), kid="not-a-kid"))


def test_an_unsigned_token_is_refused(client, idp_http):
    import jwt

    params = query(start(client))
    unsigned = jwt.encode({**good(params["nonce"]), "exp": int(time.time()) + 300}, None, algorithm="none")
    idp_http.answers["/idp/token"] = lambda request: (200, {"access_token": "at", "id_token": unsigned})
    assert_refused(client, finish(client, f"/accounts/sso/local/login/callback/?code=c&state={params['state']}"))


def test_a_wrong_issuer_is_refused(client, idp_http):
    assert_refused(client, attempt(client, idp_http, lambda nonce: {**good(nonce), "iss": "https://evil.example"}))


def test_a_wrong_audience_is_refused(client, idp_http):
    assert_refused(client, attempt(client, idp_http, lambda nonce: {**good(nonce), "aud": "another-app"}))


def test_a_missing_nonce_is_refused(client, idp_http):
    without_nonce = lambda nonce: {k: v for k, v in good(nonce).items() if k != "nonce"}  # noqa: E731
    assert_refused(client, attempt(client, idp_http, without_nonce))


def test_another_logins_nonce_is_refused(client, idp_http):
    assert_refused(client, attempt(client, idp_http, lambda nonce: {**good(nonce), "nonce": "x" * 43}))


def test_an_expired_token_is_refused(client, idp_http):
    old = int(time.time()) - 3600
    assert_refused(client, attempt(client, idp_http, lambda nonce: {**good(nonce), "iat": old, "exp": old + 60}))


def test_a_replayed_state_is_refused(client, idp_http):
    idp_user("idp-alice")
    from tests.sso.idp import authorize

    callback = authorize(client, start(client))
    assert finish(client, callback).status_code == 302  # the real login
    client.post("/accounts/logout/")
    users = User.objects.count()
    replay = finish(client, callback)  # the same code and state again, as an attacker who saw the URL would
    assert replay.status_code == 401 and b"The login did not complete" in replay.content
    assert "_auth_user_id" not in client.session and User.objects.count() == users


def test_a_state_from_another_browser_is_refused(client, idp_http):
    from django.test import Client

    params = query(start(Client()))  # an attacker's own login, whose callback they try to plant on a victim
    response = finish(client, f"/accounts/sso/local/login/callback/?code=c0de&state={params['state']}")
    assert_refused(client, response)


def test_an_unverified_email_equal_to_a_users_joins_nothing(client, idp_http, alice):
    idp_user("mallory", email=alice.email, email_verified=False)
    log_in(client, username="mallory")
    mallory = SocialAccount.objects.get(provider="local").user
    assert mallory.pk != alice.pk and client.session["_auth_user_id"] == str(mallory.pk)
    assert mallory.email == ""  # unverified: not stored, so no password reset or CSV import finds it
    alice.refresh_from_db()
    assert alice.email == "alice@example.com" and not SocialAccount.objects.filter(user=alice).exists()
    assert client.get("/channels/main-event/").status_code == 403  # alice's entitlement stays hers


def test_even_a_verified_email_equal_to_a_users_does_not_join_it(client, idp_http, alice):
    idp_user("alice-at-idp", email=alice.email, email_verified=True)
    log_in(client, username="alice-at-idp")
    assert SocialAccount.objects.get(provider="local").user_id != alice.pk


def test_the_client_secret_is_never_in_a_page(client, idp_http):
    secret = settings.SOCIALACCOUNT_PROVIDERS["sso"]["APPS"][0]["secret"]
    idp_user("idp-alice")
    location = start(client)
    assert secret not in location
    assert secret.encode() not in client.get("/accounts/login/").content


def test_an_idp_that_fails_at_discovery_gets_an_error_page_not_a_500(client, idp_http):
    idp_http.answers["/idp/.well-known/openid-configuration"] = lambda request: (503, {"error": "down"})
    response = client.post("/accounts/sso/local/login/", {"next": "/"})
    assert response.status_code in (401, 502, 503) and b"did not complete" in response.content
    assert "_auth_user_id" not in client.session


def test_an_idp_whose_token_endpoint_fails_gets_an_error_page_not_a_500(client, idp_http):
    params = query(start(client))
    idp_http.answers["/idp/token"] = lambda request: (500, b"<html>oops</html>")
    response = finish(client, f"/accounts/sso/local/login/callback/?code=c0de&state={params['state']}")
    assert_refused(client, response)


def test_a_callback_with_nothing_in_it_gets_an_error_page(client, idp_http):
    assert_refused(client, client.get("/accounts/sso/local/login/callback/"))
