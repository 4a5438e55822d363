"""Login brute-force protection (django-axes on the shared cache): per account and address pair, and per address,
with a clear lockout page. Behind a proxy the address is the forwarded one only when TRUST_X_FORWARDED_FOR is on."""

import logging
import time

import pytest
from django.core.checks import run_checks
from django.test import Client

from viewers import client_ip as client_module

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, username, password="wrong-password", **extra):  # noqa: S107
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def at(address):
    return Client(REMOTE_ADDR=address)


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_IP = 6
    settings.LOGIN_LOCKOUT_SECONDS = 600
    return settings


class TestPerAccountAndAddress:
    def test_it_locks_the_account_at_the_limit_with_a_clear_message(self, limits, alice):
        client = Client()
        for _ in range(2):
            response = attempt(client, "alice")
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        response = attempt(client, "alice")
        assert response.status_code == 429
        body = response.content.decode()
        assert "Too many failed login attempts" in body
        assert "logging in to it from your address is paused for 10 minutes" in body
        assert 590 <= int(response["Retry-After"]) <= 601
        assert "no-store" in response["Cache-Control"]

    def test_the_right_password_is_refused_while_locked(self, limits, alice):
        client = Client()
        for _ in range(3):
            attempt(client, "alice")
        response = attempt(client, "alice", "password")
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_the_lock_covers_every_login_path_including_the_admin(self, limits, alice):
        alice.is_staff = True
        alice.save()
        for _ in range(3):
            attempt(Client(), "alice")
        response = Client().post("/admin/login/", {"username": "alice", "password": "password"})
        assert response.status_code == 429
        assert "_auth_user_id" not in response.wsgi_request.session

    def test_an_attacker_cannot_lock_the_admin_out_from_everywhere(self, limits, admin_user):
        """The lock is per account and address, so the admin still gets in from their own address."""
        for _ in range(10):
            attempt(at("203.0.113.7"), "admin")
        assert attempt(at("203.0.113.7"), "admin", "password").status_code == 429
        assert attempt(at("198.51.100.2"), "admin", "password").status_code == 302

    def test_the_lock_expires(self, limits, alice):
        limits.LOGIN_LOCKOUT_SECONDS = 1  # the lock is the cache entry's lifetime, which Redis counts in real time
        for _ in range(3):
            attempt(Client(), "alice")
        assert attempt(Client(), "alice", "password").status_code == 429
        time.sleep(2.1)
        assert attempt(Client(), "alice", "password").status_code == 302

    def test_unknown_usernames_lock_too_so_lockouts_reveal_nothing(self, limits):
        for _ in range(2):
            attempt(Client(), "nobody-here")
        assert attempt(Client(), "nobody-here").status_code == 429

    def test_usernames_are_matched_however_they_are_typed(self, limits, alice):
        for name in ["alice", "ALICE", " Alice"]:
            attempt(Client(), name)
        assert attempt(Client(), "alice", "password").status_code == 429

    def test_a_successful_login_forgets_the_accounts_failures(self, limits, alice):
        for _ in range(2):
            attempt(Client(), "alice")
        assert attempt(Client(), "alice", "password").status_code == 302
        for _ in range(2):
            assert attempt(Client(), "alice").status_code == 200

    def test_other_accounts_are_not_locked(self, limits, alice, carol):
        for _ in range(3):
            attempt(Client(), "alice")
        assert attempt(Client(), "carol", "password").status_code == 302


