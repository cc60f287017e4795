"""Every route of the API, declared once: path, method, who may call it, what it reads and answers.

What reads this table, so nothing else says it again:
- endpoints.endpoint registers each view with Chalice from its declaration, and gives the view the
  caller (authn.principal with the declared roles, or the carrier's signature), the parsed body and
  query, and runs an idempotent route's effect through `Idempotency-Key` (idempotency.run);
- openapi.document builds /openapi.json from it (the statuses of the mechanisms each route passes
  through are derived there: openapi.statuses);
- infra/api_events.py writes template.yaml's API paths from it;
- tests/api/test_openapi_document.py fails when a route is declared without `auth`, a POST/PUT/PATCH
  without a body model or a stated reason for having none, or when the app, /openapi.json or the
  template serve another set of routes.

A rule that depends on the body (only ops may make an exception, a customer only its own order) stays
in the view: the declaration says who may knock, the view what each may ask.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from returns_core.edge import auth
from returns_core.edge.auth import ROLES

from . import schemas
from .results import (
    CUSTOMER_SEARCH_RESULT,
    LEDGER_VERDICT,
    LOOKUP_RESULT,
    RECOVERY_RESULT,
    REPLAY_RESULT,
    SESSION_RESULT,
)

PUBLIC, SIGNED = "public", "signed"   # anyone; the carrier's HMAC signature (authn.verify_carrier)
CUSTOMER, STORE, WAREHOUSE, FINANCE, OPS = ("customer",), ("store",), ("warehouse",), ("finance",), ("ops",)
STAFF = ("warehouse", "finance", "ops")
READERS = ("customer", "store", *STAFF)
# The link tokens (edge/auth.py) a route takes: the label link downloads the label; the portal link is
# only exchanged for a session. A link sent before scopes existed does either.
LABEL_LINK_SCOPES = frozenset({auth.LABEL_SCOPE, auth.MESSAGE_SCOPE})
PORTAL_LINK_SCOPES = frozenset({auth.PORTAL_SCOPE, auth.MESSAGE_SCOPE})
WITH_BODY = ("POST", "PUT", "PATCH")
# How each query parameter is described, whichever model declares it.
PARAM_DESCRIPTIONS = {"from": "First day, inclusive (YYYY-MM-DD)", "to": "Last day, inclusive (YYYY-MM-DD)",
                      "cursor": "next_cursor of the previous page", "limit": "Page size",
                      "status": "A return status", "postcode": "Postcode", "country": "ISO 3166-1 alpha-2"}


class BadDeclaration(ValueError):
    """A route declared without what every route must say."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    auth: str | tuple[str, ...]          # PUBLIC, SIGNED, or the roles allowed (authn.principal)
    body: type[BaseModel] | None = None  # parsed by bodies.parse before the view runs
    responses: tuple[int, ...] = (200,)  # the effect's own statuses; openapi.statuses adds the mechanisms'
    params: tuple[type[BaseModel], ...] = ()   # the query models, parsed in this order before the view runs
    required_params: tuple[str, ...] = ()      # optional in the model, required by the view
    produces: str = "application/json"
    idempotent_key: bool = False   # the view returns its effect, run once per Idempotency-Key
    link_in_query: bool = False    # also opened from a message's signed link: its token in `?t=`
    scopes: frozenset[str] = frozenset()       # the link scopes the route accepts (authn.principal)
    empty_body: bool = False       # an empty body is `{}` (the body is optional)
    no_body: str = ""              # a POST/PUT/PATCH that reads no body says why here
    path_model: type[BaseModel] | None = None  # checks the path's parameters, after the query, before the body
    result: dict[str, Any] | None = None       # the success body's schema, where it is documented

    def __post_init__(self) -> None:
        where = f"{self.method} {self.path}"
        if self.auth not in (PUBLIC, SIGNED) and not (
                isinstance(self.auth, tuple) and self.auth and set(self.auth) <= set(ROLES)):
            raise BadDeclaration(f"{where}: auth is PUBLIC, SIGNED or a tuple of roles of {ROLES}")
        if self.method in WITH_BODY and (self.body is None) == (not self.no_body.strip()):
            raise BadDeclaration(f"{where}: a body model, or `no_body` saying why it reads none")
        if self.method not in WITH_BODY and (self.body is not None or self.no_body or self.empty_body):
            raise BadDeclaration(f"{where}: a {self.method} reads no body")
        if self.empty_body and self.body is None:
            raise BadDeclaration(f"{where}: empty_body needs a body model")
        if self.idempotent_key and self.method != "POST":
            raise BadDeclaration(f"{where}: only a POST takes an Idempotency-Key")
        if (self.link_in_query or self.scopes) and self.auth in (PUBLIC, SIGNED):
            raise BadDeclaration(f"{where}: a link's token opens only a route with roles")
        if self.link_in_query and not self.scopes:
            raise BadDeclaration(f"{where}: link_in_query names the link scopes it accepts")

    @property
    def key(self) -> tuple[str, str]:
        return self.path, self.method

    @property
    def query(self) -> tuple[tuple[str, bool, str], ...]:
        """(name, required, description) of each query parameter."""
        out = []
        for model in self.params:
            found = model.model_json_schema(by_alias=True, mode="validation")
            required = set(found.get("required", ())) | set(self.required_params)
            out += [(name, name in required, PARAM_DESCRIPTIONS.get(name, name)) for name in found["properties"]]
        return tuple(out)


