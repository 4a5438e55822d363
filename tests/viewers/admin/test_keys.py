"""Adding a playback key in the admin: what the form accepts, refuses and says."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from viewers.ivs import tokens
from viewers.models import PlaybackKey

KEYS = "/admin/viewers/playbackkey/"


def key_form(pem, name="new-key", **extra):
    regions = {"regions-TOTAL_FORMS": "0", "regions-INITIAL_FORMS": "0"}  # the "imported into regions" inline
    return {"name": name, "public_key_pem": pem, "is_active": "on", **regions, **extra}


@pytest.mark.django_db
class TestAddingAPlaybackKey:
    def test_a_good_p384_key_is_stored_with_its_fingerprint(self, admin_client):
        private = tokens.generate_private_key()
        response = admin_client.post(KEYS + "add/", key_form(tokens.public_key_pem(private)))
        assert response.status_code == 302
        key = PlaybackKey.objects.get(name="new-key")
        assert key.fingerprint == tokens.fingerprint(private)
        assert key.is_signing is False

    def test_a_p256_key_is_a_form_error(self, admin_client):
        pem = tokens.public_key_pem(ec.generate_private_key(ec.SECP256R1()))
        response = admin_client.post(KEYS + "add/", key_form(pem))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["public_key_pem"] == [
            "the key is on curve secp256r1; IVS needs P-384 (secp384r1)"
        ]
        assert not PlaybackKey.objects.exists()

    def test_garbage_is_a_form_error(self, admin_client):
        response = admin_client.post(KEYS + "add/", key_form("-----BEGIN PUBLIC KEY-----\nnope\n"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["public_key_pem"] == [
            "the public key is not a valid PEM public key"
        ]
        assert not PlaybackKey.objects.exists()

    def test_a_private_key_pasted_by_mistake_is_a_form_error(self, admin_client):
        pem = tokens.private_key_pem(tokens.generate_private_key()).decode()
        response = admin_client.post(KEYS + "add/", key_form(pem))
        assert response.status_code == 200
        assert "public_key_pem" in response.context["adminform"].form.errors
        assert not PlaybackKey.objects.exists()

    def test_the_same_key_twice_is_a_form_error(self, admin_client, registered_key):
        response = admin_client.post(KEYS + "add/", key_form(registered_key.public_key_pem, name="again"))
        assert response.status_code == 200
        assert "already registered" in response.context["adminform"].form.errors["public_key_pem"][0]
        assert PlaybackKey.objects.count() == 1

    def test_a_second_signing_key_is_one_helpful_error(self, admin_client, registered_key):
        pem = tokens.public_key_pem(tokens.generate_private_key())
        response = admin_client.post(KEYS + "add/", key_form(pem, is_signing="on"))
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert list(form.errors) == ["is_signing"]
        (message,) = form.errors["is_signing"]
        assert message.startswith("test-key is already the signing key, and there is only one.")
        assert "“Make signing key” step" in message
        body = response.content.decode()
        assert "Constraint" not in body
        assert body.count('class="errorlist') == 1
        assert PlaybackKey.objects.count() == 1

    def test_the_key_the_site_signs_with_is_still_one_error_while_another_holds_the_flag(
        self, admin_client, signing_key
    ):
        # The site already signs with the new key (its private half is configured), but the old key still holds
        # the flag: the form says what to do, not that a constraint is violated.
        old = PlaybackKey(
            name="old-key", public_key_pem=tokens.public_key_pem(tokens.generate_private_key()), is_signing=True
        )
        old.full_clean()
        old.save()
        response = admin_client.post(KEYS + "add/", key_form(tokens.public_key_pem(signing_key), is_signing="on"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Constraint" not in body and body.count('class="errorlist') == 1
        assert "old-key is already the signing key" in body
