# HTTP status codes: the reason phrases, and the codes by name (HTTP_STATUS_NOT_FOUND... are
# derived from the phrases: upper case, spaces and hyphens as underscores).
#
# The entry points are phrase_of(code) (HTTP_status_code_to_string) and resolve(name). The
# engine needs a phrase once per status code it sends (framing.status_line keeps the line),
# the API for a lookup: both load this module and let it go.

# The reason phrases of the IANA registry (and three unregistered codes MHD knows), for the
# status lines. One bytes object: a table of objects would cost a header per phrase.
_PHRASES = (
    b'\n100 Continue\n101 Switching Protocols\n102 Processing\n103 Early Hints\n200 OK\n201 Created\n202 Acce'
    b'pted\n203 Non-Authoritative Information\n204 No Content\n205 Reset Content\n206 Partial Content\n207 '
    b'Multi-Status\n208 Already Reported\n226 IM Used\n300 Multiple Choices\n301 Moved Permanently\n302 Fou'
    b'nd\n303 See Other\n304 Not Modified\n305 Use Proxy\n306 Switch Proxy\n307 Temporary Redirect\n308 Perm'
    b'anent Redirect\n400 Bad Request\n401 Unauthorized\n402 Payment Required\n403 Forbidden\n404 Not Found'
    b'\n405 Method Not Allowed\n406 Not Acceptable\n407 Proxy Authentication Required\n408 Request Timeout'
    b'\n409 Conflict\n410 Gone\n411 Length Required\n412 Precondition Failed\n413 Content Too Large\n414 URI'
    b' Too Long\n415 Unsupported Media Type\n416 Range Not Satisfiable\n417 Expectation Failed\n421 Misdir'
    b'ected Request\n422 Unprocessable Content\n423 Locked\n424 Failed Dependency\n425 Too Early\n426 Upgra'
    b'de Required\n428 Precondition Required\n429 Too Many Requests\n431 Request Header Fields Too Large\n'
    b'449 Reply With\n450 Blocked by Windows Parental Controls\n451 Unavailable For Legal Reasons\n500 In'
    b'ternal Server Error\n501 Not Implemented\n502 Bad Gateway\n503 Service Unavailable\n504 Gateway Time'
    b'out\n505 HTTP Version Not Supported\n506 Variant Also Negotiates\n507 Insufficient Storage\n508 Loop'
    b' Detected\n509 Bandwidth Limit Exceeded\n510 Not Extended\n511 Network Authentication Required\n'
)


def phrase_of(code):
    """The reason phrase of a status code, or None."""
    i = _PHRASES.find(b"\n%d " % code) if 99 < code < 1000 else -1
    if i < 0:
        return None
    return _PHRASES[i + 5:_PHRASES.find(b"\n", i + 5)].decode()


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