_declared: list[Route] = []


def _route(method: str, path: str, summary: str, auth: str | tuple[str, ...], **declared: Any) -> Route:
    route = Route(method, path, summary, auth, **declared)
    if any(r.key == route.key for r in _declared):
        raise BadDeclaration(f"{method} {path} is declared twice")
    _declared.append(route)
    return route


# --- service ------------------------------------------------------------------------------------
HEALTH = _route("GET", "/health", "Liveness and version", PUBLIC)
OPENAPI = _route("GET", "/openapi.json", "This document", PUBLIC)

# --- the store's back office ----------------------------------------------------------------------
PUT_ORDER = _route(
    "PUT", "/orders/{order_id}", "Create or update an order (409 changing the lines of an order with open returns)",
    STORE, body=schemas.OrderUpsert, responses=(200, 201, 409, 422), path_model=schemas.OrderPath)

# --- the customer ---------------------------------------------------------------------------------
LOOKUP = _route(
    "POST", "/returns/lookup", "Find an order by number and email; returns a customer token. Failed "
    "lookups are limited per order id and email, and per address (429 with Retry-After); an optional "
    "`Authorization: Bearer` customer token of that order (a portal session, an earlier lookup) proves "
    "the caller is its customer and lifts the per-address limits. With `exp` and `sig`, a link the store "
    "signed (HMAC-SHA256 of order_id, lower-cased email and exp with the store link secret): not "
    "limited; 401 bad_signature or link_expired", PUBLIC,
    body=schemas.Lookup, responses=(200, 401, 404, 429), result=LOOKUP_RESULT)
RELAY_POINTS = _route("GET", "/relay-points", "Relay points near a postcode", PUBLIC,
                      params=(schemas.RelayPointQuery,))
CREATE_RETURN = _route(
    "POST", "/returns", "Start a return (503 workflow_unavailable, with Retry-After: the return's workflow "
    "could not start, nothing is held; send the same request and Idempotency-Key again). `exception` "
    "({reason}): ops only, the failing eligibility rules are waived and named in the timeline; from a "
    "customer or the store it is a 403 exception_not_allowed naming `exception`",
    ("customer", "store", "ops"), body=schemas.ReturnCreate, responses=(201, 403, 404, 409, 422, 503),
    idempotent_key=True)
QUOTE = _route("POST", "/returns/quote", "The quote of a selection before it is submitted (same checks as a return)",
               ("customer", "store"), body=schemas.QuoteRequest, responses=(200, 404, 422))
