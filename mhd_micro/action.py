# Actions: what the application tells the engine to do with a request. Each request has one
# preallocated action slot (Action); a constructor fills it and returns it, or returns None
# if the request already has an action, as MHD does.
#
# The entry points are action_from_response and action_abort_request; action_suspend and
# request_resume are in suspend.py.
from .platform import const

# Action.kind: what the connection does once the request callback returns (and, for the
# upload actions, once an upload callback returns: upload.py)
ACT_RESPONSE = const(1)  # send act.response
ACT_SUSPEND = const(2)  # suspend until request_resume
ACT_UPLOAD = const(3)  # the body goes to the application's upload callbacks: act.args
ACT_POST = const(4)  # the body is parsed as a form (post.py): act.args
ACT_UPGRADE = const(7)  # 101 Switching Protocols, then the upgrade handler (upgrade.py): act.args

_RF_REUSABLE = const(1)  # = response.RF_REUSABLE
_RF_FROZEN = const(512)  # = response.RF_FROZEN


class Action:
    """The one action slot of a request (MHD keeps it inside the request too): an action
    constructor fills it and returns it, so making an action allocates nothing."""

    def __init__(self, request):
        self.request = request
        self.kind = 0
        self.response = None
        self.args = None  # an upload or POST action's parameters


def claim(request, kind):
    act = request.action
    if act.kind:
        return None  # at most one action per request
    act.kind = kind
    return act


def action_from_response(request, response):
    """Send `response` for `request`. Consumes the response unless it is reusable.
    Returns the action, or None (an abort) if response is None or already consumed, or if
    the request has an action already."""
    if response is None or response.flags & (_RF_FROZEN | _RF_REUSABLE) == _RF_FROZEN:
        return None
    act = request.action  # claim's test in line: every reply comes this way
    if act.kind:
        return None  # at most one action per request
    act.kind = ACT_RESPONSE
    if response.flags & _RF_REUSABLE:
        response.refs += 1  # the connection's own reference; the application keeps its one
    response.flags |= _RF_FROZEN
    act.response = response
    return act


def action_abort_request(request):
    """Close the connection without a reply (MHD's macro is NULL: so is this)."""
    return None


action_abort_connection = action_abort_request  # the manual's name
