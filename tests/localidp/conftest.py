from tests.sso.idp import idp_http  # noqa: F401  (a fixture)