GET_RETURN = _route("GET", "/returns/{return_id}", "A return", READERS, responses=(200, 404),
                    params=(schemas.ReturnRead,))
GET_LABEL = _route("GET", "/returns/{return_id}/label", "The return label", READERS, responses=(200, 404),
                   produces="application/pdf", link_in_query=True, scopes=LABEL_LINK_SCOPES)
OPEN_SESSION = _route(
    "POST", "/returns/{return_id}/session",
    "Exchange a message's portal link token (or the order's customer token) for a short session on "
    "this one return: `{token, expires_in, return_id}`. A label link's token is a 403 here, as a "
    "portal link's is on every other route", CUSTOMER, responses=(200, 404), result=SESSION_RESULT,
    scopes=PORTAL_LINK_SCOPES, no_body="the caller's token is the whole request")
ORDER_RETURNS = _route("GET", "/orders/{order_id}/returns", "The returns of an order", READERS,
                       responses=(200, 404), params=(schemas.ReturnRead,), path_model=schemas.OrderPath)
RETRY_LABEL = _route(
    "POST", "/returns/{return_id}/label/retry",
    "Issue a failed label again (status label_failed), with another drop-off or as it was",
    ("customer", "ops"), body=schemas.LabelRetry, responses=(200, 404, 409, 422), idempotent_key=True,
    empty_body=True)
CANCEL = _route("POST", "/returns/{return_id}/cancel", "Cancel before drop-off", CUSTOMER, body=schemas.Cancel,
                responses=(200, 404, 409), idempotent_key=True, empty_body=True)
CONFIRM = _route("POST", "/returns/{return_id}/confirm", "Confirm (close) or contest the refund", CUSTOMER,
                 body=schemas.Confirm, responses=(200, 404, 409), idempotent_key=True)
DISPUTE = _route("POST", "/returns/{return_id}/dispute", "Dispute the outcome", CUSTOMER, body=schemas.Dispute,
                 responses=(200, 404, 409), idempotent_key=True)

# --- the carrier, the warehouse, the store shipping an exchange -----------------------------------------------
CARRIER_EVENT = _route("POST", "/carrier/events", "Carrier tracking webhook (200 a repeat, no second effect)",
                       SIGNED, body=schemas.CarrierEvent, responses=(200, 202, 404, 409), idempotent_key=True)
SCAN = _route("POST", "/warehouse/scans", "Receive a parcel", WAREHOUSE, body=schemas.Scan,
              responses=(200, 404, 409), idempotent_key=True)
EXCHANGE_SHIPPED = _route(
    "POST", "/returns/{return_id}/exchange/shipped",
    "The store shipped an exchange's replacement; the customer is told once (409 before it was requested)",
    STORE, body=schemas.ExchangeShipped, responses=(200, 404, 409), idempotent_key=True)
INSPECTION = _route(
    "POST", "/returns/{return_id}/inspection",
    "Grade what arrived (409 not_received before the scan, 409 already_inspected once graded)",
    WAREHOUSE, body=schemas.Inspection, responses=(200, 404, 409, 422), idempotent_key=True)
UNMATCHED = _route("GET", "/warehouse/unmatched", "Parcels that matched no return", WAREHOUSE)
WAREHOUSE_QUEUE = _route("GET", "/warehouse/queue", "Returns in one status, oldest first", WAREHOUSE,
                         params=(schemas.QueueQuery,))

# --- customer service -----------------------------------------------------------------------------
REVIEW = _route("POST", "/returns/{return_id}/review", "Approve or reject a risky return", OPS, body=schemas.Review,
                responses=(200, 404, 409), idempotent_key=True)
RISK_VERDICT = _route(
    "POST", "/returns/{return_id}/risk-verdict",
    "Mark a return fine or abuse: kept on it, told in its timeline, a signal of the customer's next risk scores",
    OPS, body=schemas.RiskVerdict, responses=(200, 404, 422), idempotent_key=True)
