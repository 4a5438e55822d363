"""Django admin for the site, one module per model family. Importing them registers their ModelAdmins.

Custom pages are functions of (model_admin, request, …) next to the ModelAdmin that wires them in its get_urls;
every one checks the permission it needs. Writes go through viewers.services, viewers.operators.csv_import,
viewers.ivs.key_rotation and viewers.ivs.channel_sync."""

from viewers.admin import audits, channels, chat, entitlements, imports, invitations, keys, users  # noqa: F401
