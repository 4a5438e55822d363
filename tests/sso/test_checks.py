import pytest
from django.core.checks import run_checks

from tests.factories import check_ids


@pytest.mark.django_db
def test_password_login_off_without_any_idp_stops_start_up(settings):
    settings.IVS_PASSWORD_LOGIN, settings.SSO_PROVIDER_IDS = False, []
    assert "sso.E001" in check_ids(run_checks(tags=["ivs"]))


@pytest.mark.django_db
def test_password_login_off_with_an_idp_is_fine(settings):
    settings.IVS_PASSWORD_LOGIN, settings.SSO_PROVIDER_IDS = False, ["okta"]
    assert "sso.E001" not in check_ids(run_checks(tags=["ivs"]))