RETRY_REFUND = _route("POST", "/returns/{return_id}/refund/retry", "Retry a failed refund", OPS, body=schemas.Note,
                      responses=(200, 404, 409), idempotent_key=True, empty_body=True)
DISPUTES = _route("GET", "/ops/disputes", "Disputed returns", OPS)
RESOLVE_DISPUTE = _route(
    "POST", "/returns/{return_id}/dispute/resolve",
    "Resolve a dispute: uphold (optionally refunding refund_amount more, once: 422 over_refund past what the "
    "order has left) or reject; the return becomes resolved", OPS, body=schemas.DisputeResolve,
    responses=(200, 404, 409, 422), idempotent_key=True)
LABEL_FAILURES = _route("GET", "/ops/label-failures", "Returns whose label could not be issued", OPS)
CUSTOMER_SEARCH = _route(
    "POST", "/ops/customers/search",
    "A customer by exactly one of email, order_id, tracking_number (422 one_search_key naming the field "
    "otherwise): their orders, returns, claims and one timeline of every return, claim, dispute and "
    "message, newest first, at most 500 entries (`truncated`: some were left out). No order or return "
    "of that customer: 404 customer_not_found", OPS, body=schemas.CustomerSearch, responses=(200, 404, 422),
    result=CUSTOMER_SEARCH_RESULT)
OPS_QUEUE = _route(
    "GET", "/ops/queue", "Returns in one status, oldest first, each with `overdue` (the review queue: "
    "in_review; failed refunds: refund_failed; waiting refunds: awaiting_approval, refunding; lost parcels: "
    "lost)", OPS, params=(schemas.OpsQueueQuery,))
OPS_RECOVERY = _route(
    "GET", "/ops/recovery",
    "What stopped and waits for a restart or a replay: `workflows`, the open returns whose workflow "
    "ended before they did (the sweep restarts each every 10 minutes, `given_up` after 3 restarts), and "
    "`parked_effects`, how many status effects wait in the dead-letter queue", OPS, result=RECOVERY_RESULT)
REPLAY_EFFECTS = _route(
    "POST", "/ops/parked-effects/replay",
    "Run the parked status effects again (at most 200 a call), once their cause is fixed: "
    "`{replayed, unreadable, items}`; a record leaves the queue once Lambda took its new invocation",
    OPS, no_body="it replays what is parked, nothing to choose", result=REPLAY_RESULT)

# --- claims ---------------------------------------------------------------------------------------
OPEN_CLAIM = _route(
    "POST", "/claims", "Open a claim: a problem with the order that needs no return parcel (not_received, "
    "damaged_on_arrival, missing_item); ops is alerted, the customer gets claim_received",
    CUSTOMER, body=schemas.ClaimCreate, responses=(201, 404, 422), idempotent_key=True)
ADD_PHOTO = _route(
    "POST", "/claims/{claim_id}/photos", "A presigned S3 POST {url, fields} for one photo of the claim "
    "(JPEG, PNG or WebP as content_type says; at most 10 MB); a bad upload is deleted and never shown",
    CUSTOMER, body=schemas.ClaimPhoto, responses=(201, 404, 409, 422), empty_body=True)
GET_CLAIM = _route("GET", "/claims/{claim_id}", "A claim with its timeline (ops: with its checked photos' view links)",
                   ("customer", "ops"), responses=(200, 404), params=(schemas.ReturnRead,))
RESOLVE_CLAIM = _route(
    "POST", "/claims/{claim_id}/resolve",
    "Resolve a claim once: refund (amount, default what the lines were paid; 422 over_refund past what the "
    "order has left; 503 refund_pending: decided and held, not paid yet, send it again), reship "
    "(claim.reship_requested for the store) or reject (the note tells the customer why)", OPS,
    body=schemas.ClaimResolve, responses=(200, 404, 409, 422, 503), idempotent_key=True)
LIST_CLAIMS = _route("GET", "/ops/claims", "Claims in one status (default open; refund_pending: refunds not paid "
                     "yet), oldest first: {items, next_cursor}", OPS, params=(schemas.ClaimsQuery,))

