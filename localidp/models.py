"""What the local identity provider knows: its own users and groups (not the site's: logging in here logs nobody
into the site), the authorization codes it has issued, and its signing key."""

import secrets

from django.db import models
from django.utils import timezone

CODE_SECONDS = 600  # RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"


def new_subject() -> str:
    return secrets.token_hex(12)


class LocalGroup(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        verbose_name = "local IdP group"

    def __str__(self):
        return self.name


class LocalUser(models.Model):
    username = models.CharField(max_length=100, unique=True)
    password = models.CharField(max_length=128, editable=False)  # Django's hash
    subject = models.CharField(max_length=40, unique=True, default=new_subject, editable=False)
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(default=True)
    groups = models.ManyToManyField(LocalGroup, blank=True, related_name="members")

    class Meta:
        verbose_name = "local IdP user"

    def __str__(self):
        return self.username


class AuthorizationCode(models.Model):
    """authlib's AuthorizationCodeMixin (with OpenID Connect's nonce and auth_time, and PKCE's challenge)."""

    code = models.CharField(max_length=120, unique=True)
    client_id = models.CharField(max_length=48)
    user = models.ForeignKey(LocalUser, on_delete=models.CASCADE)
    redirect_uri = models.TextField()
    scope = models.TextField(blank=True)
    nonce = models.CharField(max_length=200, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    auth_time = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"code for {self.client_id}"

    def is_expired(self) -> bool:
        return (timezone.now() - self.created_at).total_seconds() > CODE_SECONDS

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce or None

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return ["pwd"]


class SigningKey(models.Model):
    """The RSA key the ID tokens are signed with (RS256, as Entra ID, Okta and Google sign), made on first use."""

    name = models.CharField(max_length=20, unique=True)
    private_pem = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name
