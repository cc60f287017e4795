"""The rules of the returns domain, pure: no AWS, no database, no network.

Each module answers one question over plain values: what a return may become
(`statuses`), what it is worth (`money`, `policy`), what a carrier event does
(`carrier_moves`), what each status change tells whom (`effects`), how the
ledger is chained (`ledger_chain`). tests/unit/test_architecture.py keeps
I/O out of this package.
"""
