"""Customer message templates: renderer, data builders, SMS and SES resources."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.mail import ses_templates
from infra.mail.render import (
    TEMPLATE_DIR,
    MissingVariable,
    TemplateSyntaxError,
    UnknownTemplate,
    render,
    render_string,
    template_source,
    template_variables,
)
from infra.mail.ses_templates import ses_template_definitions, ses_template_resources
from returns_core.outbound.notifications import (
    LOCALES,
    TEMPLATES,
    build,
    format_date,
    locale_for,
    messages,
    sms_text,
    template_name,
)
from returns_core.outbound.notifications.messages import gsm7_length

ROOT = Path(__file__).resolve().parents[2]
NAME = "Zoë <b>&</b> O'Brien-Ünal"
NAME_HTML = "Zoë &lt;b&gt;&amp;&lt;/b&gt; O&#x27;Brien-Ünal"
LONG_URL = ("https://returns-labels.s3.eu-west-1.amazonaws.com/labels/r_123.pdf"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + "A" * 200)

RETURN = {
    "return_id": "r_123", "order_id": "o_9", "status": "inspected", "resolution": "refund", "currency": "EUR",
    "withdrawal": {"withdrawal_id": "wd_1", "received_at": "2026-12-01T16:05:00.000Z",
                   "refund_due_by": "2026-12-15T16:05:00.000Z"},
    "items": [
        {"sku": "TSHIRT-M", "qty": 2, "reason": "too_small", "received_qty": 2, "condition": "resellable",
         "refund_amount": 4998},
        {"sku": "MUG-<1>", "qty": 1, "reason": "damaged_in_transit", "received_qty": 1, "condition": "damaged",
         "refund_amount": 1299},
    ],
    "quote": {"items_total": 6297, "restocking_fee": 200, "return_shipping_fee": 499, "bonus": 500,
              "refund_amount": 6098},
    "dropoff": {"method": "relay_point", "relay_point_id": "rp1"},
    "deadline": "2026-11-22T22:59:59Z",
    "label": {"tracking_number": "TRK123", "code": "RET-1", "url": "https://labels.example/l?a=1&b=2"},
    "refund": {"amount": 1299, "method": "stripe", "status": "succeeded", "reference": "re_1",
               "issued_at": "2026-11-25T10:00:00Z"},
    "timeline": [{"at": "2026-11-20T09:30:00Z", "type": "received", "actor": "wh-1", "detail": None}],
}
RELAY = {"id": "rp1", "name": "Tabac & Presse <Oberkampf>", "address": "12 rue Oberkampf", "postcode": "75011",
         "city": "Paris", "distance_km": 0.4,
         "opening_hours": {"mon": "9:00–19:00", "sat": ["9:00–12:00", "14:00–18:00"]}}
NAMES = {"TSHIRT-M": "T-shirt M", "MUG-<1>": "Mug \"Bonjour\""}
PORTAL = "https://shop.example/portal?order=o_9&x=1"


def customer(locale: str) -> dict:
    return {"name": NAME, "email": "zoe@example.com", "locale": locale, "phone": "+33600000000"}


def data_for(template: str, locale: str, ret: dict | None = None, **overrides) -> dict:
    """Realistic TemplateData for every template, built by messages.py."""
    ret = copy.deepcopy(ret or RETURN)
    extras: dict = {"portal_url": PORTAL}
    if template in ("return_requested", "dropoff_reminder"):
        extras["relay_point"] = RELAY
    if template in ("return_requested", "parcel_received", "inspection_result", "exchange_shipping"):
        extras["product_names"] = NAMES
    if template == "review_outcome":
        extras.update(approved=True, note="Thanks for the photos <3")
    if template == "dispute_opened":
        extras["message"] = "The mug arrived broken & I'm upset"
    if template == "dispute_resolved":
        extras.update(decision="uphold", note="Sorry about the sleeve & the wait", adjustment_amount=1500,
                      closes_after_days=30)
    if template == "claim_resolved":
        extras.update(decision="refund", note="Sorry the mug broke & the wait", amount=1299)
    if template == "agent_message":
        extras.update(body="Your refund left today.\n<b>Bold</b> & kind regards", agent_name="Marie")
    if template == "exchange_shipping":
        extras.update(tracking_number="TRK999", tracking_url="https://track.example/TRK999?a=1&b=2",
                      items=[{"sku": "TSHIRT-L", "name": "T-shirt L", "qty": 1}])
    extras.update(overrides)
    return build(template, ret, customer(locale), **extras)


ALL = [(t, loc) for t in TEMPLATES for loc in ("en-GB", "fr-FR")]


# ---------------------------------------------------------------- every template × locale

@pytest.mark.parametrize("template,locale", ALL)
def test_every_template_renders_with_real_data(template, locale):
    data = data_for(template, locale)
    out = render(template, locale, data, strict=True)  # strict: no variable is missing
    for part in (out.subject, out.text, out.html):
        assert part.strip()
        assert "{{" not in part and "}}" not in part
        assert "%%BODY%%" not in part
    assert "\n" not in out.subject and len(out.subject) < 120
    # The customer's name: escaped in HTML, verbatim in text.
    assert NAME_HTML in out.html and NAME not in out.html and "<b>&</b>" not in out.html
    assert NAME in out.text
    assert "&lt;" not in out.text and "&amp;" not in out.text
    # Every message thanks the customer and is signed.
    thanks = ("Thank you", "thank you") if locale.startswith("en") else ("Merci", "merci")
    assert any(word in out.text for word in thanks)
    assert ("The returns team" if locale.startswith("en") else "L’équipe retours") in out.text
    assert out.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'lang="{locale[:2]}"' in out.html


@pytest.mark.parametrize("template", TEMPLATES)
def test_english_and_french_use_the_same_variables(template):
    assert template_variables(template, "en") == template_variables(template, "fr")


@pytest.mark.parametrize("template,locale", ALL)
def test_messages_provide_every_variable_the_template_reads(template, locale):
    data = data_for(template, locale)
    for var in template_variables(template, locale):
        head, _, rest = var.partition("[].")
        assert head in data, f"{template}: {head} missing"
        assert data[head] is not None
        if rest:
            assert data[head], f"{template}: list {head} is empty in the test data"
            for item in data[head]:
                assert rest in item and item[rest] is not None, f"{template}: {var} missing"


@pytest.mark.parametrize("template,locale", ALL)
def test_printed_values_are_strings_and_flags_are_booleans(template, locale):
    # moto's SES (and SES's JSON) want strings for what is printed.
    def check(value):
        if isinstance(value, list):
            for item in value:
                assert isinstance(item, dict)
                for v in item.values():
                    assert isinstance(v, str)
        else:
            assert isinstance(value, (str, bool)), value

    for value in data_for(template, locale).values():
        check(value)
    json.dumps(data_for(template, locale))  # valid TemplateData


def test_template_folder_holds_exactly_the_templates():
    expected = {f"{t}.{loc}.{ext}" for t in TEMPLATES for loc in LOCALES for ext in ("txt", "html")}
    expected |= {f"_layout.{loc}.{ext}" for loc in LOCALES for ext in ("txt", "html")}
    assert {p.name for p in Path(TEMPLATE_DIR).iterdir()} == expected
    assert set(messages.BUILDERS) == set(TEMPLATES)


_BLOCK_ONLY = re.compile(r"^\s*(\{\{[#/!][^}]*\}\}|\{\{else\}\}|\s)+\s*$")


@pytest.mark.parametrize("path", sorted(Path(TEMPLATE_DIR).iterdir()), ids=lambda p: p.name)
def test_template_files_stay_in_the_portable_subset(path):
    text = path.read_text(encoding="utf-8")
    for n, line in enumerate(text.splitlines(), 1):
        # A block tag alone on a line is "standalone": engines differ on removing it.
        assert not _BLOCK_ONLY.match(line), f"{path.name}:{n} has a standalone block tag"
        assert line == line.rstrip(), f"{path.name}:{n} trailing whitespace"
    # Nothing outside {{x}}, {{#each}}, {{#if}}, {{else}}: moto and SES both render it.
    for tag in re.findall(r"\{\{(.*?)\}\}", text):
        assert re.fullmatch(r"[a-z_]+|#each [a-z_]+|#if [a-z_]+|/each|/if|else", tag), tag
    # No {{#if}} inside another {{#if}}: moto's SES gets those wrong.
    depth = 0
    for tag in re.findall(r"\{\{([#/](?:if|each))", text):
        if tag == "#if":
            assert depth == 0, f"{path.name}: nested {{{{#if}}}}"
            depth += 1
        elif tag == "/if":
            depth -= 1


@pytest.mark.parametrize("template,locale", ALL)
def test_same_output_as_moto_ses(template, locale):
    parse_template = pytest.importorskip("moto.ses.template").parse_template
    data = data_for(template, locale)
    src = template_source(template, locale)
    assert parse_template(src.subject, data) == render_string(src.subject, data)
    assert parse_template(src.text, data) == render_string(src.text, data)
    # moto does not HTML-escape; everything else must agree.
    assert parse_template(src.html, data) == render_string(src.html, data, html=False)


# ---------------------------------------------------------------- content

def test_amounts_are_formatted_per_locale():
    fr = render("inspection_result", "fr-FR", data_for("inspection_result", "fr-FR"), strict=True)
    en = render("inspection_result", "en-GB", data_for("inspection_result", "en-GB"), strict=True)
    assert "12,99 €" in fr.text and "12,99 €" in fr.html and "€12.99" not in fr.text
    assert "€12.99" in en.text and "€12.99" in en.html and "12,99 €" not in en.text
    assert "Restocking fee: -€2.00" in en.text
    assert "Return shipping: -€4.99" in en.text
    assert "Bonus: +€5.00" in en.text
    assert "Total refund: €60.98" in en.text
    assert "Total remboursé : 60,98 €" in fr.text
    assert "60,98 €" in fr.subject
    refund = render("refund_issued", "fr", data_for("refund_issued", "fr"), strict=True)
    assert "12,99 €" in refund.subject


def test_inspection_explains_every_line():
    out = render("inspection_result", "en", data_for("inspection_result", "en"), strict=True)
    assert "- 2 × T-shirt M (TSHIRT-M), as new: €49.98" in out.text
    assert "- 1 × Mug \"Bonjour\" (MUG-<1>), damaged: €12.99" in out.text
    assert "MUG-&lt;1&gt;" in out.html and "Mug &quot;Bonjour&quot;" in out.html
    assert out.html.count("<tr>") == 1 + 2 + 5
    fr = render("inspection_result", "fr", data_for("inspection_result", "fr"), strict=True)
    assert "comme neuf : 49,98 €" in fr.text and "abîmé : 12,99 €" in fr.text


def test_approval_wording_depends_on_status():
    ret = dict(RETURN, status="awaiting_approval")
    assert "final check" in render("inspection_result", "en", data_for("inspection_result", "en", ret)).text
    assert "sending the refund now" in render("inspection_result", "en", data_for("inspection_result", "en")).text


def test_dates_are_formatted_per_locale():
    assert format_date("2026-11-22T22:59:59Z", "fr-FR") == "22 novembre 2026"
    assert format_date("2026-11-22T22:59:59Z", "en") == "22 November 2026"
    assert format_date("2026-12-01", "fr") == "1er décembre 2026"
    assert format_date("2026-08-01T01:30:00+02:00", "en") == "31 July 2026"  # shown in UTC
    fr = render("return_requested", "fr-FR", data_for("return_requested", "fr-FR"), strict=True)
    en = render("return_requested", "en-US", data_for("return_requested", "en-US"), strict=True)
    assert "22 novembre 2026" in fr.text and "22 novembre 2026" in fr.html
    assert "22 November 2026" in en.text
    received = render("parcel_received", "fr", data_for("parcel_received", "fr"), strict=True)
    assert "20 novembre 2026" in received.text


def test_return_requested_relay_point():
    out = render("return_requested", "en", data_for("return_requested", "en"), strict=True)
    assert "Tabac & Presse <Oberkampf>, 12 rue Oberkampf, 75011 Paris" in out.text
    assert "Tabac &amp; Presse &lt;Oberkampf&gt;" in out.html
    assert "  Monday: 9:00–19:00\n  Saturday: 9:00–12:00, 14:00–18:00" in out.text
    assert "https://labels.example/l?a=1&b=2" in out.text
    assert 'href="https://labels.example/l?a&#x3D;1&amp;b&#x3D;2"' in out.html
    assert "TRK123" in out.text and "letterbox" not in out.text
    fr = render("return_requested", "fr", data_for("return_requested", "fr"), strict=True)
    assert "  lundi : 9:00–19:00" in fr.text


def test_return_requested_letterbox():
    ret = dict(RETURN, dropoff={"method": "letterbox", "address": {
        "line1": "5 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"}})
    data = data_for("return_requested", "fr", ret, relay_point=None)
    out = render("return_requested", "fr", data, strict=True)
    assert "boîte aux lettres, 5 rue de la Paix, 75002 Paris" in out.text
    assert "Horaires" not in out.text
    # No address given: the order's shipping address, then a plain fallback.
    ret = dict(RETURN, dropoff={"method": "letterbox"})
    data = data_for("return_requested", "en", ret, relay_point=None,
                    shipping_address={"line1": "1 High St", "postcode": "N1", "city": "London"})
    assert "letterbox at 1 High St, N1 London" in render("return_requested", "en", data, strict=True).text
    data = data_for("return_requested", "en", ret, relay_point=None)
    assert "letterbox at your delivery address" in render("return_requested", "en", data, strict=True).text


@pytest.mark.parametrize("method,en_phrase,fr_phrase", [
    ("stripe", "5 to 10 business days", "5 à 10 jours ouvrés"),
    ("store_credit", "right now", "dès maintenant"),
    ("manual", "reference re_1", "référence re_1"),
])
def test_refund_issued_says_when_money_arrives(method, en_phrase, fr_phrase):
    ret = dict(RETURN, refund=dict(RETURN["refund"], method=method))
    en = render("refund_issued", "en", data_for("refund_issued", "en", ret), strict=True)
    fr = render("refund_issued", "fr", data_for("refund_issued", "fr", ret), strict=True)
    assert en_phrase in en.text
    assert en_phrase.replace("right now", "<strong>right now</strong>").replace(
        "5 to 10 business days", "<strong>5 to 10 business days</strong>") in en.html
    assert fr_phrase in fr.text
    others = {"stripe": "5 to 10 business days", "store_credit": "store credit", "manual": "paid it to you directly"}
    for other, phrase in others.items():
        assert (phrase in en.text) == (other == method)


def test_review_outcome_approved_and_rejected():
    ok = render("review_outcome", "en", data_for("review_outcome", "en"), strict=True)
    assert ok.subject == "Your return is approved"
    assert "Thanks for the photos <3" in ok.text and "Thanks for the photos &lt;3" in ok.html
    no = render("review_outcome", "fr", data_for("review_outcome", "fr", approved=False, note=""), strict=True)
    assert no.subject == "À propos de votre demande de retour"
    assert "ne pouvons pas accepter" in no.text and "Un mot de notre équipe" not in no.text
    rejected = messages.review_outcome(dict(RETURN, status="rejected"), customer("en"))
    assert rejected["approved"] is False


def test_dispute_and_followup_and_lost():
    d = render("dispute_opened", "en", data_for("dispute_opened", "en"), strict=True)
    assert "within 24 hours" in d.text and "broken &amp; I&#x27;m upset" in d.html
    assert "\"The mug arrived broken & I'm upset\"" in d.text
    f = render("followup", "fr", data_for("followup", "fr", confirm_url="https://x.example/c?t=1",
                                          dispute_url="https://x.example/d"), strict=True)
    assert "https://x.example/c?t=1" in f.text and "https://x.example/d" in f.text
    lost = render("parcel_lost", "fr", data_for("parcel_lost", "fr"), strict=True)
    assert "12,99 €" in lost.text and "TRK123" in lost.text
    no_amount = dict(RETURN, refund=None, quote=None)
    lost = render("parcel_lost", "en", data_for("parcel_lost", "en", no_amount), strict=True)
    assert "refunding the items you sent" in lost.text
    ex = render("exchange_shipping", "en", data_for("exchange_shipping", "en"), strict=True)
    assert "1 × T-shirt L (TSHIRT-L)" in ex.text and "TRK999" in ex.text


def test_builders_refuse_to_leave_holes():
    with pytest.raises(ValueError, match="deadline"):
        messages.return_requested(dict(RETURN, deadline=None), customer("en"), relay_point=RELAY)
    with pytest.raises(ValueError, match="relay point"):
        messages.return_requested(RETURN, customer("en"))
    with pytest.raises(ValueError, match="quote"):
        messages.inspection_result(dict(RETURN, quote=None), customer("en"))
    with pytest.raises(ValueError, match="integer"):
        messages.inspection_result(dict(RETURN, quote=dict(RETURN["quote"], refund_amount=12.99)), customer("en"))
    with pytest.raises(ValueError, match="refund"):
        messages.refund_issued(dict(RETURN, refund=None), customer("en"))
    with pytest.raises(KeyError):
        build("nope", RETURN, customer("en"))


def test_customer_without_name_gets_a_plain_greeting():
    c = dict(customer("fr"), name="")
    out = render("return_closed", "fr", messages.return_closed(RETURN, c), strict=True)
    assert out.text.startswith("Bonjour,\n")
    out = render("return_closed", "en", messages.return_closed(RETURN, dict(c, locale="en")), strict=True)
    assert out.text.startswith("Hello,\n")


# ---------------------------------------------------------------- renderer

def test_locale_choice():
    given = ("fr", "fr-FR", "FR_ca", "fr-BE", "en", "en-GB", "de-DE", "", None, "frisian"[:1])
    assert [locale_for(x) for x in given] == ["fr", "fr", "fr", "fr", "en", "en", "en", "en", "en", "en"]
    de = render("return_closed", "de-DE", data_for("return_closed", "de-DE"))
    assert de.subject == "Your return is complete, thank you"


def test_unknown_template_is_a_clear_key_error():
    with pytest.raises(UnknownTemplate) as err:
        render("refund_isued", "en", {})
    assert isinstance(err.value, KeyError)
    assert "refund_isued" in str(err.value) and "refund_issued" in str(err.value)


def test_variables_escape_in_html_only():
    data = {"x": "<a href='x'>&\"`=</a>"}
    assert render_string("{{x}}", data) == data["x"]
    assert render_string("{{x}}", data, html=True) == (
        "&lt;a href&#x3D;&#x27;x&#x27;&gt;&amp;&quot;&#x60;&#x3D;&lt;/a&gt;")
    assert render_string("{{{x}}}|{{& x}}", data, html=True) == data["x"] + "|" + data["x"]


def test_each_and_if():
    data = {"items": [{"sku": "A", "n": "1"}, {"sku": "B<", "n": ""}], "title": "T", "empty": [], "zero": 0,
            "no": False}
    each = "{{#each items}}[{{this.sku}}|{{sku}}|{{@index}}{{#if @first}}^{{/if}}{{#if n}}+{{else}}-{{/if}}]{{/each}}"
    assert render_string(each, data) == "[A|A|0^+][B<|B<|1-]"
    assert render_string("{{#each items}}{{sku}}{{/each}}", data, html=True) == "AB&lt;"
    assert render_string("{{#each items}}{{../title}}{{sku}}{{#unless @last}}, {{/unless}}{{/each}}", data) == "TA, TB<"
    assert render_string("{{#each empty}}x{{else}}none{{/each}}", data) == "none"
    assert render_string("{{#each tags}}<{{this}}>{{/each}}", {"tags": ["a", "b"]}) == "<a><b>"
    for falsy in ("empty", "zero", "no", "absent"):
        assert render_string(f"{{{{#if {falsy}}}}}yes{{{{else}}}}no{{{{/if}}}}", data) == "no"
    assert render_string("{{#if items}}yes{{/if}}{{#if title}}!{{/if}}", data) == "yes!"
    assert render_string("{{#if a}}{{#if b}}ab{{else}}a{{/if}}{{else}}-{{/if}}", {"a": 1, "b": ""}) == "a"
    assert render_string("{{ quote.total }} {{quote/total}}", {"quote": {"total": "5"}}) == "5 5"


def test_whitespace_control_and_comments():
    assert render_string("a {{~x~}} b{{! note }}{{!-- }} --}}", {"x": "X"}) == "aXb"
    assert render_string("{{#each xs}}\n{{this}}\n{{/each}}", {"xs": ["1"]}) == "\n1\n"  # no standalone stripping


def test_missing_variable_renders_empty_unless_strict():
    assert render_string("a{{nope}}b{{#each nope}}x{{/each}}", {}) == "ab"
    assert render_string("{{#each items}}{{sku}}{{/each}}", {"items": [{}]}) == ""
    assert render_string("{{x}}", {"x": None}) == ""
    with pytest.raises(MissingVariable, match="nope"):
        render_string("a{{nope}}", {}, strict=True)
    with pytest.raises(MissingVariable):
        render_string("{{x}}", {"x": None}, strict=True)
    with pytest.raises(MissingVariable):
        render("return_requested", "en", {}, strict=True)


def test_values_render_like_javascript():
    assert render_string("{{a}} {{b}} {{c}} {{d}} {{e}}", {"a": 12, "b": True, "c": 1.0, "d": [1, 2], "e": {}}) == \
        "12 true 1 1,2 [object Object]"


@pytest.mark.parametrize("source", [
    "{{#each items}}", "{{/if}}", "{{#if a}}{{/each}}", "{{#with a}}{{/with}}", "{{> partial}}",
    "{{helper a b}}", "{{#if a}}{{else}}{{else}}{{/if}}", "{{else}}",
])
def test_unsupported_or_unbalanced_templates_are_rejected(source):
    with pytest.raises(TemplateSyntaxError):
        render_string(source, {})


# ---------------------------------------------------------------- SMS

@pytest.mark.parametrize("locale", ["en", "fr-FR"])
@pytest.mark.parametrize("label_url", ["https://s.example/l/r_123", LONG_URL])
def test_sms_label_ready(locale, label_url):
    data = data_for("return_requested", locale, label_url=label_url)
    text = sms_text("label_ready", locale, data)
    _check_sms(text, locale)
    assert ("22 novembre 2026" if locale.startswith("fr") else "22 November 2026") in text
    assert (label_url in text) == (label_url != LONG_URL)


@pytest.mark.parametrize("locale", ["en", "fr-FR"])
@pytest.mark.parametrize("method", ["stripe", "store_credit", "manual"])
def test_sms_refund_issued(locale, method):
    ret = dict(RETURN, refund=dict(RETURN["refund"], amount=123456, method=method))
    text = sms_text("refund_issued", locale, data_for("refund_issued", locale, ret))
    _check_sms(text, locale)
    assert ("1 234,56 €" if locale.startswith("fr") else "€1,234.56") in text


@pytest.mark.parametrize("locale", ["en", "fr-FR"])
def test_sms_accepts_the_raw_return_view(locale):
    # notify.py passes the GET /returns/{id} view plus links, not the email's data.
    ret = dict(RETURN, refund=dict(RETURN["refund"], method="store_credit"))
    label = sms_text("label_ready", locale, {**RETURN, "label_url": "http://127.0.0.1:8000/returns/r_123/label"})
    _check_sms(label, locale)
    assert ("22 novembre 2026" if locale.startswith("fr") else "22 November 2026") in label
    assert "http://127.0.0.1:8000/returns/r_123/label" in label
    refund = sms_text("refund_issued", locale, ret)
    _check_sms(refund, locale)
    assert ("12,99 €" if locale.startswith("fr") else "€12.99") in refund
    assert ("avoir" if locale.startswith("fr") else "store credit") in refund
    assert sms_text("label_ready", locale, RETURN).count("https://labels.example/l?a=1&b=2") == 1


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_claim_messages_say_the_outcome_and_the_note(locale):
    claim = {"claim_id": "clm_1", "order_id": "o_9", "currency": "EUR", "kind": "damaged_on_arrival",
             "lines": [{"sku": "MUG-<1>", "name": "Mug \"Bonjour\"", "qty": 1}]}
    received = render("claim_received", locale, build("claim_received", claim, customer(locale)), strict=True)
    assert "clm_1" in received.text and "Mug \"Bonjour\"" in received.text
    assert ("arrived damaged" if locale.startswith("en") else "arrivée abîmée") in received.text
    outcomes = {}
    for decision in ("refund", "reship", "reject"):
        given = {**claim, "resolution": {"decision": decision, "note": "Checked <twice>", "amount": 1299}}
        outcomes[decision] = render("claim_resolved", locale, build("claim_resolved", given, customer(locale)),
                                    strict=True)
        assert "Checked <twice>" in outcomes[decision].text and "Checked &lt;twice&gt;" in outcomes[decision].html
    assert ("12,99 €" if locale.startswith("fr") else "€12.99") in outcomes["refund"].text
    assert "12,99" not in outcomes["reject"].text and "12.99" not in outcomes["reship"].text
    with pytest.raises(ValueError):
        build("claim_resolved", {**claim, "resolution": {"decision": "refund"}}, customer(locale))


def test_build_ignores_extras_a_builder_does_not_take():
    links = {"portal_url": PORTAL, "label_url": "https://x.example/label"}
    for template in TEMPLATES:
        extras = {**links}
        if template == "exchange_shipping":
            extras["tracking_number"] = "TRK9"
        if template == "dispute_resolved":
            extras.update(decision="reject", closes_after_days=30)
        if template == "claim_resolved":
            extras["decision"] = "reject"
        if template == "agent_message":
            extras["body"] = "Bonjour"
        if template in ("return_requested", "dropoff_reminder"):
            extras["relay_point"] = RELAY
        data = build(template, RETURN, customer("fr"), **extras)
        render(template, "fr", data, strict=True)
        assert data["portal_url"] == PORTAL
    built = build("return_requested", RETURN, customer("en"), relay_point=RELAY, label_url="https://x.example/label")
    assert built["label_url"] == "https://x.example/label"


def test_sms_unknown_kind():
    with pytest.raises(KeyError):
        sms_text("parcel_lost", "en", {})


def _check_sms(text: str, locale: str) -> None:
    from returns_core.outbound.notifications.messages import _GSM7, _GSM7_EXT
    assert gsm7_length(text) <= 160, (gsm7_length(text), text)
    assert all(c in _GSM7 or c in _GSM7_EXT for c in text), text
    assert "?" not in text.replace("? ", "")  # nothing was replaced by "?"
    hint = "Répondez STOP pour ne plus recevoir de SMS" if locale.startswith("fr") else "Reply STOP to opt out"
    assert text.endswith(hint)
    assert NAME not in text


# ---------------------------------------------------------------- SES resources

def test_template_names():
    assert template_name("returns-dev", "return_requested", "fr-FR") == "returns-dev-return_requested-fr"
    assert template_name("returns-dev", "parcel_lost", "de") == "returns-dev-parcel_lost-en"
    with pytest.raises(KeyError):
        template_name("p", "nope", "en")


def test_ses_template_resources():
    res = ses_template_resources()
    assert len(res) == len(TEMPLATES) * len(LOCALES) == 36   # + agent_message (issue 32)
    tpl = res["TplReturnRequestedEn"]
    assert tpl["Type"] == "AWS::SES::Template"
    props = tpl["Properties"]["Template"]
    assert props["TemplateName"] == {"Fn::Sub": "${AWS::StackName}-return_requested-en"}
    src = template_source("return_requested", "en")
    assert (props["SubjectPart"], props["TextPart"], props["HtmlPart"]) == (src.subject, src.text, src.html)
    assert "TplExchangeShippingFr" in res and "TplParcelLostFr" in res
    assert ses_template_resources("returns-${Env}")["TplFollowupFr"]["Properties"]["Template"]["TemplateName"] == \
        {"Fn::Sub": "returns-${Env}-followup-fr"}
    for resource in res.values():  # SES names: [a-zA-Z0-9_-]{1,64}, with room for a stack name
        name = resource["Properties"]["Template"]["TemplateName"]["Fn::Sub"].replace("${AWS::StackName}", "")
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name) and len(name) <= 64 - 40
    defs = ses_template_definitions("local")
    assert {d["TemplateName"] for d in defs} == {f"local-{t}-{loc}" for t in TEMPLATES for loc in LOCALES}


SAM_STUB = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: stub
Resources:
  Topic:
    Type: AWS::SNS::Topic
  # BEGIN generated SES templates
  # END generated SES templates
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  TopicArn:
    Value: !Ref Topic
"""


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.mail.ses_templates", *args],
                          cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "layers/returns_core/python"), "PATH": "/usr/bin:/bin"})


