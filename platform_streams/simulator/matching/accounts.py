"""Trading accounts of the simulator: API credentials, fee rates and balances (free and locked, scale 8)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from platform_streams.schemas.fixed_point import parse_at_scale
from platform_streams.simulator.market.universe import PRICE_SCALE


class InsufficientBalance(ValueError):
    """A lock or debit larger than what the account holds."""


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """How an account starts: its API key, secret and passphrase (OKX signs with one), fees in basis points, and
    balances as decimal text. Kraken takes the secret base64-encoded (see ``kraken/auth.py``)."""

    api_key: str
    secret: str
    balances: dict[str, str] = field(default_factory=dict)
    maker_fee_bps: int = 10
    taker_fee_bps: int = 10
    passphrase: str = ""

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"AccountSpec(api_key={self.api_key!r}, secret='***', balances={self.balances!r})"


class Account:
    """Balances of one API key; amounts are integer mantissas at scale 8."""

    def __init__(self, spec: AccountSpec) -> None:
        self.api_key = spec.api_key
        self.secret = spec.secret.encode()
        self.passphrase = spec.passphrase
        self.maker_fee_bps = spec.maker_fee_bps
        self.taker_fee_bps = spec.taker_fee_bps
        self.free: dict[str, int] = {asset: parse_at_scale(amount, PRICE_SCALE) for asset, amount in spec.balances.items()}
        self.locked: dict[str, int] = dict.fromkeys(self.free, 0)
        self.update_ms = 0

    def __repr__(self) -> str:
        return f"Account(api_key={self.api_key!r})"

    def lock(self, asset: str, amount: int) -> None:
        if self.free.get(asset, 0) < amount:
            raise InsufficientBalance(f"{asset}: {amount} needed, {self.free.get(asset, 0)} free")
        self.free[asset] -= amount
        self.locked[asset] = self.locked.get(asset, 0) + amount

    def unlock(self, asset: str, amount: int) -> None:
        self.locked[asset] -= amount
        self.free[asset] = self.free.get(asset, 0) + amount

    def spend_locked(self, asset: str, amount: int) -> None:
        self.locked[asset] -= amount

    def credit(self, asset: str, amount: int) -> None:
        self.free[asset] = self.free.get(asset, 0) + amount
        self.locked.setdefault(asset, 0)

    def balance(self, asset: str) -> tuple[int, int]:
        """``(free, locked)``."""
        return self.free.get(asset, 0), self.locked.get(asset, 0)

    def assets(self) -> list[str]:
        return sorted(set(self.free) | set(self.locked))


class AccountRegistry:
    """Accounts by API key."""

    def __init__(self, specs: Iterable[AccountSpec]) -> None:
        self._by_key = {spec.api_key: Account(spec) for spec in specs}

    def get(self, api_key: str) -> Account | None:
        return self._by_key.get(api_key)

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_key.values())
