"""Chat beside the stream, on Amazon IVS Chat, bound to the same entitlements as playback (docs/CHAT.md).

tokens.py obtains a chat token for a viewer the access rule let in (the one AWS call a request makes); views.py is
the player page's chat-token and remove-from-chat endpoints; page.py the player page's chat configuration;
moderation.py bans; withdrawal.py the reconciler's chat half; rooms.py the worker's room provisioning.
"""