def test_write_then_check_round_trip(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(SAM_STUB, encoding="utf-8")
    assert _cli("--check", str(path)).returncode == 1  # empty block is stale
    assert _cli("--write", str(path)).returncode == 0
    written = path.read_text(encoding="utf-8")
    assert _cli("--check", str(path)).returncode == 0
    assert _cli("--write", str(path)).returncode == 0 and path.read_text(encoding="utf-8") == written  # idempotent

    # Outside the markers nothing moved; inside, valid YAML under Resources (with !Ref left alone).
    head, _, rest = written.partition("  # BEGIN generated SES templates\n")
    assert head + "  # BEGIN generated SES templates\n" == SAM_STUB.split("  # END")[0]
    assert rest.endswith("  # END generated SES templates\n  Bucket:\n    Type: AWS::S3::Bucket\n"
                         "Outputs:\n  TopicArn:\n    Value: !Ref Topic\n")
    assert "  TplReturnRequestedEn:\n    Type: AWS::SES::Template\n" in written
    loader = type("L", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    doc = yaml.load(written, Loader=loader)
    assert list(doc["Resources"])[:2] == ["Topic", "TplReturnRequestedEn"] and "Bucket" in doc["Resources"]
    assert {k: v for k, v in doc["Resources"].items() if k.startswith("Tpl")} == ses_template_resources()

    # A hand edit inside the block is caught, and --write repairs it.
    path.write_text(written.replace("Thank you for telling us.", "Thanks.", 1), encoding="utf-8")
    stale = _cli("--check", str(path))
    assert stale.returncode == 1 and "--write" in stale.stderr
    assert _cli("--write", str(path)).returncode == 0 and path.read_text(encoding="utf-8") == written


def test_cli_without_markers_fails_clearly(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Resources: {}\n", encoding="utf-8")
    result = _cli("--check", str(path))
    assert result.returncode == 2 and "BEGIN generated SES templates" in result.stderr
    assert _cli("--write", str(tmp_path / "missing.yaml")).returncode == 2
    assert ses_templates.main(["--check", str(path)]) == 2


# slow: cfn-lint over the generated resources
@pytest.mark.slow
def test_generated_resources_pass_cfn_lint(tmp_path):
    cfnlint = Path(sys.executable).with_name("cfn-lint")
    if not cfnlint.exists():
        pytest.skip("cfn-lint not installed")
    path = tmp_path / "template.yaml"
    path.write_text(SAM_STUB, encoding="utf-8")
    assert ses_templates.main(["--write", str(path)]) == 0
    result = subprocess.run([str(cfnlint), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_repository_template_is_up_to_date():
    path = ROOT / "template.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if ses_templates.BEGIN_MARKER not in text:
        pytest.skip("template.yaml has no generated SES block")
    if not ses_templates._split(text)[1].strip():
        pytest.skip("template.yaml's SES block has not been generated yet (run --write)")
    assert ses_templates.main(["--check", str(path)]) == 0


def test_import_stays_light():
    code = ("import sys, returns_core.outbound.notifications as n; from infra.mail.render import render; "
            "render('return_closed', 'fr', {}); "
            "print(sorted(m for m in ('yaml', 'jinja2', 'argparse', 'boto3') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT / "layers/returns_core/python"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_a_resolved_dispute_tells_the_outcome_the_note_and_the_adjustment(locale):
    data = data_for("dispute_resolved", locale)
    amount = data["adjustment_amount"]
    assert amount.startswith("15") or amount.startswith("€15")
    upheld = render("dispute_resolved", locale, data, strict=True)
    assert amount in upheld.text and "Sorry about the sleeve & the wait" in upheld.text
    rejected = render("dispute_resolved", locale, data_for("dispute_resolved", locale, decision="reject",
                                                           adjustment_amount=None), strict=True)
    assert amount not in rejected.text and "Sorry about the sleeve & the wait" in rejected.text
    assert upheld.text != rejected.text


def test_a_withdrawal_is_acknowledged_with_the_date_and_time_of_the_notice_and_its_zone():
    fr = render("withdrawal_received", "fr", data_for("withdrawal_received", "fr-FR"), strict=True)
    en = render("withdrawal_received", "en", data_for("withdrawal_received", "en-GB"), strict=True)
    assert "1er décembre 2026 à 16 h 05 UTC" in fr.text and "rétractation" in fr.subject
    assert "1 December 2026 at 16:05 UTC" in en.text and "15 December 2026" in en.text
    assert "2 × " in en.text and "withdrawal" in en.subject


@pytest.mark.parametrize("locale,closes", [("en-GB", "closes on its own in 30 days"),
                                           ("fr-FR", "se clôt de lui-même dans 30\u00a0jours")])
def test_a_resolved_dispute_is_the_cases_last_email_and_says_when_it_closes(locale, closes):
    """Issue 20: no second "is everything all right?" email after the resolution; the resolution says how
    to confirm in one click, where to write if something is still wrong, and when the case closes."""
    confirm = "https://x.example/confirm?t=1"
    for decision in ("uphold", "reject"):
        out = render("dispute_resolved", locale, data_for("dispute_resolved", locale, decision=decision,
                                                          confirm_url=confirm), strict=True)
        assert closes in out.text and confirm in out.text and PORTAL in out.text
        assert closes in out.html.replace("&nbsp;", "\u00a0")
    one = data_for("dispute_resolved", "en-GB", closes_after_days=1)
    assert "in 1 day." in render("dispute_resolved", "en-GB", one, strict=True).text
    with pytest.raises(ValueError):
        build("dispute_resolved", RETURN, customer("en"), decision="uphold", portal_url=PORTAL)
