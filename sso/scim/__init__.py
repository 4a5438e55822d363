"""SCIM 2.0 provisioning (RFC 7643/7644) for the identity providers: /scim/v2/Users and /scim/v2/Groups, as Okta and
Entra ID send them. Our own, small, rather than django-scim2: see sso/scim/views.py for why."""