class TestPerAddress:
    def test_one_address_guessing_many_accounts_is_locked(self, limits, alice):
        client = at("203.0.113.7")
        for i in range(5):
            assert attempt(client, f"user{i}").status_code == 200
        response = attempt(client, "user5")
        assert response.status_code == 429
        assert "from your network" in response.content.decode()
        assert attempt(client, "alice", "password").status_code == 429
        # Another address is not affected.
        assert attempt(at("203.0.113.8"), "alice", "password").status_code == 302

    def test_a_successful_login_does_not_wipe_the_addresss_failures(self, limits, alice):
        client = at("203.0.113.7")
        for i in range(5):
            attempt(client, f"user{i}")
        assert attempt(client, "alice", "password").status_code == 302
        assert attempt(at("203.0.113.7"), "user9").status_code == 429

    def test_ipv6_clients_are_counted_per_64(self, limits):
        for i in range(6):
            attempt(at(f"2001:db8:1:2::{i + 1}"), f"user{i}")
        assert attempt(at("2001:db8:1:2:ffff::1"), "someone").status_code == 429
        assert attempt(at("2001:db8:1:3::1"), "someone").status_code == 200

    def test_behind_a_trusted_proxy_the_forwarded_address_counts(self, limits, settings):
        settings.TRUST_X_FORWARDED_FOR = True
        for i in range(6):
            attempt(Client(), f"user{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.1, 192.0.2.{i}")
        assert attempt(Client(), "x", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 200
        for i in range(6):
            attempt(Client(), f"user{i}", HTTP_X_FORWARDED_FOR="192.0.2.50")
        assert attempt(Client(), "x", HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 429

    def test_an_untrusted_forwarded_address_cannot_dodge_the_lock(self, limits):
        for i in range(6):
            attempt(at("203.0.113.7"), f"user{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        assert attempt(at("203.0.113.7"), "x", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


class TestUntrustedForwarding:
    """Behind a proxy with TRUST_X_FORWARDED_FOR off, every client shares the proxy's address."""

    @pytest.fixture(autouse=True)
    def _fresh_process(self, monkeypatch):
        monkeypatch.setattr(client_module, "_untrusted_forwarding_noted", False)

    def test_requests_with_an_untrusted_x_forwarded_for_are_logged_once_and_flagged_by_a_check(self, alice, caplog):
        with caplog.at_level(logging.WARNING, logger="viewers.client_ip"):
            for _ in range(3):
                attempt(at("10.0.0.5"), "alice", HTTP_X_FORWARDED_FOR="198.51.100.1")
        warnings = [r for r in caplog.records if r.name == "viewers.client_ip"]
        assert len(warnings) == 1 and "TRUST_X_FORWARDED_FOR" in warnings[0].getMessage()
        (warning,) = [m for m in run_checks(tags=["ivs"]) if m.id == "ivs.W040"]
        assert "10.0.0.5" in warning.msg and "TRUST_X_FORWARDED_FOR=true" in warning.hint

    def test_no_forwarding_no_warning(self, alice):
        attempt(at("198.51.100.1"), "alice")
        assert not [m for m in run_checks(tags=["ivs"]) if m.id == "ivs.W040"]

    def test_trusted_forwarding_is_what_the_setting_is_for(self, settings, alice):
        settings.TRUST_X_FORWARDED_FOR = True
        attempt(at("10.0.0.5"), "alice", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert not [m for m in run_checks(tags=["ivs"]) if m.id == "ivs.W040"]

    def test_a_unix_socket_bind_without_trusted_forwarding_is_a_warning(self, monkeypatch):
        monkeypatch.setenv("GUNICORN_BIND", "unix:/run/ivssite.sock")
        (warning,) = [m for m in run_checks(tags=["ivs"]) if m.id == "ivs.W041"]
        assert "TRUST_X_FORWARDED_FOR" in warning.hint


def test_the_login_page_still_works_normally(client, alice):
    assert client.get(LOGIN).status_code == 200
    response = attempt(client, "alice", "password")
    assert response.status_code == 302


RESET = "/accounts/password_reset/"


def reset(client, email):
    return client.post(RESET, {"email": email})


@pytest.fixture
def within_one_hour():
    """Ten past the hour, frozen: every request below falls in the same hour's window."""
    import time_machine

    with time_machine.travel("2026-03-01 12:10:00+00:00", tick=False) as traveller:
        yield traveller


@pytest.fixture
def reset_limits(settings):
    settings.PASSWORD_RESETS_PER_EMAIL = 3
    settings.PASSWORD_RESETS_PER_ADDRESS = 20
    return settings


class TestPasswordResets:
    def test_the_fourth_reset_for_one_address_in_an_hour_sends_nothing_and_says_to_wait(
        self, reset_limits, within_one_hour, carol, mailoutbox
    ):
        client = Client()
        assert [reset(client, "carol@example.com").status_code for _ in range(3)] == [302, 302, 302]
        assert len(mailoutbox) == 3
        refused = reset(client, "carol@example.com")
        assert refused.status_code == 429 and len(mailoutbox) == 3
        assert int(refused["Retry-After"]) == 50 * 60 + 1
        assert "Too many password reset requests" in refused.content.decode()
        assert "wait 51 minutes" in refused.content.decode()

    def test_an_unknown_address_is_limited_the_same_way(self, reset_limits, within_one_hour, carol, mailoutbox):
        known, unknown = Client(), Client()
        answers = {
            email: [
                (r.status_code, r.get("Location"), r.get("Retry-After")) for r in (reset(c, email) for _ in range(4))
            ]
            for c, email in [(known, "carol@example.com"), (unknown, "nobody@example.com")]
        }
        assert answers["carol@example.com"] == answers["nobody@example.com"]
        assert [status for status, _, _ in answers["nobody@example.com"]] == [302, 302, 302, 429]
        assert len(mailoutbox) == 3  # carol's three; nobody has no account

    def test_the_address_counts_whatever_its_case(self, reset_limits, within_one_hour, carol, mailoutbox):
        client = Client()
        for email in ["carol@example.com", "Carol@Example.com", "CAROL@EXAMPLE.COM"]:
            assert reset(client, email).status_code == 302
        assert reset(client, "cArOl@example.COM").status_code == 429

    def test_other_addresses_are_unaffected(self, reset_limits, within_one_hour, alice, carol, mailoutbox):
        client = Client()
        for _ in range(4):
            reset(client, "carol@example.com")
        assert reset(client, "alice@example.com").status_code == 302
        assert reset(Client(REMOTE_ADDR="203.0.113.9"), "alice@example.com").status_code == 302
        assert [m.to for m in mailoutbox][-2:] == [["alice@example.com"], ["alice@example.com"]]

    def test_one_client_address_is_limited_across_email_addresses(self, reset_limits, within_one_hour, mailoutbox):
        reset_limits.PASSWORD_RESETS_PER_ADDRESS = 5
        client = at("203.0.113.9")
        assert [reset(client, f"guess{n}@example.com").status_code for n in range(6)] == [302] * 5 + [429]
        assert reset(at("198.51.100.7"), "guess9@example.com").status_code == 302

    def test_the_next_hour_allows_resets_again(self, reset_limits, within_one_hour, carol, mailoutbox):
        client = Client()
        for _ in range(4):
            reset(client, "carol@example.com")
        within_one_hour.shift(3600)
        assert reset(client, "carol@example.com").status_code == 302 and len(mailoutbox) == 4

    def test_a_form_that_is_not_valid_counts_nothing(self, reset_limits, within_one_hour):
        client = Client()
        for _ in range(5):
            assert reset(client, "not an address").status_code == 200
        assert reset(client, "carol@example.com").status_code == 302
