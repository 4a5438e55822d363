from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from viewers.chat import rooms
from viewers.ivs import channel_sync, signing_keys, tokens
from viewers.models import Channel, ChatRoom, Entitlement, PlaybackKey, PlaybackKeyRegion, User

DEMO_ACCOUNT = "123456789012"
DEMO_REGION = "us-west-2"
PASSWORD = "watch-the-demo"  # noqa: S105  demo data refuses to exist outside DEBUG


class Command(BaseCommand):
    help = (
        "Seed local demo data: an admin, viewers and channels played by the local IVS origin. Runs on every "
        "`make run`: it creates only what is missing and keeps the operator's edits (docs/DEMO.md)."
    )
    # It registers the configured key when the database lacks it, which is what ivs.E020 would complain about.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin", default="http://127.0.0.1:8000", help="Where the site (and its local IVS origin) is served."
        )

    def handle(self, *args, origin, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create demo accounts with DEBUG off. Run it with DEBUG=true.")
        if not settings.IVS_LOCAL_ORIGIN:
            raise CommandError("The demo plays from the local IVS origin: set IVS_LOCAL_ORIGIN=true.")
        try:
            signing_key = signing_keys.signing_key()
        except tokens.PlaybackKeyError as exc:
            raise CommandError(f"Playback key: {exc}.") from None
        with transaction.atomic():
            self._seed(origin.rstrip("/"), signing_key)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at " + origin + "/accounts/login/ as:"))
        for username, what in [
            ("viewer", "entitled to the private Demo Event"),
            ("viewer-sd", "entitled to Demo Event in SD only, through the 'sd-subscribers' group"),
            ("stranger", "no entitlement: gets the 403 page"),
            ("moderator", "entitled to Demo Event, and moderates its chat (delete messages, remove viewers)"),
            ("admin", "superuser for /admin/ (no implicit access to channels)"),
        ]:
            self.stdout.write(f"  {username:<10} / {PASSWORD}   {what}")
        if settings.IVS_LOCAL_IDP:
            from localidp import demo as idp_demo

            for line in idp_demo.how_to_log_in(PASSWORD):
                self.stdout.write(line)

    def _seed_key(self, signing_key):
        """Register the configured key if this database does not know it (a first run, or a key rotated away and
        deleted since). A registered key is left exactly as the operator left it: its name, its signing flag and
        the old key's "signing stopped at" belong to the rotation's own steps, which check what they record."""
        fingerprint = tokens.fingerprint(signing_key)
        key = PlaybackKey.objects.filter(fingerprint=fingerprint).first()
        if key is None:
            key = PlaybackKey(
                name=f"dev-{fingerprint[:11].replace(':', '')}",
                public_key_pem=tokens.public_key_pem(signing_key),
                # The signing key only on a fresh database: otherwise "Make signing key" records the switch.
                is_signing=not PlaybackKey.objects.filter(is_signing=True).exists(),
            )
            key.full_clean()
            key.save()
            # The local origin knows every registered key; record it as imported in the demo's region, as a real
            # import would, so the region check (ivs.W021) has nothing to say about the demo.
            key_id = "demo" + fingerprint.replace(":", "")[:12]
            PlaybackKeyRegion.objects.create(
                key=key, arn=f"arn:aws:ivs:{DEMO_REGION}:{DEMO_ACCOUNT}:playback-key/{key_id}"
            )
        return key

    def _seed(self, origin, signing_key):
        key = self._seed_key(signing_key)
        if not key.is_signing:
            self.stdout.write(
                self.style.WARNING(
                    f"The demo signs with {key.name}, which is not recorded as the signing key: finish the rotation "
                    f"with its “Make signing key” step (Playback keys in the admin, or `ivs_rotate_key activate`)."
                )
            )
        private = self._channel("Demo Event", "demo-event", "demoPrivate01", origin, is_private=True)
        self._channel("Demo Lobby", "demo-lobby", "demoPublic01", origin, is_private=False)

        viewer, _ = self._user("viewer")
        sd_viewer, sd_viewer_created = self._user("viewer-sd")
        self._user("stranger")
        moderator, moderator_created = self._user("moderator")
        if moderator_created:  # a permission of the user's: given with a new user, never again
            moderator.user_permissions.add(
                Permission.objects.get(content_type__app_label="viewers", codename="moderate_chat")
            )
        self._user("admin", is_staff=True, is_superuser=True)
        sd_group, sd_group_created = Group.objects.get_or_create(name="sd-subscribers")
        # A membership is the user's, edited on the user's page: added with a new user or group, never again.
        if sd_viewer_created or sd_group_created:
            sd_viewer.groups.add(sd_group)
        # Looked for by holder and channel only: one the operator edited (dates, quality, note, revoked) or added
        # beside it stays as it is; when there is none (deleted, or gone with its channel) it is created again.
        if not Entitlement.objects.filter(user=viewer, channel=private).exists():
            Entitlement.objects.create(user=viewer, channel=private, note="demo")
        if not Entitlement.objects.filter(user=moderator, channel=private).exists():
            Entitlement.objects.create(user=moderator, channel=private, note="demo")
        if not ChatRoom.objects.filter(channel=private).exists():
            # Created at the local IVS Chat by the worker (viewers/chat/rooms.py), as a real room would be.
            ChatRoom.objects.create(channel=private)
            rooms.sync_soon()
        if not Entitlement.objects.filter(group=sd_group, channel=private).exists():
            Entitlement.objects.create(group=sd_group, channel=private, note="demo", max_resolution="SD")
        if settings.IVS_LOCAL_IDP:  # single sign-on through the local identity provider (localidp/)
            from localidp import demo as idp_demo

            idp_demo.seed(private, PASSWORD)

    def _channel(self, name, slug, channel_id, origin, *, is_private):
        """The demo channel the local origin plays as `channel_id`, created when missing.

        An existing one is found by its ARN, which is what makes it this demo channel, and keeps everything an
        operator can edit (name, slug, description, private, listed, limits, countries) except its playback URL:
        the demo owns that one, because the channel plays only when it points at the local origin of the current
        --origin (another port, another host) with this ARN's id, which the site checks against the ARN."""
        arn = f"arn:aws:ivs:{DEMO_REGION}:{DEMO_ACCOUNT}:channel/{channel_id}"
        url = f"{origin}/ivs/api/video/v1/{DEMO_REGION}.{DEMO_ACCOUNT}.channel.{channel_id}.m3u8"
        channel = Channel.objects.filter(arn=arn).first()
        if channel is None:
            channel = Channel(
                name=name,
                slug=channel_sync.free_slug(slug, arn),  # demo-event-2 when an operator gave another channel it
                arn=arn,
                playback_url=url,
                is_private=is_private,
                description="A looping test pattern served by the local IVS origin.",
            )
            channel.full_clean()
            channel.save()
        elif channel.playback_url != url:
            channel.playback_url = url
            channel.full_clean()
            channel.save(update_fields=["playback_url"])
        return channel

    def _user(self, username, **flags):
        """The demo user, created when missing with its password and flags; an existing one is left as the
        operator left it (name, email, password, staff and superuser flags, active)."""
        user = User.objects.filter(username=username).first()
        if user is not None:
            return user, False
        user = User(username=username, email=f"{username}@demo.invalid", **flags)
        user.set_password(PASSWORD)
        user.save()
        return user, True
