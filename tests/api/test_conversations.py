"""Issue 32: conversations with the customer on a return or a claim, the ops inbox, ready-made replies,
satisfaction. In-process app on moto; the agent's email is read from moto's SES backend."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.support import ENV, auth, boto, customer, error_of, send, ship, start_return


@pytest.fixture
def mail(aws, monkeypatch):
    from infra.mail.ses_templates import ses_template_definitions

    monkeypatch.setenv("MAIL_DOMAIN", "replies.shop.test")
    ses = boto("ses")
    ses.verify_email_identity(EmailAddress=ENV["SENDER_EMAIL"])
    for definition in ses_template_definitions(ENV["SES_TEMPLATE_PREFIX"]):
        ses.create_template(Template=definition)
    return ses


def _sent():
    from moto.ses.models import ses_backends

    return [m for m in ses_backends["123456789012"]["us-east-1"].sent_messages if hasattr(m, "template")]


def _say(api, return_id: str, body, headers=None, **extra):
    return send(api, "POST", f"/returns/{return_id}/messages", {"body": body, **extra},
                headers or customer("o-1"))


def test_a_customer_asks_an_agent_answers_and_the_inbox_empties(api, order, mail):
    rid = start_return(api)["return_id"]
    asked = _say(api, rid, "Where is my label?")
    assert asked.status_code == 201, asked.body
    assert asked.json_body["from"] == "customer" and asked.json_body["body"] == "Where is my label?"
    assert set(asked.json_body) >= {"message_id", "at", "from", "body"}

    inbox = send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]
    assert [i["return_id"] for i in inbox] == [rid]
    assert inbox[0]["first_response_due"] > inbox[0]["last_message_at"]

    answered = _say(api, rid, "It is on your return's page.", auth("ops", sub="ops:marie"))
    assert answered.status_code == 201 and answered.json_body["from"] == "agent"
    assert send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"] == []

    thread = send(api, "GET", f"/returns/{rid}/messages", None, customer("o-1")).json_body["items"]
    assert [m["from"] for m in thread] == ["customer", "agent"]   # oldest first

    sent = [m for m in _sent() if "agent_message" in m.template]
    assert len(sent) == 1 and sent[0].destinations["ToAddresses"] == ["ana@example.com"]
    assert "It is on your return's page." in sent[0].template_data


def test_the_agents_email_carries_the_conversations_own_reply_address(api, order, mail):
    from moto.ses.models import ses_backends

    from returns_core.edge import reply_addresses

    rid = start_return(api)["return_id"]
    _say(api, rid, "Bonjour, et mon avoir ?", auth("ops"))
    backend = ses_backends["123456789012"]["us-east-1"]
    # moto keeps the templated message's source and destinations; the Reply-To is checked where it is made.
    address = reply_addresses.address_of(rid)
    assert address.startswith(f"reply+{rid}.") and address.endswith("@replies.shop.test")
    assert reply_addresses.conversation_of(address) == rid
    assert reply_addresses.conversation_of(address.replace(rid, rid[:-1] + "x")) is None
    assert any("agent_message" in m.template for m in backend.sent_messages if hasattr(m, "template"))


def test_a_note_is_never_shown_to_the_customer_nor_sent(api, order, mail):
    rid = start_return(api)["return_id"]
    _say(api, rid, "Is my parcel lost?")
    noted = _say(api, rid, "Carrier says delivered; check with the warehouse", auth("ops"), internal=True)
    assert noted.status_code == 201 and noted.json_body["from"] == "note"
    assert [m["from"] for m in send(api, "GET", f"/returns/{rid}/messages", None,
                                    customer("o-1")).json_body["items"]] == ["customer"]
    staff = send(api, "GET", f"/returns/{rid}/messages", None, auth("ops")).json_body
    assert [m["from"] for m in staff["items"]] == ["customer", "note"]
    assert not [m for m in _sent() if "agent_message" in m.template]
    # A note answers nobody: the customer still waits.
    assert [i["return_id"] for i in send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]] == [rid]


@pytest.mark.parametrize("body", ["", "   ", "x" * 20_001, "é" * 10_001])
def test_an_empty_or_too_long_message_is_422_naming_body(api, order, body):
    rid = start_return(api)["return_id"]
    res = _say(api, rid, body)
    assert res.status_code == 422, res.body
    assert error_of(res)["details"]["field"] == "body"


def test_html_is_kept_as_text(api, order):
    rid = start_return(api)["return_id"]
    body = '<script>alert(1)</script><b>hi</b>'
    assert _say(api, rid, body).json_body["body"] == body
    assert send(api, "GET", f"/returns/{rid}/messages", None, customer("o-1")).json_body["items"][0]["body"] == body


def test_a_customer_cannot_write_notes_or_ready_made_replies(api, order):
    rid = start_return(api)["return_id"]
    res = _say(api, rid, "hello", internal=True)
    assert res.status_code == 403 and error_of(res)["details"]["field"] == "internal"
    res = send(api, "POST", f"/returns/{rid}/messages", {"reply_id": "item_damaged"}, customer("o-1"))
    assert res.status_code == 403 and error_of(res)["details"]["field"] == "reply_id"


def test_another_orders_customer_sees_no_conversation(api, order):
    from tests.api.support import order_body

    send(api, "PUT", "/orders/o-2", order_body(), auth("store"))
    rid = start_return(api)["return_id"]
    assert _say(api, rid, "hi", customer("o-2")).status_code == 404
    assert send(api, "GET", f"/returns/{rid}/messages", None, customer("o-2")).status_code == 404


def test_idempotency_key_gives_one_message(api, order):
    rid = start_return(api)["return_id"]
    headers = {**customer("o-1"), "Idempotency-Key": "msg-1"}
    first, second = _say(api, rid, "once", headers), _say(api, rid, "once", headers)
    assert first.status_code == second.status_code == 201
    assert first.json_body == second.json_body
    assert len(send(api, "GET", f"/returns/{rid}/messages", None, customer("o-1")).json_body["items"]) == 1


def test_a_ready_made_reply_is_filled_from_the_return_in_the_customers_language(api, order, mail):
    rid = start_return(api)["return_id"]
    replies = send(api, "GET", "/ops/replies?locale=fr", None, auth("ops")).json_body["items"]
    assert {"where_is_my_refund", "label_not_received", "refund_lower_than_expected", "item_damaged"} <= \
        {r["reply_id"] for r in replies}
    res = _say(api, rid, None, auth("ops"), reply_id="refund_lower_than_expected")
    assert res.status_code == 201, res.body
    body = res.json_body["body"]
    assert body.startswith("Merci de votre question. Pour le retour " + rid) and "{" not in body
    assert "4,95 €" in body   # the return shipping fee of a too_small return, explained in French


def test_an_edited_reply_is_what_agents_send(api, order, mail):
    res = send(api, "PUT", "/ops/replies/item_damaged",
               {"locale": "fr", "title": "Abîmé", "body": "Désolés {customer_name}, retour {return_id}."},
               auth("ops"))
    assert res.status_code == 200, res.body
    listed = {r["reply_id"]: r for r in send(api, "GET", "/ops/replies?locale=fr", None,
                                               auth("ops")).json_body["items"]}
    assert listed["item_damaged"]["title"] == "Abîmé"
    rid = start_return(api)["return_id"]
    assert _say(api, rid, None, auth("ops"), reply_id="item_damaged").json_body["body"] == \
        f"Désolés Ana, retour {rid}."
    assert send(api, "PUT", "/ops/replies/item_damaged", {"locale": "de", "title": "x", "body": "y"},
                auth("ops")).status_code == 422


def test_take_and_escalate(api, order):
    rid = start_return(api)["return_id"]
    _say(api, rid, "I want to speak to someone")
    took = send(api, "POST", f"/returns/{rid}/conversation/take", None, auth("ops", sub="ops:marie"))
    assert took.status_code == 200 and took.json_body["assigned_to"] == "ops:marie"
    res = send(api, "POST", f"/returns/{rid}/conversation/escalate", {"reason": "asks for a goodwill gesture"},
               auth("ops", sub="ops:marie"))
    assert res.status_code == 200 and res.json_body["escalation"]["reason"] == "asks for a goodwill gesture"
    other = start_return(api)["return_id"]
    _say(api, other, "another question")
    from returns_core.edge import auth as tokens

    agent = send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]
    assert [i["return_id"] for i in agent] == [rid, other]   # the longest wait first
    # A lead (an ops member in the `lead` group) sees escalations first: made here by waiting less.
    _say(api, rid, "I am still here", auth("ops"))
    _say(api, rid, "and still waiting")
    assert [i["return_id"] for i in send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]] == \
        [other, rid]
    lead = {"Authorization": "Bearer " + tokens.mint("ops", "ops:lea", lead=True), "Content-Type": "application/json"}
    items = send(api, "GET", "/ops/inbox", None, lead).json_body["items"]
    assert [i["return_id"] for i in items] == [rid, other] and items[0]["escalated"]


def test_a_claim_has_its_conversation(api, order, mail):
    res = send(api, "POST", "/claims", {"order_id": "o-1", "kind": "missing_item",
                                        "lines": [{"sku": "TSHIRT-M", "qty": 1}], "message": "one missing"},
               customer("o-1"))
    claim_id = res.json_body["claim_id"]
    asked = send(api, "POST", f"/claims/{claim_id}/messages", {"body": "Any news?"}, customer("o-1"))
    assert asked.status_code == 201
    inbox = send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]
    assert [i["claim_id"] for i in inbox] == [claim_id]
    send(api, "POST", f"/claims/{claim_id}/messages", {"body": "We ship it again today."}, auth("ops"))
    thread = send(api, "GET", f"/claims/{claim_id}/messages", None, customer("o-1")).json_body["items"]
    assert [m["body"] for m in thread] == ["Any news?", "We ship it again today."]


def test_confirm_takes_a_score_and_satisfaction_counts_it(api, order, mail):
    rid = start_return(api)["return_id"]
    _say(api, rid, "When do I get my money?")
    _say(api, rid, "Today.", auth("ops"))
    ship(rid, status="refunded")
    bad = send(api, "POST", f"/returns/{rid}/confirm", {"satisfied": True, "score": 6}, customer("o-1"))
    assert bad.status_code == 422 and error_of(bad)["details"]["field"] == "score"
    res = send(api, "POST", f"/returns/{rid}/confirm", {"satisfied": True, "score": 4}, customer("o-1"))
    assert res.status_code == 200, res.body
    today = datetime.now(UTC).date().isoformat()
    for role in ("finance", "ops"):
        figures = send(api, "GET", f"/analytics/satisfaction?from={today}&to={today}", None, auth(role))
        assert figures.status_code == 200, figures.body
    figures = figures.json_body
    assert figures["count"] == 1 and figures["average"] == 4
    assert figures["by_reason"] == {"too_small": {"count": 1, "average": 4}}
    assert figures["median_first_response_seconds"] is not None and figures["median_first_response_seconds"] >= 0
    assert send(api, "GET", f"/analytics/satisfaction?from={today}&to={today}", None,
                auth("warehouse")).status_code == 403


def test_a_late_step_is_told_to_the_customer_before_they_ask_once(api, order, mail):
    from datetime import timedelta

    from returns_core.rules import clock
    from returns_core.store.models import ReturnModel
    from returns_core.store.returns import get
    from returns_core.usecases import proactive_messages

    late, fresh = start_return(api)["return_id"], start_return(api)["return_id"]
    for rid, days in ((late, 4), (fresh, 1)):
        get(rid).update(actions=[ReturnModel.status.set("received"),
                                 ReturnModel.status_since.set(clock.iso(clock.now() - timedelta(days=days)))])
    assert proactive_messages.sweep() == 1
    [told] = send(api, "GET", f"/returns/{late}/messages", None, customer("o-1")).json_body["items"]
    assert told["from"] == "agent" and told["body"].startswith(f"Votre colis du retour {late} est bien arrivé")
    assert send(api, "GET", f"/returns/{fresh}/messages", None, customer("o-1")).json_body["items"] == []
    assert [m for m in _sent() if "agent_message-fr" in m.template]
    assert proactive_messages.sweep() == 0   # once per stay in the status
    assert send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"] == []   # nobody asked anything
