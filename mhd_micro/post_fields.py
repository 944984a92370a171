# The fields a form kept (post.py's store): read by VK_POSTDATA lookups (values.py) and
# request_get_post_data_cb. Apart from post.py so that a form whose fields all stream (a file
# upload) does not load them. Part of the post_parser feature.
#
# The entry points are each_field(r, fn, cls) and request_get_post_data_cb.
from .platform import const
from .post import _text

_POST = const(3)  # = upload._POST


def each_field(r, fn, cls):
    """fn(cls, name, value, filename, content_type, encoding) for each kept field (value None
    for a name without '='), until it returns True. Returns the number visited."""
    st = r.post
    if st is None or r.body_mode < _POST:
        return 0
    at = st.at
    for f in range(st.n):
        texts = []
        for k in range(5):
            n = st.lens[f * 5 + k]
            texts.append(None if n < 0 else _text(st.store, at, at + n))
            at += max(n, 0)
        if fn is not None and fn(cls, texts[0], texts[4], texts[1], texts[2], texts[3]):
            return f + 1
    return st.n


def request_get_post_data_cb(request, iterator, cls=None):
    """iterator(cls, name, value, filename, content_type, encoding) for each kept field of
    the form (MHD's struct MHD_PostField, flattened); it returns False to stop. Returns the
    number of fields visited."""
    def visit(_, *field):
        return iterator(cls, *field) is False
    return each_field(request, visit, None)
