# HTTP status codes by name: HTTP_STATUS_NOT_FOUND... are derived from the reason phrases
# (response._PHRASES): upper case, spaces and hyphens as underscores.
#
# The entry points are HTTP_status_code_to_string(code) and resolve(name). Only the API
# needs this module: the package loads it for a lookup and lets it go.

from .response import _PHRASES, phrase_of


HTTP_status_code_to_string = phrase_of  # the reason phrase of a code, or None: one table, one lookup
http_status_code_to_string = HTTP_status_code_to_string  # the naming rule's spelling


def status_by_name(name):
    """The code for HTTP_STATUS_<NAME>, or None."""
    want = name.encode()
    i = 0
    while i < len(_PHRASES) - 1:
        end = _PHRASES.find(b"\n", i + 1)
        phrase = _PHRASES[i + 5:end]
        if phrase.upper().replace(b" ", b"_").replace(b"-", b"_") == want or (want == b"RETRY_WITH" and phrase == b"Reply With"):
            return int(_PHRASES[i + 1:i + 4])
        i = end
    return None


def resolve(name):
    """HTTP_STATUS_<NAME> -> its code."""
    return status_by_name(name[12:]) if name.startswith("HTTP_STATUS_") else None
