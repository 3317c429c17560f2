"""Risk limits as an operator writes them (decimal text per account, deployment and instrument),
validated at start into exact values, and resolved for one order.

Money limits are in the instrument's quote asset; sizes in its base asset. Each limit applies at
one scope, and the most specific setting wins, field by field:

- ``max_position`` (base units) and ``max_position_notional`` (quote): the account's net position
  in one instrument; set per instrument (``exchange:symbol``), per account, or by default;
- ``max_order_notional`` (quote): one order; per instrument, deployment, strategy, account or default;
- ``max_open_orders``: the account's open orders (per account or default), and the deployment's
  own when set for it or for its strategy;
- ``price_band_bps``: a limit price's distance from the last mid; per instrument or default;
- ``max_daily_loss`` (quote): a deployment's realised plus unrealised loss since 00:00 UTC; per
  deployment, strategy (each of its deployments) or default.

A limit left unset (None) does not apply; the defaults are set, so an operator has to unset one on
purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import msgspec
from quicktions import Fraction

from platform_streams.schemas.fixed_point import FixedPointError, parse_decimal

T = TypeVar("T")


class RiskLimitsError(ValueError):
    """A limit in the configuration is not a valid value; the message names the field."""


class Limits(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One scope's limits as configured (decimal text for money and sizes)."""

    max_position: str | None = None
    max_position_notional: str | None = None
    max_order_notional: str | None = None
    max_open_orders: int | None = None
    price_band_bps: int | None = None
    max_daily_loss: str | None = None


DEFAULT_LIMITS = Limits(
    max_position_notional="100000",
    max_order_notional="10000",
    max_open_orders=50,
    price_band_bps=500,
    max_daily_loss="1000",
)


class RiskLimitsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Every scope's limits: ``default`` under ``accounts``, ``strategies`` (by strategy name, for each
    of its deployments), ``deployments`` and ``instruments``."""

    default: Limits = DEFAULT_LIMITS
    accounts: dict[str, Limits] = {}
    strategies: dict[str, Limits] = {}
    deployments: dict[str, Limits] = {}
    instruments: dict[str, Limits] = {}


class ExactLimits(msgspec.Struct, frozen=True):
    """One scope's limits, validated: money and sizes as exact fractions."""

    max_position: Fraction | None
    max_position_notional: Fraction | None
    max_order_notional: Fraction | None
    max_open_orders: int | None
    price_band_bps: int | None
    max_daily_loss: Fraction | None


class OrderLimits(msgspec.Struct, frozen=True):
    """The limits that apply to one order of one deployment in one account and instrument."""

    max_position: Fraction | None
    max_position_notional: Fraction | None
    max_order_notional: Fraction | None
    account_max_open_orders: int | None
    deployment_max_open_orders: int | None
    price_band_bps: int | None
    max_daily_loss: Fraction | None


def _amount(where: str, field: str, text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        mantissa, scale = parse_decimal(text)
    except FixedPointError as exc:
        raise RiskLimitsError(f"{where}.{field}: {exc}") from None
    if mantissa <= 0:
        raise RiskLimitsError(f"{where}.{field} must be positive, got {text!r}")
    return Fraction(mantissa, 10**scale)


def exact(where: str, limits: Limits) -> ExactLimits:
    """Validate one scope's limits; ``where`` (``accounts.main``) prefixes the field an error names."""
    if limits.max_open_orders is not None and limits.max_open_orders < 0:
        raise RiskLimitsError(f"{where}.max_open_orders must be 0 or more, got {limits.max_open_orders}")
    if limits.price_band_bps is not None and not 0 < limits.price_band_bps <= 10_000:
        raise RiskLimitsError(f"{where}.price_band_bps must be in 1..10000, got {limits.price_band_bps}")
    return ExactLimits(
        max_position=_amount(where, "max_position", limits.max_position),
        max_position_notional=_amount(where, "max_position_notional", limits.max_position_notional),
        max_order_notional=_amount(where, "max_order_notional", limits.max_order_notional),
        max_open_orders=limits.max_open_orders,
        price_band_bps=limits.price_band_bps,
        max_daily_loss=_amount(where, "max_daily_loss", limits.max_daily_loss),
    )


def _first(*values: T | None) -> T | None:
    """The most specific value set (scopes are passed most specific first)."""
    for value in values:
        if value is not None:
            return value
    return None


class RiskLimits:
    """The validated limits of every scope, resolved per order (most specific first)."""

    def __init__(self, settings: RiskLimitsSettings) -> None:
        self.default = exact("default", settings.default)
        self.accounts = self._scopes("accounts", settings.accounts)
        self.strategies = self._scopes("strategies", settings.strategies)
        self.deployments = self._scopes("deployments", settings.deployments)
        self.instruments = self._scopes("instruments", settings.instruments)
        for key in self.instruments:
            if ":" not in key:
                raise RiskLimitsError(f"instruments.{key}: an instrument is named exchange:symbol")

    @staticmethod
    def _scopes(section: str, scopes: Mapping[str, Limits]) -> dict[str, ExactLimits]:
        return {name: exact(f"{section}.{name}", limits) for name, limits in scopes.items()}

    def for_order(self, account: str, deployment: str, instrument: str, strategy: str = "") -> OrderLimits:
        """The limits of one order (the caller may cache them per key: they never change while running)."""
        unset = _UNSET
        by_account = self.accounts.get(account, unset)
        by_deployment = self.deployments.get(deployment, unset)
        by_strategy = self.strategies.get(strategy, unset)
        by_instrument = self.instruments.get(instrument, unset)
        default = self.default
        return OrderLimits(
            max_position=_first(by_instrument.max_position, by_account.max_position, default.max_position),
            max_position_notional=_first(
                by_instrument.max_position_notional, by_account.max_position_notional, default.max_position_notional
            ),
            max_order_notional=_first(
                by_instrument.max_order_notional,
                by_deployment.max_order_notional,
                by_strategy.max_order_notional,
                by_account.max_order_notional,
                default.max_order_notional,
            ),
            account_max_open_orders=_first(by_account.max_open_orders, default.max_open_orders),
            deployment_max_open_orders=_first(by_deployment.max_open_orders, by_strategy.max_open_orders),
            price_band_bps=_first(by_instrument.price_band_bps, default.price_band_bps),
            max_daily_loss=_first(by_deployment.max_daily_loss, by_strategy.max_daily_loss, default.max_daily_loss),
        )


_UNSET = ExactLimits(None, None, None, None, None, None)
