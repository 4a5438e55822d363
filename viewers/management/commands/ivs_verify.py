"""Check a playback token (or a playback URL carrying ?token=) the way IVS does: prints its claims, which region's
keys it checked (IVS accepts only keys imported in the channel's region), which key verified it, and the verdict
with its reason. Revocations and spent single-use ids are IVS's state, which IVS's API cannot read: they are not
checked (and nothing is spent).
"""

import json
import time
from urllib.parse import parse_qs, urlsplit

from django.core.management.base import BaseCommand, CommandError

from viewers import validators
from viewers.ivs import signing_keys, tokens
from viewers.models import Channel, PlaybackKey, PlaybackKeyRegion


class Command(BaseCommand):
    help = __doc__
    # It verifies with the registered public keys only, as IVS does, so it must run where the private key is
    # not configured (a support machine, a shell without the secret); the key checks would refuse there.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("token_or_url")
        parser.add_argument("--channel", help="Slug of the channel the token should be for.")
        parser.add_argument("--origin", help="Check as if the browser sent this Origin header.")

    def handle(self, *args, token_or_url, channel=None, origin=None, **options):
        token, url_arn = self._split(token_or_url.strip())
        try:
            header, claims = tokens.decode_unverified(token)
        except tokens.TokenRejected as rejected:
            raise CommandError(f"Verdict: REJECTED (malformed): {rejected.reason}", returncode=1) from None
        self.stdout.write("Header: " + json.dumps(header))
        self.stdout.write("Claims: " + json.dumps(claims, indent=2, sort_keys=True))
        if isinstance(claims.get("exp"), int):
            self.stdout.write(f"Expires in: {claims['exp'] - int(time.time())} s")

        arn = self._channel_arn(channel, url_arn)
        if arn is None:
            self.stdout.write("Channel: not given (use --channel); the ARN is not checked.")
        verification_keys = self._keys_for(arn)
        if not signing_keys.verification_keys():
            self.stdout.write("No registered playback keys; add the public key in admin first.")
        try:
            verified = tokens.verify(
                token,
                keys=verification_keys,
                channel_arn=arn,
                now=time.time(),
                origin=origin,
            )  # no revoked_through / claim_single_use: that state is IVS's own, and its API cannot read it
        except tokens.TokenRejected as rejected:
            reason = rejected.reason + self._elsewhere(token, rejected, arn)
            raise CommandError(f"Verdict: REJECTED ({rejected.code}): {reason}", returncode=1) from None
        self.stdout.write(f"Verified by key: {verified.key_id}")
        self.stdout.write(self.style.SUCCESS("Verdict: VALID"))
        for note in self._unchecked(claims):
            self.stdout.write(note)

    def _split(self, value):
        """A bare token, or a URL with ?token=; from an IVS-shaped URL also the channel's ARN."""
        if "://" not in value:
            return value, None
        parts = urlsplit(value)
        token = parse_qs(parts.query).get("token", [""])[0]
        if not token:
            raise CommandError("That URL has no token= parameter.", returncode=2)
        match = validators.PLAYBACK_PATH_RE.search(parts.path)
        arn = f"arn:aws:ivs:{match['region']}:{match['account']}:channel/{match['id']}" if match else None
        return token, arn

    def _keys_for(self, arn):
        """The keys IVS would try: those imported in the channel's region. Says which ones it took."""
        every = list(signing_keys.verification_keys())
        region = validators.region_of_arn(arn or "")
        if not region:
            self.stdout.write("Keys checked: every registered key (no channel, so no region).")
            return every
        if not PlaybackKeyRegion.objects.exists():
            self.stdout.write(f"Keys checked: every registered key (none has recorded regions to narrow {region} by).")
            return every
        imported = dict(PlaybackKeyRegion.objects.filter(region=region).values_list("key__fingerprint", "key__name"))
        names = ", ".join(sorted(imported.values())) or "none"
        self.stdout.write(f"Keys checked: those imported in {region}, the channel's region ({names}).")
        return [(fingerprint, key) for fingerprint, key in every if fingerprint in imported]

    def _elsewhere(self, token, rejected, arn) -> str:
        """A bad signature may be a good key missing from the channel's region: say so."""
        if rejected.code != "signature" or not arn:
            return ""
        for fingerprint, key in signing_keys.verification_keys():
            try:
                tokens.verify(token, keys=[(fingerprint, key)], channel_arn=None, now=time.time())
            except tokens.TokenRejected as again:
                if again.code == "signature":
                    continue  # not this key; any other complaint means this key's signature checked out
            name = PlaybackKey.objects.filter(fingerprint=fingerprint).values_list("name", flat=True).first()
            return f" (signed by {name or fingerprint}, which is not imported in {validators.region_of_arn(arn)})"
        return ""

    def _channel_arn(self, slug, url_arn):
        if slug:
            channel = Channel.objects.filter(slug=slug).first()
            if channel is None:
                raise CommandError(f"No channel with slug {slug!r}.", returncode=2)
            return channel.arn
        return url_arn

    def _unchecked(self, claims):
        """What IVS also checks but cannot be asked about: its API reads neither revocations nor spent ids."""
        if claims.get(tokens.CLAIM_VIEWER_ID):
            yield (
                "Not checked: whether IVS has revoked this viewer's sessions "
                "(StartViewerSessionRevocation leaves no state that IVS's API can read)."
            )
        if claims.get(tokens.CLAIM_SINGLE_USE):
            yield "Not checked: whether this single-use token was already spent (only IVS knows; nothing was spent)."
