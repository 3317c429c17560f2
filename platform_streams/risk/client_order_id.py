"""The deterministic client order id of an intent's order, valid on every venue we trade.

Same intent, same id: a replayed intent's order is recognised by execution (and by the venue)
rather than placed twice. The id is 32 lowercase hexadecimal characters laid out as a
version-8 UUID without dashes, which every venue accepts:

- Binance ``newClientOrderId``: at most 36 characters of ``[.A-Z:/a-z0-9_-]``;
- OKX ``clOrdId``: at most 32 case-sensitive letters and digits;
- Kraken ``cl_ord_id``: a UUID, long (with dashes) or short (32 hex digits, no dashes).

The first 8 characters are a tag of the deployment, so a fill's deployment is known from its
client order id alone (risk attributes fills and PnL to deployments this way, even after a restart).
The next 4 are the deployment's fencing epoch (modulo 16**4), so the venue's own order log shows
which version of a hot-deployed deployment sent each order; versions N and N+1 deciding the same
market event (same intent id) still get different ids.
"""

from __future__ import annotations

import functools
import hashlib

CLIENT_ORDER_ID_LENGTH = 32
DEPLOYMENT_TAG_LENGTH = 8
EPOCH_DIGITS = 4


@functools.lru_cache(maxsize=4_096)  # a pure function of the name, asked for on every order
def deployment_tag(deployment: str) -> str:
    """8 hex characters naming ``deployment`` (32 bits: unique among any realistic number of deployments)."""
    return hashlib.blake2b(deployment.encode(), digest_size=4).hexdigest()


def client_order_id(deployment: str, intent_id: str, epoch: int = 0) -> str:
    """The order id of ``deployment``'s intent ``intent_id`` decided at fencing ``epoch``: its tag, the
    epoch's 4 hex digits, then 80 bits of the intent's hash with the UUID version (8) and variant
    (RFC 4122) digits set."""
    if epoch < 0:
        raise ValueError(f"epoch {epoch} is negative")
    digest = hashlib.blake2b(f"{deployment}\x00{intent_id}".encode(), digest_size=10).hexdigest()
    body = deployment_tag(deployment) + f"{epoch % 16**EPOCH_DIGITS:04x}" + digest  # 32 hex digits
    # UUID layout: digit 12 is the version, digit 16 the variant (8, 9, a or b)
    variant = "89ab"[int(body[16], 16) & 3]
    return body[:12] + "8" + body[13:16] + variant + body[17:]


def tag_of(client_order_id: str) -> str:
    """The deployment tag an id of ours starts with ("" for an id that is not one of ours)."""
    if len(client_order_id) != CLIENT_ORDER_ID_LENGTH:
        return ""
    return client_order_id[:DEPLOYMENT_TAG_LENGTH]


def epoch_of(client_order_id: str) -> int | None:
    """The fencing epoch (modulo 16**4) an id of ours was sent at (None for an id that is not one of ours)."""
    if not tag_of(client_order_id):
        return None
    digits = client_order_id[DEPLOYMENT_TAG_LENGTH : DEPLOYMENT_TAG_LENGTH + EPOCH_DIGITS]
    try:
        return int(digits, 16)
    except ValueError:
        return None
