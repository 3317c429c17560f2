"""Exact decimal text of the simulator's scale-8 mantissas, the way each exchange spells numbers.

Binance always sends eight decimals (its own ``frames.decimal8``); Kraken sends a
fixed number of decimals per pair (``pair_decimals`` for prices, ``lot_decimals``
for volumes); OKX trims trailing zeros (``"30316"``, ``"0.00000166"``). All of them
are rendered from integers here, never from floats, so a checksum computed over
the text is computed over exactly what went on the wire.
"""

from __future__ import annotations

from platform_streams.simulator.market.universe import PRICE_SCALE, SCALE_FACTOR


class DecimalTextError(ValueError):
    """A mantissa that cannot be written exactly with the requested number of decimals."""


def fixed(mantissa: int, decimals: int) -> bytes:
    """``mantissa`` (scale 8) with exactly ``decimals`` decimals; raises if that would round."""
    if decimals >= PRICE_SCALE:
        whole, fraction = divmod(mantissa, SCALE_FACTOR)
        return b"%d.%0*d" % (whole, decimals, fraction * 10 ** (decimals - PRICE_SCALE))
    step = 10 ** (PRICE_SCALE - decimals)
    units, rest = divmod(mantissa, step)
    if rest:
        raise DecimalTextError(f"{mantissa}e-{PRICE_SCALE} has more than {decimals} decimals")
    if decimals == 0:
        return b"%d" % units
    whole, fraction = divmod(units, 10**decimals)
    return b"%d.%0*d" % (whole, decimals, fraction)


def trimmed(mantissa: int) -> bytes:
    """``mantissa`` (scale 8) without trailing zeros: ``3031600000000`` → ``30316``, ``166`` → ``0.00000166``."""
    whole, fraction = divmod(mantissa, SCALE_FACTOR)
    if not fraction:
        return b"%d" % whole
    return (b"%d.%08d" % (whole, fraction)).rstrip(b"0")


def decimals_of_step(step: int) -> int:
    """How many decimals a step (scale-8 mantissa, a power of ten) needs: ``10**6`` (0.01) → 2, ``10**9`` → 0."""
    decimals = PRICE_SCALE
    while decimals > 0 and step % 10 == 0:
        step //= 10
        decimals -= 1
    return decimals
