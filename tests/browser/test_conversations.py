"""Issue 32 in a real Chromium on the local stack: a customer asks a question on the portal (a phone), an
agent opens it from the /ops inbox and answers with a ready-made reply (filled in French from the return),
the email reaches the outbox with the conversation's reply address, and the customer's reply by email (a
MIME message posted by the outbox's Reply, run through InboundMailFunction as SES would) lands in the same
conversation, its quoted history cut, and shows on the portal and on /ops."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.workflow.helpers import order_payload

from .page import customer_email, shot, wait_until
from .staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_question_on_the_portal_answered_from_ops_and_replied_to_by_email(local_stack, phone_page, desk_page):
    stack = local_stack
    order_id = "ORD-TALK-" + uuid.uuid4().hex[:8]
    email = customer_email(order_id)
    assert stack.request("PUT", f"/orders/{order_id}", order_payload(provider="manual", email=email),
                         token=stack.token("store", "shop"))[0] == 201
    customer = stack.request("POST", "/returns/lookup", {"order_id": order_id, "email": email})[1]["token"]
    status, ret = stack.request("POST", "/returns", {
        "order_id": order_id, "items": [{"sku": "TSHIRT-M", "qty": 1, "reason": "too_small"}],
        "resolution": "store_credit", "dropoff": {"method": "letterbox"}}, token=customer)
    assert status == 201, ret
    rid = ret["return_id"]
    wait_until(lambda: stack.request("GET", f"/returns/{rid}", token=customer)[1],
               lambda r: r["status"] == "awaiting_dropoff", "the label")

    # 1. The customer asks on the portal (in French: the order's language).
    page = phone_page
    page.goto(stack.url + "/portal")
    page.get_by_label("Order number").fill(order_id)
    page.get_by_label("Email used for the order").fill(email)
    page.get_by_role("button", name="Find my order").click()
    page.locator("#return").wait_for(state="visible")
    question = "Je n'ai pas reçu l'étiquette par e-mail, où est-elle ? <b>merci</b>"
    page.get_by_label("Votre question sur ce retour").fill(question)
    page.get_by_role("button", name="Envoyer ma question").click()
    expect(page.locator("#messages li")).to_have_count(1)
    assert page.locator("#messages .message-body").first.inner_text() == question   # HTML shown as text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "talk-1-portal-question")

    # 2. An agent finds it in the inbox, opens the return and answers with a ready-made reply.
    desk = desk_page
    sign_in(desk, stack, "/ops", "marie", "ops")
    row = desk.locator("#inbox tbody tr", has_text=rid)
    expect(row).to_have_count(1)
    row.get_by_role("button", name=f"Open {rid}").click()
    expect(desk.locator("#opened-id")).to_have_text(rid)
    expect(desk.locator("#opened-messages .message-body")).to_have_text([question])
    assert "1 × T-shirt M" in desk.locator("#opened-items").inner_text()
    assert "Return shipping (the reason is the customer's choice): −€4.95" in desk.locator("#opened-quote").inner_text()
    desk.get_by_label("Ready-made reply").select_option(label="Étiquette non reçue")
    desk.get_by_role("button", name="Send to customer").click()
    expect(desk.locator("#write-note-status")).to_have_text("Sent to the customer.")
    answer = desk.locator("#opened-messages li.from-agent .message-body")
    expect(answer).to_have_count(1)
    assert answer.inner_text().startswith("Désolés que l’étiquette ne vous soit pas parvenue.")
    assert rid in answer.inner_text() and "{" not in answer.inner_text()   # filled from the return, in French
    expect(desk.locator("#inbox tbody tr", has_text=rid)).to_have_count(0)   # answered: out of the inbox
    shot(desk, "talk-2-ops-answered")

    # 3. The email is in the outbox, with the conversation's reply address; the customer answers it.
    outbox = wait_until(lambda: stack.request("GET", "/outbox/messages")[1],
                        lambda o: any(e["template"] == "agent_message" and rid in e["text"] for e in o["emails"]),
                        "the agent's email")
    mail = next(e for e in outbox["emails"] if e["template"] == "agent_message" and rid in e["text"])
    assert mail["to"] == [email] and mail["reply_to"].startswith(f"reply+{rid}.")
    desk.goto(stack.url + "/outbox")
    card = desk.locator("article.email", has_text=rid).first
    card.wait_for()
    reply = "Merci, je l'ai trouvée. Je dépose le colis demain."
    card.get_by_label(f"Reply as {email}").fill(reply)
    card.get_by_role("button", name="Reply", exact=True).click()
    expect(card.get_by_role("status")).to_have_text("Received: added to the conversation.")
    shot(desk, "talk-3-outbox-reply")

    # 4. The reply is in the same conversation, without the quoted email, on /ops and on the portal.
    thread = stack.request("GET", f"/returns/{rid}/messages", token=customer)[1]["items"]
    assert [(m["from"], m["channel"]) for m in thread] == [("customer", "portal"), ("agent", "ops"),
                                                          ("customer", "email")]
    assert thread[2]["body"] == reply
    desk.goto(stack.url + f"/ops?return_id={rid}")
    expect(desk.locator("#opened-messages .message-body")).to_have_count(3)
    expect(desk.locator("#opened-messages .message-body").last).to_have_text(reply)
    expect(desk.locator("#inbox tbody tr", has_text=rid)).to_have_count(1)   # waiting again
    shot(desk, "talk-4-ops-email-reply")
    page.reload()
    page.locator("#return").wait_for(state="visible")
    expect(page.locator("#messages .message-body")).to_have_count(3)
    expect(page.locator("#messages .message-body").last).to_have_text(reply)
    shot(page, "talk-5-portal-thread")
