"""A return started from the store's own order page: the store signs a link, the customer types nothing.

The store (any platform: a Shopify order-status page, WooCommerce's "My account", its own code)
holds the store link secret and signs `"{order_id}\\n{email lower-cased}\\n{exp}"` with HMAC-SHA256;
`sig` is its hex digest and `exp` a Unix time after which the link opens nothing (../shared/api.md
v3, "Store links"). A valid link is as good as the order number and email typed in, and better:
only the store could have made it, so it is not a guess, and the lookup limits do not count it.

Pure: the caller hands in the keys (the current one, and the previous during a rollover) and now.
"""
from __future__ import annotations

import hashlib
import hmac

from .errors import UnauthorizedError

BAD_SIGNATURE = "bad_signature"
LINK_EXPIRED = "link_expired"


def message(order_id: str, email: str, exp: int) -> bytes:
    """What the store signs. The email is lower-cased (addresses are matched without case) and
    stripped; the order id is as the customer would type it."""
    return f"{order_id}\n{email.strip().lower()}\n{int(exp)}".encode()


def sign(key: bytes, order_id: str, email: str, exp: int) -> str:
    return hmac.new(key, message(order_id, email, exp), hashlib.sha256).hexdigest()


def check(keys: list[bytes], order_id: str, email: str, exp: int, sig: str, now: float) -> None:
    """Raise UnauthorizedError (`bad_signature`, `link_expired`) unless a key signed exactly this link
    and it has not expired. The signature is checked first, so an expired link says so only when the
    store really made it; every key is compared, so the time taken says nothing."""
    if not keys:   # an empty key would make every signature anyone computes valid
        raise RuntimeError("the store link secret is empty")
    given = sig.strip().lower().encode()
    matches = [hmac.compare_digest(given, sign(key, order_id, email, exp).encode()) for key in keys]
    if not any(matches):
        raise UnauthorizedError("the link's signature is not the store's", field="sig", code=BAD_SIGNATURE)
    if int(exp) <= now:
        raise UnauthorizedError("the link has expired: ask the store for a new one, or enter the order "
                                "number and email", field="exp", code=LINK_EXPIRED)
