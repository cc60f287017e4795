"""Helpers for tests that read an order's money: its holds, by the movement they are for."""
from __future__ import annotations


def by_movement(holds: dict) -> dict:
    """The order's holds by the movement they are for: a claim's or an adjustment's hold key ends in a
    token of the request that made it (usecases/movements.py); there is one hold per movement."""
    out: dict = {}
    for key, amount in holds.items():
        movement = key.split("#")[0]
        assert movement not in out, holds
        out[movement] = amount
    return out
