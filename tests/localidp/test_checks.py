"""The local IdP never runs in production: without DEBUG it stops start-up (localidp.E001), in the check and in a
fresh gunicorn-like process importing the WSGI module; a test run or staging demo may allow it, loudly."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from tests.factories import check_ids, the_one
from tests.ivssite.test_startup import import_wsgi, production_env  # noqa: F401  (a fixture)
from viewers.startup import fail_on_check_errors


def local_idp_messages():
    return [m for m in run_checks(tags=["ivs"]) if m.id.startswith("localidp.")]


@pytest.mark.django_db
class TestTheLocalIdpInProduction:
    def test_without_debug_it_stops_start_up(self, settings):
        settings.DEBUG = False
        settings.IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW = False
        error = the_one(local_idp_messages(), "localidp.E001")
        assert error.is_serious() and "IVS_LOCAL_IDP=false" in error.hint
        with pytest.raises(ImproperlyConfigured, match=r"localidp\.E001"):
            fail_on_check_errors()

    def test_a_test_run_may_allow_it_loudly_and_is_still_warned(self, settings):
        settings.DEBUG = False
        settings.IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW = True
        assert check_ids(local_idp_messages()) == ["localidp.W001"]

    def test_with_debug_on_it_says_nothing(self, settings):
        settings.DEBUG = True
        settings.IVS_LOCAL_IDP_IN_PRODUCTION_I_KNOW = False
        assert local_idp_messages() == []


def test_a_production_process_with_the_local_idp_does_not_start(production_env):  # noqa: F811
    result = import_wsgi({**production_env, "IVS_LOCAL_IDP": "true"})
    assert result.returncode != 0 and "localidp.E001" in result.stderr


def test_a_production_process_without_it_starts_and_mounts_no_idp(production_env):  # noqa: F811
    result = import_wsgi(production_env)
    assert result.returncode == 0, result.stderr