# --- finance --------------------------------------------------------------------------------------
APPROVE_REFUND = _route(
    "POST", "/returns/{return_id}/refund/approve",
    "Approve a refund above the threshold (403 four_eyes: the inspector may not approve)", FINANCE,
    body=schemas.Note, responses=(200, 403, 404, 409), idempotent_key=True, empty_body=True)
MANUAL_REFUND = _route("POST", "/returns/{return_id}/refund/manual", "Record the reference of a refund paid offline",
                       FINANCE, body=schemas.ManualRefund, responses=(200, 404, 409, 422), idempotent_key=True)
FINANCE_QUEUE = _route("GET", "/finance/queue", "What waits for finance: refunds to approve (four eyes) and manual "
                       "refunds to record", FINANCE)
REFUNDS = _route("GET", "/finance/refunds", "Ledger entries by issue date", FINANCE,
                 params=(schemas.DateRange, schemas.Page), required_params=("from", "to"))
REFUNDS_CSV = _route(
    "GET", "/finance/refunds.csv", "Ledger entries as CSV. A range too large for one response is written "
    "to S3: with Accept: application/json, 200 {url, rows, expires_in} (a presigned GET link); otherwise "
    "303 to that link", FINANCE, params=(schemas.DateRange,), required_params=("from", "to"), produces="text/csv")
VERIFY_LEDGER = _route(
    "GET", "/finance/ledger/verify", "Check the ledger's keyed hash chains over the range (from and to: both "
    "or neither) and each chain's last entry against its anchored head; without a range, a run of the "
    "incremental verification job (its time in `at`) (503: the check could not run)",
    FINANCE, responses=(200, 503), params=(schemas.DateRange,), result=LEDGER_VERDICT)
RECONCILIATION = _route("GET", "/finance/reconciliation",
                        "Ledger totals by currency and kind; captured, refunded and remaining per order refunded "
                        "in the range, a page at a time (cursor)", FINANCE,
                        params=(schemas.DateRange, schemas.Page), required_params=("from", "to"))
ANALYTICS = _route("GET", "/analytics/returns",
                   "Returns by reason, SKU and status; return rate; drop-off to refund time",
                   ("finance", "ops"), params=(schemas.DateRange,), required_params=("from", "to"))

# --- the returns policy ---------------------------------------------------------------------------
GET_POLICY = _route("GET", "/policy", "The returns policy in force, or one version of it (versions never change)",
                    ("store", "ops", "finance"), responses=(200, 404), params=(schemas.PolicyVersionQuery,))
PUT_POLICY = _route("PUT", "/policy", "Publish the next version of the returns policy (422 naming the bad field; "
                    "409 another was published meanwhile)", STORE, body=schemas.PolicyPut, responses=(200, 409, 422))
SIMULATE_POLICY = _route("POST", "/policy/simulate", "A sample order's per-line decisions and quote under a draft "
                         "policy (or the one in force), nothing stored", ("store", "ops"),
                         body=schemas.PolicySimulate, responses=(200, 422))
# Which carriers the policy's `carriers` key may name, and which the store has set up (issue 29).
CARRIERS = _route("GET", "/carriers", "Every carrier this build issues return labels with: its countries, drop-off "
                  "methods, label formats, whether the store configured it, whether it is the demo",
                  ("store", "ops"))

# --- the EU right of withdrawal -------------------------------------------------------------------
WITHDRAW = _route(
    "POST", "/withdrawals", "Withdraw from the contract (EU right of withdrawal): confirm false previews "
    "(200), confirm true sends the notice and opens its return (201; the same lines again: 200, the same "
    "notice). 422 withdrawal_period_over, not_applicable (not shipped to the EU/EEA)", CUSTOMER,
    body=schemas.WithdrawalNotice, responses=(200, 201, 404, 409, 422, 503), idempotent_key=True)
