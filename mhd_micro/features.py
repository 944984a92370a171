# The build's feature flags: which optional parts this copy of mhd_micro was built with.
#
# This is the repository's copy: every feature whose module exists is on. tools/build.py
# writes its own features.py into each bundle (build/<name>/mhd_micro/features.mpy) from a
# board config or --without flags, and leaves the modules of disabled features out.
#
# A flag alone does not make a feature: lib_get_info_fixed (libinfo.py) reports a feature
# only if its flag is on, its module is present (importable, from the filesystem or frozen)
# and the platform can do it (TLS: the runtime's ssl). tools/build.py refuses to turn on a
# flag whose module does not exist.

COOKIE_PARSER = True  # cookie.py: VK_COOKIE values, REQUEST_INFO_DYNAMIC_NUMBER_COOKIES
LARGE_FILE = True  # fd.py: file and pipe responses; past 2 GiB where the platform can seek there
UPGRADE = True  # upgrade.py: action_upgrade, upgraded_recv/send/close
POST_PARSER = True  # post.py (and post_parser.py, post_pairs.py, post_fields.py): action_parse_post, VK_POSTDATA
AUTO_REPLY_BODIES = True  # the daemon's automatic error replies carry a short HTML body
LOG_MESSAGES = True  # the daemon's log messages (stderr or D_OPTION_LOG_CALLBACK)
AUTH_BASIC = True  # auth_basic.py (and auth_parser.py): REQUEST_INFO_DYNAMIC_AUTH_BASIC_CREDS, Basic challenges
AUTH_DIGEST = True  # auth_digest.py (and auth_parser.py): digest_auth_*, Digest challenges, the nonce table

TLS = True  # tls.py: D_OPTION_TLS (HTTPS), where the runtime has ssl
