"""The ledger key and the ledger check, both in the Settle function: the key seals every entry
it appends and verifies them, and no other function's role can read it (template.yaml).

Three ways to check: a range of days, read live (`verify(days)`: bounded by the range); the whole
ledger, every chain from its first entry (`verify(None)`: grows with the history, for tests, the
bench and ops' one-off checks); and the scheduled jobs (store/ledger_jobs.py): the heads anchor and
the incremental verification, whose latest result `GET /finance/ledger/verify` answers without a range."""
from __future__ import annotations

from ..outbound import secret_store
from ..store import ledger, ledger_jobs


def ledger_key() -> bytes:
    """The HMAC key of the ledger's entries (Secrets Manager, cached for the process)."""
    return secret_store.get("LEDGER_KEY_SECRET").encode()


def verify(days: list[str] | None) -> dict:
    """The entries of these days (every chain's from the first entry when None), and each chain's tail."""
    return ledger.verify_range(ledger_key(), days)


def anchor_heads() -> dict:
    """The periodic anchor over every open chain's head (the `ledger_anchor` schedule)."""
    return ledger_jobs.anchor_heads(ledger_key())


def run_verification() -> dict:
    """One run of the incremental verification job (the `ledger_verify_run` schedule); its result."""
    return ledger_jobs.run_verification(ledger_key())


def check_now() -> dict:
    """`GET /finance/ledger/verify` without a range: the verification job run now (bounded: the new
    entries, the open chains and the sweep), so the answer is never older than the request. Its
    result is recorded like a scheduled run's, `at` saying when it ran."""
    return run_verification()


def latest() -> dict | None:
    """The newest recorded run's result (None before the first run)."""
    return ledger_jobs.latest_result()
