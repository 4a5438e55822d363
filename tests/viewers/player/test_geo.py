"""Country rules: the rule itself, where the viewer's country comes from, the pages, the counts and the checks."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from tests.factories import audit_row
from viewers import access, reconcile
from viewers.models import Channel, CountryDenial, SessionEnd, TokenAudit
from viewers.player import geo

PAGE = "/channels/main-event/"
REFRESH = "/channels/main-event/playback"
HEADER = "CloudFront-Viewer-Country"


def ruled(allowed=(), blocked=()):
    """An unsaved channel: the rule needs no database."""
    return Channel(name="Finals", allowed_countries=list(allowed), blocked_countries=list(blocked))


class TestTheRule:
    @pytest.mark.parametrize("country, allowed", [("FR", True), ("BE", True), ("DE", False), ("", False)])
    def test_an_allow_list_admits_only_its_countries_and_refuses_an_unknown_one(self, country, allowed):
        assert access.country_allowed(ruled(allowed=["FR", "BE"]), country) is allowed

    @pytest.mark.parametrize("country, allowed", [("FR", True), ("DE", False), ("RU", False), ("", True)])
    def test_a_block_list_refuses_only_its_countries_and_lets_an_unknown_one_in(self, country, allowed):
        assert access.country_allowed(ruled(blocked=["DE", "RU"]), country) is allowed

    @pytest.mark.parametrize("country", ["FR", "DE", "US", ""])
    def test_no_lists_is_no_rule(self, country):
        assert access.country_allowed(ruled(), country)

    @pytest.mark.parametrize("country, allowed", [("FR", True), ("BE", False), ("DE", False), ("", False)])
    def test_both_lists_need_allowed_and_not_blocked(self, country, allowed):
        assert access.country_allowed(ruled(allowed=["FR", "BE"], blocked=["BE"]), country) is allowed


@pytest.mark.django_db
class TestDecide:
    def test_an_entitled_viewer_in_an_allowed_country_may_watch(self, alice, allow_fr, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert access.decide(alice, allow_fr, country="FR").allowed

    def test_a_viewer_elsewhere_is_refused_with_the_country_named(self, alice, allow_fr, django_assert_num_queries):
        with django_assert_num_queries(0):  # refused before the entitlement query
            decision = access.decide(alice, allow_fr, country="DE")
        assert (decision.allowed, decision.reason, decision.country) == (False, "country", "DE")
        assert decision.message == "This channel is not available in your country (Germany)."

    def test_an_unknown_country_is_refused_by_an_allow_list(self, alice, allow_fr):
        decision = access.decide(alice, allow_fr, country=geo.UNKNOWN)
        assert (decision.allowed, decision.reason, decision.country) == (False, "country", "")
        assert decision.message == "This channel is not available in your country."

    def test_an_unknown_country_passes_a_block_list(self, alice, block_de):
        assert access.decide(alice, block_de, country=geo.UNKNOWN).allowed
        assert access.decide(alice, block_de, country="DE").reason == "country"

    def test_no_country_given_is_no_country_check(self, alice, allow_fr):
        assert access.decide(alice, allow_fr).allowed

    def test_the_country_rule_does_not_replace_the_entitlement(self, carol, allow_fr):
        assert access.decide(carol, allow_fr, country="FR").reason == "no_entitlement"

    def test_a_public_channel_applies_its_rule_to_anyone(self, public_channel):
        public_channel.blocked_countries = ["DE"]
        assert access.decide(AnonymousUser(), public_channel, country="DE").reason == "country"
        assert access.decide(AnonymousUser(), public_channel, country="FR").allowed


@pytest.mark.django_db
class TestRunningSessions:
    """The reconciler re-checks open sessions without a country: a rule never cuts a running stream."""

    def test_the_set_form_ignores_country_rules(self, alice, allow_fr):
        assert access.users_who_may_watch(allow_fr, [alice.pk]) == {alice.pk}

    def test_a_session_on_a_ruled_channel_is_not_revoked(self, alice, allow_fr, now):
        audit_row(alice, allow_fr, viewer_id=alice.viewer_id, issued_at=now)
        assert reconcile.reconcile() == 0
        assert TokenAudit.objects.get().ended_at is None
        # The same session is ended once the entitlement goes: the reconciler is not simply idle.
        alice.entitlements.update(revoked_at=now)
        assert reconcile.reconcile() == 1
        assert TokenAudit.objects.get().end_reason == SessionEnd.REVOKED


def request_from(address="203.0.113.9", **headers):
    return RequestFactory().get("/", REMOTE_ADDR=address, headers=headers)


class TestViewerCountry:
    def test_the_header_counts_only_behind_a_trusted_proxy(self, settings):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = HEADER, ""
        settings.TRUST_X_FORWARDED_FOR = True
        assert geo.viewer_country(request_from(**{HEADER: "FR"})) == "FR"
        settings.TRUST_X_FORWARDED_FOR = False
        assert geo.viewer_country(request_from(**{HEADER: "FR"})) == geo.UNKNOWN

    @pytest.mark.parametrize(
        "value, code", [("fr", "FR"), (" DE ", "DE"), ("XX", ""), ("T1", ""), ("FRA", ""), ("", "")]
    )
    def test_header_values_must_be_assigned_codes(self, settings, value, code):
        settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR, settings.IVS_COUNTRY_DATABASE = (
            "CF-IPCountry",
            True,
            "",
        )
        assert geo.viewer_country(request_from(**{"CF-IPCountry": value})) == code

    def test_without_a_source_the_country_is_unknown(self, settings):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = "", ""
        assert geo.viewer_country(request_from(**{HEADER: "FR"})) == geo.UNKNOWN

    @pytest.mark.parametrize(
        "address, code",
        [
            ("2.17.1.1", "FR"),
            ("5.1.200.3", "DE"),
            ("2a01:e0a::1", "FR"),
            ("81.0.5.5", "AT"),
            ("198.51.100.7", ""),  # in the database, without a country
            ("10.1.2.3", ""),  # private
            ("192.0.2.1", ""),  # not in the database
        ],
    )
    def test_the_database_is_looked_up_with_the_client_address(self, country_db, settings, address, code):
        settings.IVS_COUNTRY_HEADER = ""
        assert geo.viewer_country(request_from(address)) == code

    def test_the_database_uses_x_forwarded_for_only_when_trusted(self, country_db, settings):
        settings.IVS_COUNTRY_HEADER = ""
        request = request_from("10.0.0.2", **{"X-Forwarded-For": "5.1.0.9"})
        settings.TRUST_X_FORWARDED_FOR = False
        assert geo.viewer_country(request) == geo.UNKNOWN
        settings.TRUST_X_FORWARDED_FOR = True
        assert geo.viewer_country(request) == "DE"

    def test_a_trusted_header_wins_and_the_database_covers_its_absence(self, country_db, settings):
        settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR = HEADER, True
        assert geo.viewer_country(request_from("5.1.0.9", **{HEADER: "FR"})) == "FR"
        assert geo.viewer_country(request_from("5.1.0.9")) == "DE"
        assert geo.viewer_country(request_from("5.1.0.9", **{HEADER: "XX"})) == "DE"

    def test_a_database_gone_after_start_up_is_unknown_not_an_error(self, country_db, settings):
        settings.IVS_COUNTRY_HEADER = ""
        geo.country_database.cache_clear()
        country_db.unlink()
        assert geo.viewer_country(request_from("5.1.0.9")) == geo.UNKNOWN


@pytest.fixture
def header_source(settings):
    settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR, settings.IVS_COUNTRY_DATABASE = HEADER, True, ""
    return settings


def from_country(code):
    return {f"HTTP_{HEADER.upper().replace('-', '_')}": code}


@pytest.mark.django_db
class TestPages:
    def test_the_player_page_refuses_a_blocked_country_with_an_explanation(
        self, client, alice, block_de, header_source, registered_key
    ):
        client.force_login(alice)
        response = client.get(PAGE, **from_country("DE"))
        assert response.status_code == 403
        body = response.content.decode()
        assert "This channel is not available in your country (Germany)." in body
        assert "eyJ" not in body and "player-config" not in body
        assert not TokenAudit.objects.exists()
        assert list(CountryDenial.objects.values_list("country", "count")) == [("DE", 1)]

    def test_the_player_page_plays_elsewhere(self, client, alice, block_de, header_source, registered_key):
        client.force_login(alice)
        assert client.get(PAGE, **from_country("FR")).status_code == 200
        assert client.get(PAGE).status_code == 200  # unknown: a block-list lets it in
        assert not CountryDenial.objects.exists()

    def test_an_allow_list_refuses_an_unknown_country(self, client, alice, allow_fr, header_source, registered_key):
        client.force_login(alice)
        response = client.get(PAGE)
        assert response.status_code == 403
        assert "we could not tell which country you are in" in response.content.decode()
        assert list(CountryDenial.objects.values_list("country", "count")) == [("", 1)]

    def test_an_untrusted_header_is_ignored(self, client, alice, allow_fr, header_source, registered_key):
        header_source.TRUST_X_FORWARDED_FOR = False
        client.force_login(alice)
        assert client.get(PAGE, **from_country("FR")).status_code == 403

    def test_the_refresh_endpoint_refuses_and_mints_nothing(
        self, client, alice, block_de, header_source, registered_key
    ):
        client.force_login(alice)
        response = client.post(REFRESH, **from_country("DE"))
        assert response.status_code == 403
        assert response.json() == {
            "error": "country",
            "message": "This channel is not available in your country (Germany).",
        }
        assert not TokenAudit.objects.exists()
        assert client.post(REFRESH, **from_country("FR")).status_code == 200

    def test_refusals_are_counted_per_channel_day_and_country(
        self, client, alice, block_de, header_source, registered_key, django_assert_max_num_queries
    ):
        client.force_login(alice)
        client.get(PAGE, **from_country("DE"))
        with django_assert_max_num_queries(4):  # session user, channel, one UPDATE of the count
            client.get(PAGE, **from_country("DE"))
        block_de.blocked_countries = ["DE", "RU"]
        block_de.save()
        client.get(PAGE, **from_country("RU"))
        assert sorted(CountryDenial.objects.values_list("country", "count")) == [("DE", 2), ("RU", 1)]

    def test_other_refusals_are_not_counted(self, client, carol, block_de, header_source):
        client.force_login(carol)
        assert client.get(PAGE, **from_country("FR")).status_code == 403
        assert not CountryDenial.objects.exists()
