"""The documented success bodies of the routes whose answer /openapi.json spells out (routes.py names
each beside its route). JSON Schema as OpenAPI 3.0 reads it."""
from __future__ import annotations

from returns_core.rules import ledger_chain

_SEQ = {"type": "integer", "nullable": True}
LEDGER_VERDICT = {"type": "object", "required": ["ok", "checked", "first_bad_seq"], "properties": {
    "ok": {"type": "boolean"},
    "checked": {"type": "integer", "description": "Entries of the range whose seal and link were checked"},
    "first_bad_seq": {**_SEQ, "description": "The first entry edited, inserted or missing; null when ok"},
    "reason": {"type": "string", "nullable": True, "enum": [*ledger_chain.REASONS, None]},
    "anchored_seq": {**_SEQ, "description": "The last sequence number the anchor table recorded"},
    "order_id": {"type": "string", "description": "Only when an order's total or records disagree with the ledger"},
    "record": {"type": "string", "description": "Only when a record disagrees: \"return <id> refund\", "
               "\"return <id> dispute_resolution\" or \"claim <id> resolution\""},
    "chain": {"type": "string", "description": "Only when a finding names one: the chain of first_bad_seq "
              "(\"refunds\", the first chain, or \"refunds/<day>/s<shard>\")"},
    "at": {"type": "string", "format": "date-time",
           "description": "Without a range: when the verification job's run that answers ran"},
    "run": {"type": "integer", "nullable": True, "description": "Without a range: the job's run number"},
    "chains": {"type": "integer", "description": "Without a range: the chains the run checked to their head"},
    "verified_through": {"type": "object", "additionalProperties": {"type": "integer"},
                         "description": "Without a range: per open chain, the last seq the job has verified"}}}

LOOKUP_RESULT = {"type": "object", "required": ["token", "order", "policy", "dropoff_countries"], "properties": {
    "token": {"type": "string"}, "expires_in": {"type": "integer"},
    "order": {"type": "object", "description": "The order's lines with what may be returned, the shipping postcode "
              "and country, and `customer.locale` (the language the portal speaks)"},
    "policy": {"type": "object"},
    "dropoff_countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                          "description": "The countries the carrier collects from (relay points and letterboxes)"}}}

SESSION_RESULT = {"type": "object", "required": ["token", "expires_in", "return_id"], "properties": {
    "token": {"type": "string"}, "expires_in": {"type": "integer"}, "return_id": {"type": "string"}}}

_ENTRY = {"type": "object", "required": ["at", "type", "detail"], "properties": {
    "at": {"type": "string"}, "type": {"type": "string"}, "actor": {"type": "string", "nullable": True},
    "return_id": {"type": "string"}, "claim_id": {"type": "string"}, "order_id": {"type": "string"},
    "channel": {"type": "string", "description": "A message's channel: email or sms"},
    "text": {"type": "string"}, "detail": {"description": "What the entry records: text, a map, or null"}}}
CUSTOMER_SEARCH_RESULT = {"type": "object", "required": ["customer", "orders", "returns", "claims", "timeline",
                                                         "truncated"], "properties": {
    "customer": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}}},
    "orders": {"type": "array", "items": {"type": "object"}},
    "returns": {"type": "array", "items": {"type": "object"}},
    "claims": {"type": "array", "items": {"type": "object"}},
    "timeline": {"type": "array", "items": _ENTRY, "maxItems": 500},
    "truncated": {"type": "boolean"}}}

_PARKED = {"type": "object", "properties": {
    "return_id": {"type": "string", "nullable": True}, "previous": {"type": "string", "nullable": True},
    "status": {"type": "string", "nullable": True}, "failed_at": {"type": "string", "nullable": True},
    "attempts": {"type": "integer", "nullable": True}, "error": {"type": "string", "nullable": True}}}
RECOVERY_RESULT = {"type": "object", "required": ["workflows", "parked_effects"], "properties": {
    "workflows": {"type": "array", "items": {
        "type": "object", "required": ["return_id", "order_id", "status", "ended", "restarts"],
        "properties": {"return_id": {"type": "string"}, "order_id": {"type": "string"}, "status": {"type": "string"},
                                 "ended": {"type": "string", "enum": ["FAILED", "TIMED_OUT", "ABORTED"]},
                                 "restarts": {"type": "integer"}, "given_up": {"type": "boolean"}}}},
    "parked_effects": {"type": "integer"}}}
REPLAY_RESULT = {"type": "object", "required": ["replayed", "unreadable", "items"], "properties": {
    "replayed": {"type": "integer"}, "unreadable": {"type": "integer",
                                                    "description": "Records that are not Lambda's, left for a person"},
    "items": {"type": "array", "items": _PARKED}}}
