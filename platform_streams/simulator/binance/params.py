"""Request parameters of the simulated Binance REST API, parsed the way Binance validates them.

Parameters may come in the query string, the form body, or both (the query string
wins, as Binance documents). Decimals become exact scale-8 mantissas; malformed
input raises the error Binance returns for it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from platform_streams.schemas.fixed_point import FixedPointError, parse_decimal, rescale
from platform_streams.simulator.binance import errors
from platform_streams.simulator.market.universe import PRICE_SCALE

_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_INTEGER = re.compile(r"-?[0-9]{1,20}")


class RequestParams:
    """The merged parameters of one request, with typed accessors raising Binance errors."""

    def __init__(self, query: str, body: str) -> None:
        self.raw_query = query
        self.raw_body = body
        merged = dict(parse_qsl(body, keep_blank_values=True))
        merged.update(parse_qsl(query, keep_blank_values=True))
        self.values = merged

    def text(self, name: str) -> str | None:
        """The parameter's text, None when absent or empty."""
        return self.values.get(name) or None

    def required_text(self, name: str) -> str:
        value = self.values.get(name)
        if not value:
            raise errors.mandatory_parameter(name)
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        return None if value is None else self._to_integer(name, value)

    def required_integer(self, name: str) -> int:
        return self._to_integer(name, self.required_text(name))

    @staticmethod
    def _to_integer(name: str, value: str) -> int:
        if _INTEGER.fullmatch(value) is None:
            raise errors.illegal_characters(name)
        return int(value)

    def decimal(self, name: str) -> int | None:
        """A decimal parameter as a mantissa at scale 8, None when absent."""
        value = self.text(name)
        if value is None:
            return None
        if _DECIMAL.fullmatch(value) is None:
            raise errors.illegal_characters(name)
        try:
            mantissa, scale = parse_decimal(value)
            return rescale(mantissa, scale, PRICE_SCALE)
        except FixedPointError:
            raise errors.too_much_precision(name) from None
