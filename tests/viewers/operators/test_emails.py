"""Invitation, "you now have access" and password-reset emails: the CSV import can email its invitations (admin
and CLI), every link goes to SITE_URL whatever Host the request named, the email settings come from EMAIL_URL, and
the Stripe settings are checked at start-up."""

import json
import os
import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from sales.checks import check_sales_settings
from sales.models import TicketType
from tests import ROOT
from tests.sales.stripe_events import SECRET, WEBHOOK, checkout_session, event, sign
from viewers.models import Entitlement, EntitlementImport, User

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"
IMPORT = "/admin/viewers/entitlement/import/"


def staged_import(admin_client, rows: str):
    file = SimpleUploadedFile("grants.csv", (HEADER + rows).encode(), "text/csv")
    response = admin_client.post(IMPORT, {"file": file, "create_users": "on"})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


def set_password_through(client, body):
    link = re.search(r"https://watch\.example\.com(/accounts/reset/\S+)", body).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "pick-a-good-one-7", "new_password2": "pick-a-good-one-7"}
    )


@pytest.mark.django_db
class TestImportInvitations:
    def test_the_admin_import_emails_each_invited_user_their_link_when_asked(
        self, admin_client, client, carol, private_channel, settings, mailoutbox
    ):
        settings.SITE_URL = "https://watch.example.com"
        preview = staged_import(admin_client, "carol@example.com,main-event,,,,\nnew@example.com,main-event,,,,\n")
        assert 'name="email_invitations"' in admin_client.get(preview).content.decode()
        done = admin_client.post(preview, {"confirm": "1", "email_invitations": "on"})
        assert messages_of(done)[1] == "Emailed 1 invitation."
        (message,) = mailoutbox  # carol already has an account: no invitation for her
        assert message.to == ["new@example.com"] and message.subject == "Set your password to start watching"
        set_password_through(client, message.body)
        assert User.objects.get(email="new@example.com").is_active
        assert "/accounts/reset/" not in str(EntitlementImport.objects.get().summary)

    def test_without_the_box_nothing_is_emailed_and_the_operator_is_told_where_the_links_are(
        self, admin_client, private_channel, mailoutbox
    ):
        preview = staged_import(admin_client, "new@example.com,main-event,,,,\n")
        done = admin_client.post(preview, {"confirm": "1"})
        assert mailoutbox == [] and "Invitations → select → download" in messages_of(done)[1]

    def test_emails_that_fail_are_named_and_the_import_stands(self, admin_client, private_channel, settings):
        settings.EMAIL_BACKEND = "tests.sales.test_payments.DownBackend"
        preview = staged_import(admin_client, "new@example.com,main-event,,,,\n")
        done = admin_client.post(preview, {"confirm": "1", "email_invitations": "on"})
        assert messages_of(done)[1] == (
            "Emailed 0 invitations. Not sent to new@example.com: send those again from Invitations."
        )
        assert Entitlement.objects.count() == 1

    def test_the_command_emails_invitations(self, tmp_path, private_channel, mailoutbox):
        path = tmp_path / "grants.csv"
        path.write_text(HEADER + "new@example.com,main-event,,,,\n")
        out = StringIO()
        call_command(
            "import_entitlements",
            str(path),
            "--invite",
            "--email-invitations",
            "--base-url",
            "https://watch.example.com",
            "--no-progress",
            stdout=out,
        )
        assert "Emailed 1 invitation." in out.getvalue() and "/accounts/reset/" not in out.getvalue()
        assert "https://watch.example.com/accounts/reset/" in mailoutbox[0].body

    def test_the_command_needs_an_address_for_the_links(self, tmp_path, private_channel, settings):
        settings.SITE_URL = ""
        path = tmp_path / "grants.csv"
        path.write_text(HEADER + "new@example.com,main-event,,,,\n")
        with pytest.raises(CommandError, match="--email-invitations needs --invite and --base-url"):
            call_command("import_entitlements", str(path), "--invite", "--email-invitations")
        assert not User.objects.exists()


# A Host header ALLOWED_HOSTS lets through (it checks the name, not the port) but that is not the site.
FOREIGN_HOST = "testserver:6666"


def links_in(body: str) -> list[str]:
    return [link.rstrip(".,)") for link in re.findall(r"https?://\S+", body)]


def all_on_site(body: str) -> bool:
    links = links_in(body)
    return bool(links) and all(link == "http://testserver" or link.startswith("http://testserver/") for link in links)


