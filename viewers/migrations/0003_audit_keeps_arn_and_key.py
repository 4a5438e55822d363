"""Audit rows and revocations keep the ARN their sessions run on; audit rows also keep the channel's name and the
signing key's fingerprint, and outlive the channel (SET_NULL instead of CASCADE)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# Rows written before this migration: which key signed them is not known, so they count for every key.
UNKNOWN_SIGNER = "?"


def copy_channel_details(apps, schema_editor):
    Channel = apps.get_model("viewers", "Channel")
    TokenAudit = apps.get_model("viewers", "TokenAudit")
    Revocation = apps.get_model("viewers", "Revocation")
    of_channel = Channel.objects.filter(pk=OuterRef("channel_id"))
    TokenAudit.objects.update(
        channel_arn=Subquery(of_channel.values("arn")[:1]), channel_name=Subquery(of_channel.values("name")[:1])
    )
    Revocation.objects.update(channel_arn=Subquery(of_channel.values("arn")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("viewers", "0002_country_rules_and_key_regions"),
    ]

    operations = [
        migrations.AddField(
            model_name="tokenaudit",
            name="channel_arn",
            field=models.CharField(default="", max_length=128, verbose_name="channel ARN"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="tokenaudit",
            name="channel_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="tokenaudit",
            name="key_fingerprint",
            field=models.CharField(blank=True, default=UNKNOWN_SIGNER, max_length=47, verbose_name="signed with"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="revocation",
            name="channel_arn",
            field=models.CharField(default="", max_length=128, verbose_name="channel ARN"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_channel_details, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="tokenaudit",
            name="channel",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="viewers.channel",
            ),
        ),
        migrations.AlterField(
            model_name="revocation",
            name="channel",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="viewers.channel",
            ),
        ),
        migrations.AddIndex(
            model_name="tokenaudit",
            index=models.Index(fields=["key_fingerprint", "expires_at"], name="audit_key_expires"),
        ),
    ]
