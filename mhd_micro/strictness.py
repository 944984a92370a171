# What the strictness levels do with input outside the common shape of a request head:
# bare CR and NUL, empty lines before the request line, obs-fold, whitespace around field
# names, TAB, VT and FF as request-line delimiters, and the stricter field checks of levels
# 1 and up. docs/strictness.md has the table. Sans-I/O, like parser.py.
#
# parser.py calls these only when it meets such input (or, for bad_field, at levels >= 1),
# and loads this module then: a server that gets well-formed requests never loads it.
from .platform import const
from .parser import DROP, NEXT, F_SKIPPED, store, _special, CHARS

_MAX_EMPTY_LINES = const(1024)  # MHD_MAX_EMPTY_LINES_SKIP


def fix_cr_nul(b, s, e, strict):
    """Bare CR and NUL inside a line: 400, or (permissive levels) replaced by a space; -3
    keeps a bare CR as it is. Returns 0 or 400."""
    if strict > -1:
        return 400
    i = b.find(b"\0", s, e)
    while i >= 0:
        b[i] = 32
        i = b.find(b"\0", i + 1, e)
    if strict > -3:
        i = b.find(b"\r", s, e)
        while i >= 0:
            b[i] = 32
            i = b.find(b"\r", i + 1, e)
    return 0


def empty_line(r):
    """Empty lines before the request line: https://www.rfc-editor.org/rfc/rfc9112#section-2.2"""
    r.head_start += 1  # until the request line, head_start counts the empty lines (parser._start)
    n = r.head_start
    if r.strict >= 2:
        return 400
    if (r.strict == 1 and n > 1) or (r.strict > -3 and n > _MAX_EMPTY_LINES):
        return DROP
    return 0


def fold(r, b, s, e):
    """A line starting with whitespace: obs-fold, or whitespace before the first field
    (https://www.rfc-editor.org/rfc/rfc9112#section-5.2)."""
    if r.nhdr == 0 or r.flags & F_SKIPPED:
        return 400 if r.strict > -1 else NEXT  # the line is ignored
    if r.strict > 0:
        return 400
    hdr = r.hdr
    i = r.nhdr * 4 - 4
    for k in range(hdr[i + 3], s):  # fold into the previous value: CRLF becomes spaces
        b[k] = 32
    while e > s and b[e - 1] in (32, 9):
        e -= 1
    if e > s:
        hdr[i + 3] = e
    return NEXT


def unskip(r, b, s, e):
    """parser._lines, at the line b[s:e] after a skipped one: unless it is a fold of that one,
    the last field line is no longer skipped (odd_name sets the flag again if it skips it too)."""
    if e > s and b[s] != 32 and b[s] != 9:
        r.flags &= ~F_SKIPPED


def odd_name(r, b, s, e):
    """The field line b[s:e] has no ':', an empty name or whitespace in its name, or starts
    with whitespace: a fold."""
    if b[s] == 32 or b[s] == 9:
        return fold(r, b, s, e)
    c = b.find(b":", s, e)  # the ':', or -1
    if c < 0:  # no ':': the line is skipped from level -2 down
        if r.strict > -2:
            return 400
        r.flags |= F_SKIPPED  # parser._lines clears it at the next line that is no fold
        return NEXT
    n = _name_end(r, b, s, c)
    if n < 0:
        return 400
    c = store(r, b, s, c, e)  # the name up to the ':'
    if c != NEXT or r.hdr[r.nhdr * 4 - 3] == n:
        return c
    # level -3, whitespace before the ':': store kept it in the name, where no field _special
    # acts on could match (their names hold none); now the name ends before it
    c = r.nhdr * 4 - 3
    r.hdr[c] = n
    return _special(r, b, c - 1)


def _name_end(r, b, s, c):
    """The end of the field name before the ':' at c, or -1 if the level refuses it."""
    n = c
    while n > s and b[n - 1] in (32, 9):
        n -= 1
    if n < c and r.strict > -3:
        return -1  # whitespace before ':': RFC 9112 section 5.1 says 400
    if r.strict > -2 and (n == s or b.find(b" ", s, n) >= 0 or b.find(b"\t", s, n) >= 0):
        return -1  # empty name, or whitespace inside it
    return n


def bad_field(b, ns, ve):
    """Levels 1 and up (beyond MHD2's checks), for the field line b[ns:ve] (parser._lines):
    the name must be a token and the value free of control bytes but HTAB
    (https://www.rfc-editor.org/rfc/rfc9110#section-5.1 and 5.5). OWS is no bad byte: the
    value is checked before its trimming. A line without ':' or name is odd_name's (400 at
    these levels)."""
    vs = b.find(b":", ns, ve) + 1  # the value's start
    if vs <= ns + 1:
        return False
    while ns < vs - 1:
        c = b[ns]
        if CHARS[c] != 1:  # not a tchar
            return True
        ns += 1
    while vs < ve:
        c = b[vs]
        if (c < 32 and c != 9) or c == 127:
            return True
        vs += 1
    return False


def relax(b, s, e, strict):
    """TAB (levels <= 0), VT and FF (levels <= -1) accepted as delimiters: made spaces.
    parser.py calls it at level 0 for a line with a TAB, and below 0 for every request line."""
    while s < e:
        c = b[s]
        if c == 9 or (strict < 0 and (c == 11 or c == 12)):
            b[s] = 32
        s += 1