@pytest.mark.django_db
class TestLinksGoToSiteUrl:
    """tests/settings.py sets SITE_URL=http://testserver; each request below names another Host."""

    @pytest.mark.parametrize("host", [FOREIGN_HOST, "testserver:443", "localhost"])
    def test_a_password_reset_link_goes_to_site_url_whatever_the_host_header(self, client, carol, mailoutbox, host):
        response = client.post("/accounts/password_reset/", {"email": "carol@example.com"}, HTTP_HOST=host)
        assert response.status_code == 302
        (message,) = mailoutbox
        (link,) = links_in(message.body)
        assert link.startswith("http://testserver/accounts/reset/")

    def test_a_reset_link_over_https_when_site_url_says_so(self, client, carol, mailoutbox, settings):
        settings.SITE_URL = "https://watch.example.com"
        client.post("/accounts/password_reset/", {"email": "carol@example.com"}, HTTP_HOST=FOREIGN_HOST)
        (link,) = links_in(mailoutbox[0].body)
        assert link.startswith("https://watch.example.com/accounts/reset/")
        assert "watch.example.com" in mailoutbox[0].subject

    def test_the_admin_import_invitation_links_go_to_site_url(self, admin_client, private_channel, mailoutbox):
        file = SimpleUploadedFile("grants.csv", (HEADER + "new@example.com,main-event,,,,\n").encode(), "text/csv")
        preview = admin_client.post(IMPORT, {"file": file, "create_users": "on"}, HTTP_HOST=FOREIGN_HOST)
        admin_client.post(preview["Location"], {"confirm": "1", "email_invitations": "on"}, HTTP_HOST=FOREIGN_HOST)
        (message,) = mailoutbox
        assert all_on_site(message.body)

    @pytest.mark.parametrize("buyer", ["new@example.com", "carol@example.com"], ids=["invitation", "access email"])
    def test_a_buyer_s_email_links_go_to_site_url(self, client, carol, private_channel, settings, mailoutbox, buyer):
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        ticket = TicketType.objects.create(name="Ticket", payment_link_id="plink_1MoC3ULkdIwHu7ixZjtGpVl2")
        ticket.channels.add(private_channel)
        purchase = event("checkout.session.completed", checkout_session(email=buyer))
        body = json.dumps(purchase).encode()
        response = client.post(
            WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body), HTTP_HOST=FOREIGN_HOST
        )
        assert response.status_code == 200
        (message,) = mailoutbox
        assert all_on_site(message.body)


class TestSettings:
    def test_a_secret_that_is_not_a_webhook_secret_stops_start_up(self, settings):
        settings.STRIPE_WEBHOOK_SECRET = "sk_live_an_api_key_by_mistake"
        assert [error.id for error in check_sales_settings(None)] == ["sales.E001"]
        assert "sk_live" not in str(check_sales_settings(None)[0])

    def test_the_console_email_backend_outside_debug_stops_start_up(self, settings):
        settings.DEBUG = False
        settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
        assert [error.id for error in check_sales_settings(None)] == ["sales.E002"]

    @pytest.mark.parametrize("seconds", [0, -5])
    def test_a_tolerance_that_turns_off_the_timestamp_check_stops_start_up(self, settings, seconds):
        settings.STRIPE_WEBHOOK_TOLERANCE = seconds
        assert [error.id for error in check_sales_settings(None)] == ["sales.E003"]

    def test_a_webhook_secret_and_smtp_pass(self, settings):
        settings.STRIPE_WEBHOOK_SECRET = "whsec_abc"
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        assert check_sales_settings(None) == []

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({"DEBUG": "true"}, "console None"),
            ({"DEBUG": "false", "SECRET_KEY": "x" * 50}, "smtp localhost"),
            (
                {"DEBUG": "false", "SECRET_KEY": "x" * 50, "EMAIL_URL": "smtp+tls://u:p@mail.example.com:587"},
                "smtp mail.example.com",
            ),
        ],
        ids=["debug prints", "production defaults to local smtp", "EMAIL_URL"],
    )
    def test_email_comes_from_email_url(self, env, expected):
        assert settings_in_a_fresh_process(env, "EMAIL_BACKEND.split('.')[-2], EMAIL_HOST") == expected

    def test_the_webhook_secret_can_come_from_a_file(self, tmp_path):
        secret = tmp_path / "stripe"
        secret.write_text("whsec_from_a_file\n")
        env = {"DEBUG": "true", "STRIPE_WEBHOOK_SECRET_FILE": str(secret)}
        assert settings_in_a_fresh_process(env, "STRIPE_WEBHOOK_SECRET") == "whsec_from_a_file"


def settings_in_a_fresh_process(env: dict, expression: str) -> str:
    """Print settings.<expression> from ivssite.settings read with `env` and no inherited email/Stripe settings."""
    values = expression.replace(", ", ", s.")
    code = f"import django; django.setup(); from django.conf import settings as s; print(s.{values})"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "STRIPE_", "DJANGO_SETTINGS"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**inherited, "DJANGO_SETTINGS_MODULE": "ivssite.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()
