"""Production static files: whitenoise's compressed, hashed copies, with the player's ES module imports
rewritten to the hashed names too.

Without that, the hashed player.js would import the unhashed ./player-logic.js: it loads, but under whitenoise's
short cache lifetime, and a browser could pair a new player.js with a cached old player-logic.js after a deploy.
Django rewrites imports only with support_js_module_import_aggregation, which applies its patterns to every *.js
(the SDK's minified bundle and the admin's scripts included, where "import ... from" may appear in strings); this
storage rewrites only the site's own modules in static/js/, whose imports are all `import {...} from "./x.js";`.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage

# `from "./name.js"` (or '../'): a relative module specifier; absolute URLs and bare names are left alone.
MODULE_IMPORT = (
    r"""(?P<matched>\bfrom\s*(?P<quote>["'])(?P<url>\.\.?/[^"'\s]+)(?P=quote))""",
    'from "%(url)s"',
)


class StaticStorage(CompressedManifestStaticFilesStorage):
    patterns = (*CompressedManifestStaticFilesStorage.patterns, ("js/*.js", (MODULE_IMPORT,)))