FINANCE_WITHDRAWALS = _route(
    "GET", "/finance/withdrawals", "Withdrawal notices received in the range: their refund deadline, "
    "refund date and whether it was on time", FINANCE, params=(schemas.DateRange, schemas.Page),
    required_params=("from", "to"))

# --- conversations with the customer (chalicelib/conversations.py) -------------------------------------
_MESSAGE = ("`{body}` (the customer, or an agent), or for ops `{reply_id, body?}` (a ready-made reply filled "
            "from the record in the customer's language) or `{body, internal: true}` (a note the customer never "
            "sees). 201 {message_id, at, from, body}. Empty or over 20 kB: 422 naming `body`. A customer's message "
            "puts the conversation in the ops inbox; an agent's answers it and is emailed to the customer")
RETURN_MESSAGE = _route("POST", "/returns/{return_id}/messages", "Write in a return's conversation: " + _MESSAGE,
                        ("customer", "ops"), body=schemas.MessagePost, responses=(201, 403, 404, 422),
                        idempotent_key=True)
RETURN_MESSAGES = _route("GET", "/returns/{return_id}/messages", "A return's conversation, oldest first (ops: "
                         "with notes and who holds it)", ("customer", "ops"), responses=(200, 404))
CLAIM_MESSAGE = _route("POST", "/claims/{claim_id}/messages", "Write in a claim's conversation: " + _MESSAGE,
                       ("customer", "ops"), body=schemas.MessagePost, responses=(201, 403, 404, 422),
                       idempotent_key=True)
CLAIM_MESSAGES = _route("GET", "/claims/{claim_id}/messages", "A claim's conversation, oldest first",
                        ("customer", "ops"), responses=(200, 404))
TAKE_CONVERSATION = _route(
    "POST", "/returns/{return_id}/conversation/take", "Take a return's conversation: it is the caller's "
    "(taking it again changes nothing)", OPS, responses=(200, 404), no_body="the caller takes it")
ESCALATE_CONVERSATION = _route(
    "POST", "/returns/{return_id}/conversation/escalate", "Escalate a return's conversation to a lead, "
    "with a reason (leads see escalations first in the inbox; ops is alerted)", OPS, body=schemas.Escalation,
    responses=(200, 404, 422), idempotent_key=True)
OPS_INBOX = _route(
    "GET", "/ops/inbox", "Conversations waiting for an answer, the longest wait first: {items: [{return_id | "
    "claim_id, last_message_at, first_response_due, assigned_to, escalated}]}; for a lead (the `lead` staff "
    "group beside `ops`), or with `?lead=true`, escalations first",
    OPS, params=(schemas.InboxQuery,))
OPS_REPLIES = _route("GET", "/ops/replies", "Ready-made replies in one language: {items: [{reply_id, title, body}]}",
                     OPS, params=(schemas.RepliesQuery,))
EDIT_REPLY = _route("PUT", "/ops/replies/{reply_id}", "Edit (or add) a ready-made reply in one language",
                    OPS, body=schemas.ReplyEdit, responses=(200, 422), path_model=schemas.ReplyPath)
SATISFACTION = _route(
    "GET", "/analytics/satisfaction", "Customers' scores (POST /returns/{id}/confirm `score`) in the range: "
    "{count, average, by_reason, median_first_response_seconds}", ("finance", "ops"),
    params=(schemas.DateRange,), required_params=("from", "to"))

# --- the pages (each signs its staff in itself, pages.staff_page) ---------------------------------------
PORTAL_PAGE = _route("GET", "/portal", "The customer's returns page", PUBLIC, produces="text/html")
WAREHOUSE_PAGE = _route("GET", "/warehouse", "The warehouse scanning page", PUBLIC, produces="text/html")
FINANCE_PAGE = _route("GET", "/finance", "The finance page", PUBLIC, produces="text/html")
OPS_PAGE = _route("GET", "/ops", "The customer-service page", PUBLIC, produces="text/html")

ROUTES: tuple[Route, ...] = tuple(_declared)
