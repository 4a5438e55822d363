"""Country rules: the start-up checks and the admin (the channel form, the list, the activity page)."""

import pytest

from tests.factories import ivs_messages
from viewers.models import Channel, CountryDenial
from viewers.player import geo

HEADER = "CloudFront-Viewer-Country"


@pytest.mark.django_db
class TestChecks:
    def test_rules_without_a_source_are_a_warning(self, settings, allow_fr):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = "", ""
        (warning,) = [m for m in ivs_messages() if m.id == "ivs.W030"]
        assert "'Main Event' has country rules, but no country source is configured" in warning.msg
        assert not warning.is_serious()

    def test_a_header_without_trust_is_no_source(self, settings, allow_fr):
        settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR, settings.IVS_COUNTRY_DATABASE = HEADER, False, ""
        found = {m.id: m for m in ivs_messages()}
        assert "ignored while TRUST_X_FORWARDED_FOR is off" in found["ivs.W030"].msg
        assert "ivs.W031" in found

    def test_a_trusted_header_or_a_database_is_a_source(self, settings, allow_fr, country_db):
        settings.IVS_COUNTRY_HEADER, settings.TRUST_X_FORWARDED_FOR = HEADER, True
        assert not [m for m in ivs_messages() if m.id.startswith(("ivs.W03", "ivs.E03"))]
        settings.IVS_COUNTRY_HEADER = ""
        assert not [m for m in ivs_messages() if m.id.startswith(("ivs.W03", "ivs.E03"))]

    def test_no_rules_need_no_source(self, settings, private_channel):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = "", ""
        assert not [m for m in ivs_messages() if m.id == "ivs.W030"]

    def test_an_unreadable_database_stops_start_up(self, settings, tmp_path):
        settings.IVS_COUNTRY_DATABASE = str(tmp_path / "missing.mmdb")
        (error,) = [m for m in ivs_messages() if m.id == "ivs.E030"]
        assert error.is_serious() and "missing.mmdb" in error.msg
        (tmp_path / "garbage.mmdb").write_bytes(b"not a database")
        settings.IVS_COUNTRY_DATABASE = str(tmp_path / "garbage.mmdb")
        assert [m.id for m in ivs_messages() if m.id == "ivs.E030"] == ["ivs.E030"]
        geo.country_database.cache_clear()


CHANNEL_ADMIN = "/admin/viewers/channel/"


@pytest.mark.django_db
class TestTheAdmin:
    def form(self, channel, **fields):
        values = {
            "name": channel.name,
            "slug": channel.slug,
            "arn": channel.arn,
            "playback_url": channel.playback_url,
            "is_private": "on",
            "is_listed": "on",
            "description": "",
        }
        return values | fields

    def test_the_channel_form_offers_countries_by_name_in_a_filtered_widget(self, admin_client, private_channel):
        body = admin_client.get(f"{CHANNEL_ADMIN}{private_channel.pk}/change/").content.decode()
        assert '<option value="FR">France</option>' in body
        assert 'class="selectfilter"' in body

    def country_rules(self, response):
        (fieldset,) = [f for f in response.context["adminform"] if f.name == "Country rules"]
        return fieldset

    def test_the_country_rules_are_folded_away_on_a_new_channel(self, admin_client):
        response = admin_client.get(f"{CHANNEL_ADMIN}add/")
        assert self.country_rules(response).is_collapsible
        body = response.content.decode()
        assert body.index("<details><summary>") < body.index('id="id_allowed_countries"')

    def test_they_stay_open_on_a_channel_that_has_rules(self, admin_client, block_de):
        response = admin_client.get(f"{CHANNEL_ADMIN}{block_de.pk}/change/")
        assert not self.country_rules(response).is_collapsible
        assert "<details>" not in response.content.decode()

    def test_they_stay_folded_on_a_channel_without_rules(self, admin_client, private_channel):
        response = admin_client.get(f"{CHANNEL_ADMIN}{private_channel.pk}/change/")
        assert self.country_rules(response).is_collapsible

    def test_they_open_when_a_list_has_an_error(self, admin_client, private_channel):
        form = self.form(private_channel, allowed_countries=["FR"], blocked_countries=["FR"])
        response = admin_client.post(f"{CHANNEL_ADMIN}{private_channel.pk}/change/", form)
        assert not self.country_rules(response).is_collapsible

    def test_each_label_comes_before_its_picker(self, admin_client, private_channel):
        # The picker's script puts its panes first in the select's parent: the picker's own box, not the row.
        body = admin_client.get(f"{CHANNEL_ADMIN}{private_channel.pk}/change/").content.decode()
        for field in ("allowed_countries", "blocked_countries"):
            label = body.index(f'<label for="id_{field}">')
            box = body.index('<div class="ops-picker">', label)
            assert box < body.index(f'id="id_{field}"', label)

    def test_the_arn_and_playback_url_inputs_are_wide(self, admin_client, private_channel):
        body = admin_client.get(f"{CHANNEL_ADMIN}{private_channel.pk}/change/").content.decode()
        assert 'class="vTextField ops-wide"' in body and 'name="arn"' in body
        assert 'class="vURLField ops-wide"' in body

    def test_it_saves_the_lists_and_the_list_shows_them(self, admin_client, private_channel):
        form = self.form(private_channel, allowed_countries=["FR", "BE"], blocked_countries=[])
        assert admin_client.post(f"{CHANNEL_ADMIN}{private_channel.pk}/change/", form).status_code == 302
        private_channel.refresh_from_db()
        assert [c.code for c in private_channel.allowed_countries] == ["BE", "FR"]
        assert "only BE, FR" in admin_client.get(CHANNEL_ADMIN).content.decode()

    def test_a_country_in_both_lists_is_refused(self, admin_client, private_channel):
        form = self.form(private_channel, allowed_countries=["FR"], blocked_countries=["FR"])
        response = admin_client.post(f"{CHANNEL_ADMIN}{private_channel.pk}/change/", form)
        assert response.status_code == 200
        assert "Both allowed and blocked: FR" in response.content.decode()

    def test_an_unknown_code_is_refused(self, admin_client, private_channel):
        form = self.form(private_channel, blocked_countries=["XX"])
        response = admin_client.post(f"{CHANNEL_ADMIN}{private_channel.pk}/change/", form)
        assert response.status_code == 200
        assert not Channel.objects.get().blocked_countries

    def test_the_activity_page_shows_refusals_by_country(self, admin_client, block_de, now):
        CountryDenial.objects.create(channel=block_de, day=now.date(), country="DE", count=7)
        CountryDenial.objects.create(channel=block_de, day=now.date(), country="", count=2)
        body = admin_client.get(f"{CHANNEL_ADMIN}{block_de.pk}/activity/").content.decode()
        assert "<tr><td>Germany</td><td>DE</td><td>7</td></tr>" in body
        assert "<tr><td>unknown country</td><td>—</td><td>2</td></tr>" in body
        assert "Not in: Germany." in body

    def test_rules_without_a_source_are_warned_about_on_the_channel_pages(self, admin_client, allow_fr, settings):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = "", ""
        body = admin_client.get(CHANNEL_ADMIN).content.decode()
        assert "has country rules, but no country source is configured" in body
