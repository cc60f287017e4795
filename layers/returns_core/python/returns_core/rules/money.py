"""Money: integer minor units plus an ISO 4217 currency. Never floats."""
from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents for the currencies we format; ISO 4217 default is 2.
_EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "TND": 3}
_SYMBOL = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF"}


class MoneyError(ValueError):
    """Mixed currencies or a non-integer amount."""


def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(f"amount must be an integer number of minor units, not {type(self.amount).__name__}")
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isalpha()
                and self.currency.isupper()):
            raise MoneyError("currency must be a 3-letter upper-case ISO 4217 code")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def percent(self, pct: int) -> Money:
        """pct % of this amount, rounded half up to the minor unit (integers only)."""
        return Money((self.amount * pct * 2 + 100) // 200, self.currency)

    @staticmethod
    def zero(currency: str) -> Money:
        return Money(0, currency)


def allocate(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, exactly: the parts sum to `total`.

    Largest remainder: each part is first floored, then the minor units left over go one each
    to the parts with the largest remainders (ties to the earlier part). All weights zero: equal
    weights. Integers only, never floats.
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise MoneyError("total must be a non-negative integer of minor units")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise MoneyError("weights must be non-negative integers")
    if not weights:
        if total:
            raise MoneyError("nothing to allocate a non-zero total to")
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def format_amount(amount: int, currency: str, locale: str = "en") -> str:
    """`12,99 €` for French locales, `€12.99` otherwise."""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp) if exp else (abs(amount), 0)
    symbol = _SYMBOL.get(currency.upper(), currency.upper())
    if locale.lower().startswith("fr"):
        grouped = f"{whole:,}".replace(",", " ")
        number = f"{grouped},{frac:0{exp}d}" if exp else grouped
        return f"{sign}{number} {symbol}"
    number = f"{whole:,}.{frac:0{exp}d}" if exp else f"{whole:,}"
    return f"{sign}{symbol}{number}" if len(symbol) == 1 else f"{sign}{symbol} {number}"
