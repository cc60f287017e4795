"""A conversation's reply address: `reply+<conversation>.<signature>@<mail domain>`.

The signature is a keyed hash of the conversation id with the token secret, so an address names one
conversation and cannot be made up for another: a reply sent to a forged or altered address is
refused before anything reads its text (usecases/inbound_mail.py).
"""
from __future__ import annotations

import hashlib
import hmac
import re

from .. import config
from . import auth

_LOCAL = re.compile(r"^reply\+(?P<conversation>[a-z0-9_-]{1,64})\.(?P<sig>[a-f0-9]{20})$")


def _signature(conversation: str) -> str:
    return hmac.new(auth.secret(), f"reply-address\n{conversation}".encode(), hashlib.sha256).hexdigest()[:20]


def address_of(conversation: str) -> str | None:
    """The reply address, or None when the stack receives no mail (no MailDomain) or the id cannot be
    part of an address."""
    domain = config.mail_domain()
    if not domain or not re.fullmatch(r"[a-z0-9_-]{1,64}", conversation):
        return None
    return f"reply+{conversation}.{_signature(conversation)}@{domain}"


def conversation_of(address: str) -> str | None:
    """The conversation a reply address names, if its signature and domain are ours; None otherwise."""
    local, _, domain = (address or "").strip().lower().rpartition("@")
    found = _LOCAL.match(local)
    if not found or domain != config.mail_domain():
        return None
    conversation = found["conversation"]
    return conversation if hmac.compare_digest(found["sig"], _signature(conversation)) else None
