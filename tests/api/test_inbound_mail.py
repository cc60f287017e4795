"""Issue 32: a customer's email reply comes back into its conversation. The InboundMail function is run
cold from its folder (tests/handlers.py) with the event SES's receipt rule gives it, after the MIME message
was stored where the rule's S3 action stores it; the fixtures are real mail clients' shapes
(tests/unit/mime/README.md). Refused replies (a forged sender, another conversation's or a forged
address) are logged without personal data and never appended."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.support import ENV, auth, boto, customer, order_body, send, start_return

MIME = Path(__file__).resolve().parents[1] / "unit" / "mime"
INBOUND_BUCKET = "api-inbound-mail"
DOMAIN = "replies.shop.test"


@dataclass
class _Context:
    function_name: str = "InboundMailFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:InboundMailFunction"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def inbound(aws, monkeypatch, load_handler):
    monkeypatch.setenv("MAIL_DOMAIN", DOMAIN)
    boto("s3").create_bucket(Bucket=INBOUND_BUCKET)
    seen = {"n": 0}

    def deliver(raw: bytes, recipients: list[str] | None = None, verdicts: dict | None = None) -> dict:
        from email.parser import BytesParser
        from email.utils import getaddresses

        seen["n"] += 1
        message_id = f"ses-message-{seen['n']}"
        boto("s3").put_object(Bucket=INBOUND_BUCKET, Key=f"inbound/{message_id}", Body=raw)
        to = recipients if recipients is not None else [
            a for _, a in getaddresses(BytesParser().parsebytes(raw).get_all("To", []))]
        passed = {"status": "PASS"}
        receipt = {"recipients": to, "spfVerdict": passed, "dkimVerdict": passed, "dmarcVerdict": passed,
                   **(verdicts or {})}
        module = load_handler("inbound_mail", {**ENV, "INBOUND_MAIL_BUCKET": INBOUND_BUCKET,
                                               "INBOUND_MAIL_PREFIX": "inbound/", "MAIL_DOMAIN": DOMAIN})
        out = module.handler({"Records": [{"eventSource": "aws:ses", "ses": {
            "mail": {"messageId": message_id}, "receipt": receipt}}]}, _Context())
        return out["results"][0]

    return deliver


def _fixture(name: str, address: str, sender: str | None = None) -> bytes:
    raw = (MIME / name).read_bytes().replace(b"REPLY_ADDRESS", address.encode())
    return raw if sender is None else raw.replace(b"ana@example.com", sender.encode())


def _address(conversation: str) -> str:
    from returns_core.edge import reply_addresses

    address = reply_addresses.address_of(conversation)
    assert address is not None
    return address


def _thread(api, rid: str) -> list[dict]:
    return send(api, "GET", f"/returns/{rid}/messages", None, auth("ops")).json_body["items"]


@pytest.mark.parametrize("name", ["gmail_en_alternative.eml", "apple_mail_fr_qp.eml", "thunderbird_de_flowed.eml",
                                  "outlook_fr_html_only.eml", "outlook_en_plain_original_message.eml"])
def test_each_clients_reply_lands_in_the_conversation_without_its_history(api, order, inbound, name):
    rid = start_return(api)["return_id"]
    result = inbound(_fixture(name, _address(rid)))
    assert result["accepted"], result
    [message] = _thread(api, rid)
    assert message["from"] == "customer" and message["channel"] == "email"
    assert ">" not in message["body"].replace("<script>", "") and "wrote" not in message["body"]
    assert "a écrit" not in message["body"] and "schrieb" not in message["body"] and "Envoy" not in message["body"]
    inbox = send(api, "GET", "/ops/inbox", None, auth("ops")).json_body["items"]
    assert [i["return_id"] for i in inbox] == [rid]


def test_a_photo_is_kept_for_staff_and_other_attachments_refused(api, order, inbound):
    rid = start_return(api)["return_id"]
    result = inbound(_fixture("gmail_fr_photo_and_pdf.eml", _address(rid)))
    assert result["accepted"] and result["photos"] == 1
    assert result["refused_attachments"] == ["not_an_image", "not_an_image"]
    [message] = _thread(api, rid)
    kept = [a for a in message["attachments"] if "refused" not in a]
    assert [a["content_type"] for a in kept] == ["image/jpeg"] and kept[0]["url"].startswith("http")
    assert {a["name"]: a["refused"] for a in message["attachments"] if "refused" in a} == {
        "facture.pdf": "not_an_image", "not-really.jpg": "not_an_image"}
    customer_view = send(api, "GET", f"/returns/{rid}/messages", None, customer("o-1")).json_body["items"]
    assert all("url" not in a for a in customer_view[0]["attachments"])


def test_a_forged_sender_is_refused_logged_without_personal_data_and_never_appended(api, order, inbound, caplog):
    rid = start_return(api)["return_id"]
    with caplog.at_level(logging.WARNING):
        result = inbound(_fixture("gmail_en_alternative.eml", _address(rid), sender="mallory@evil.example"))
    assert result == {"accepted": False, "reason": "forged_sender"}
    assert _thread(api, rid) == []
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "inbound mail refused" in logged
    assert "mallory" not in logged and "ana@example.com" not in logged and "label link" not in logged


def test_another_conversations_address_or_a_forged_one_is_refused(api, order, inbound):
    send(api, "PUT", "/orders/o-2", order_body(customer={"email": "bob@example.com", "name": "Bob",
                                                         "locale": "en-GB"}), auth("store"))
    mine = start_return(api)["return_id"]
    bobs = start_return(api, "o-2")["return_id"]
    # Ana answers to Bob's conversation's address: she is not its customer.
    assert inbound(_fixture("gmail_en_alternative.eml", _address(bobs)))["reason"] == "forged_sender"
    # An address whose signature was changed, or made up for a conversation: no conversation of ours.
    forged = _address(mine).replace(".", ".0", 1)[:-len(DOMAIN) - 2] + "@" + DOMAIN
    assert inbound(_fixture("gmail_en_alternative.eml", forged))["reason"] == "unknown_address"
    made_up = f"reply+{mine}.{'0' * 20}@{DOMAIN}"
    assert inbound(_fixture("gmail_en_alternative.eml", made_up))["reason"] == "unknown_address"
    assert _thread(api, mine) == [] and _thread(api, bobs) == []


def test_a_reply_failing_dmarc_is_refused(api, order, inbound):
    rid = start_return(api)["return_id"]
    result = inbound(_fixture("gmail_en_alternative.eml", _address(rid)), verdicts={"dmarcVerdict": {"status": "FAIL"}})
    assert result == {"accepted": False, "reason": "failed_authentication"}
    assert _thread(api, rid) == []
