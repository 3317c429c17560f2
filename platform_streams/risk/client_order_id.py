"""The deterministic client order id of an intent's order, valid on every venue we trade.

Same intent, same id: a replayed intent's order is recognised by execution (and by the venue)
rather than placed twice. The id is 32 lowercase hexadecimal characters laid out as a
version-8 UUID without dashes, which every venue accepts:

- Binance ``newClientOrderId``: at most 36 characters of ``[.A-Z:/a-z0-9_-]``;
- OKX ``clOrdId``: at most 32 case-sensitive letters and digits;
- Kraken ``cl_ord_id``: a UUID, long (with dashes) or short (32 hex digits, no dashes).

The first 8 characters are a tag of the deployment, so a fill's deployment is known from its
client order id alone (risk attributes fills and PnL to deployments this way, even after a restart).
"""

from __future__ import annotations

import hashlib

CLIENT_ORDER_ID_LENGTH = 32
DEPLOYMENT_TAG_LENGTH = 8


def deployment_tag(deployment: str) -> str:
    """8 hex characters naming ``deployment`` (32 bits: unique among any realistic number of deployments)."""
    return hashlib.blake2b(deployment.encode(), digest_size=4).hexdigest()


def client_order_id(deployment: str, intent_id: str) -> str:
    """The order id of ``deployment``'s intent ``intent_id``: its tag, then 96 bits of the intent's
    hash with the UUID version (8) and variant (RFC 4122) digits set."""
    digest = hashlib.blake2b(f"{deployment}\x00{intent_id}".encode(), digest_size=12).hexdigest()
    body = deployment_tag(deployment) + digest  # 32 hex digits
    # UUID layout: digit 12 is the version, digit 16 the variant (8, 9, a or b)
    variant = "89ab"[int(body[16], 16) & 3]
    return body[:12] + "8" + body[13:16] + variant + body[17:]


def tag_of(client_order_id: str) -> str:
    """The deployment tag an id of ours starts with ("" for an id that is not one of ours)."""
    if len(client_order_id) != CLIENT_ORDER_ID_LENGTH:
        return ""
    return client_order_id[:DEPLOYMENT_TAG_LENGTH]
