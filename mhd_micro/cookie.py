# The cookie parser: the values of kind VK_COOKIE, parsed from the request's Cookie header
# fields when the application asks for them. An optional module (feature "cookie_parser",
# features.COOKIE_PARSER): values.py imports it on the first cookie lookup, and a build
# without it (tools/build.py --without cookie_parser) gives no cookies at all.
#
# The entry point is each_cookie(request, fn, cls).
from .parser import ieq


def each_cookie(r, fn, cls):
    """Calls fn(cls, name, value) for every cookie; stops early if fn returns True. Returns
    the number of cookies visited.
    Cookie = cookie-pair *( ";" SP cookie-pair )  https://www.rfc-editor.org/rfc/rfc6265#section-4.2.1
    Lenient by strictness: levels >= 2 drop a Cookie header with any bad pair, lower levels
    keep the valid pairs."""
    d = r.conn.daemon
    if d.no_cookies:
        return 0
    b = r.conn.buf
    hdr = r.hdr
    strict = d.strict
    n = 0
    for k in range(0, r.nhdr * 4, 4):
        if not ieq(b, hdr[k], hdr[k + 1], b"cookie"):
            continue
        pairs = []
        s, e = hdr[k + 2], hdr[k + 3]
        bad = False
        while s < e:
            a = b.find(b";", s, e)
            if a < 0:
                a = e
            ps, pe = s, a
            while ps < pe and b[ps] in (32, 9):
                if b[ps] == 9 and strict > -2:
                    bad = True
                ps += 1
            eq = b.find(b"=", ps, pe)
            if eq <= ps or (strict > -3 and (b[eq - 1] in (32, 9) or (eq + 1 < pe and b[eq + 1] in (32, 9)))):
                if ps < pe or strict > 0:
                    bad = True
            else:
                vs, ve = eq + 1, pe
                while ve > vs and b[ve - 1] in (32, 9):
                    ve -= 1
                if ve - vs >= 2 and b[vs] == 34 and b[ve - 1] == 34:
                    vs += 1
                    ve -= 1
                pairs.append((ps, eq, vs, ve))
            s = a + 1
        if bad and strict >= 2:
            continue
        mv = memoryview(b)
        for ps, pe, vs, ve in pairs:
            n += 1
            if fn is not None and fn(cls, str(mv[ps:pe], "utf-8"), str(mv[vs:ve], "utf-8")):
                return n
    return n
