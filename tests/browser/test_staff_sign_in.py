"""Staff sign-in on the local stack, in a real Chromium: the staff pages send a signed-out browser to
the local sign-in, come back with the code (PKCE), keep the session in this tab across a reload,
refresh it, and sign out; a member of another role is told so. The same staff-session.js runs
deployed against Cognito's managed login."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from .page import shot
from .staff import SIGN_IN_PATH, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"      # RFC 7636, appendix B
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _session(page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('returns.staff-session')") or "null")


def _set_session(page, session: dict) -> None:
    page.evaluate("(s) => sessionStorage.setItem('returns.staff-session', s)", json.dumps(session))


def _refresh_grant(stack, refresh_token: str) -> int:
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "local-staff",
                                   "refresh_token": refresh_token}).encode()
    request = urllib.request.Request(stack.url + "/_local/sign-in/oauth2/token", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_warehouse_sign_in_scan_reload_refresh_and_sign_out(local_stack, desk_page):
    page = desk_page
    page.goto(local_stack.url + "/warehouse")
    # No session: the local sign-in, asked for with a PKCE challenge, warehouse preselected.
    page.wait_for_url(f"**{SIGN_IN_PATH}?**")
    asked = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["redirect_uri"] == [local_stack.url + "/warehouse"]
    assert page.input_value("#role") == "warehouse"
    shot(page, "staff-sign-in-local")

    # A name that is no name is told on the form.
    page.fill("#name", "<lea>")
    page.click("#sign-in")
    page.wait_for_selector("#sign-in-error")
    assert "Enter your name" in page.inner_text("#sign-in-error")

    page.fill("#name", "wh:zoe")
    page.click("#sign-in")
    page.wait_for_url(local_stack.url + "/warehouse")     # the code redeemed and gone from the address
    page.wait_for_selector("#who:has-text('Signed in as wh:zoe (warehouse)')")
    assert page.evaluate("localStorage.length") == 0        # the session is this tab's, not the browser's
    assert page.evaluate("document.activeElement.id") == "code"
    # The page's PKCE helper is RFC 7636's S256.
    assert page.evaluate(f"staffSession.pkce.challengeOf('{RFC7636_VERIFIER}')") == RFC7636_CHALLENGE

    # A scan with this session: recorded as wh:zoe's.
    page.keyboard.type("RT-SIGNIN01")
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result.bad")
    assert "Unknown parcel" in page.inner_text("#scan-result")
    page.wait_for_selector("#unmatched tr:has-text('RT-SIGNIN01'):has-text('wh:zoe')")
    shot(page, "staff-signed-in-warehouse")

    # A reload keeps the session: no trip to the sign-in.
    page.reload()
    page.wait_for_selector("#who:has-text('wh:zoe')")
    assert SIGN_IN_PATH not in page.url
    page.wait_for_selector("#unmatched td:has-text('RT-SIGNIN01')")

    # Close to expiry at load: refreshed with the refresh token before anything is called.
    session = _session(page)
    _set_session(page, {**session, "expires_at": int(session["expires_at"]) - 3590})
    page.reload()
    page.wait_for_selector("#who:has-text('wh:zoe')")
    assert _session(page)["expires_at"] > session["expires_at"] - 3590 + 3000
    assert _session(page)["refresh_token"] == session["refresh_token"]

    # An access token the API refuses (401): refreshed once and the call made again.
    _set_session(page, {**_session(page), "access_token": "not-a-token"})
    page.keyboard.type("RT-SIGNIN02")
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result.bad:has-text('RT-SIGNIN02')")
    assert "Unknown parcel" in page.inner_text("#scan-result")
    assert _session(page)["access_token"] != "not-a-token"

    # Sign out: the refresh token is revoked, and the page is back at the sign-in.
    refresh_token = _session(page)["refresh_token"]
    page.click("#sign-out")
    page.wait_for_url(f"**{SIGN_IN_PATH}?**")
    page.wait_for_selector("#name")
    assert _refresh_grant(local_stack, refresh_token) == 400
    assert page.evaluate("sessionStorage.getItem('returns.staff-session')") is None


def test_finance_signs_in_as_finance_and_reads_the_refunds(local_stack, desk_page):
    page = desk_page
    page.goto(local_stack.url + "/finance")
    page.wait_for_url(f"**{SIGN_IN_PATH}?**")
    assert page.input_value("#role") == "finance"
    sign_in(page, local_stack, "/finance", "fin:eva", "finance")
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-01-31")
    page.click("#apply")
    page.locator("#refunds tbody tr", has_text="No refunds in this range.").wait_for()
    assert page.locator("#error").inner_text() == ""
    page.reload()
    page.wait_for_selector("#who:has-text('Signed in as fin:eva (finance)')")
    shot(page, "staff-signed-in-finance")


def test_a_member_of_another_role_is_told_which_page_is_theirs(local_stack, desk_page):
    page = desk_page
    sign_in(page, local_stack, "/finance", "wh:tom", "warehouse")
    notice = page.locator("#sign-in-notice")
    notice.wait_for()
    assert "This page is for finance staff" in notice.inner_text()
    assert "wh:tom, who is warehouse staff" in notice.inner_text()
    assert page.locator("body > main").is_hidden()
    shot(page, "staff-wrong-role")
    # The same session opens the warehouse page, in the same tab.
    page.locator("#sign-in-notice button", has_text="Open the warehouse page").click()
    page.wait_for_url(local_stack.url + "/warehouse")
    page.wait_for_selector("#who:has-text('wh:tom')")
    assert page.locator("#sign-in-notice").count() == 0
    # Signing out from the notice leads to the sign-in, to come back as someone else.
    page.goto(local_stack.url + "/finance")
    page.locator("#sign-in-notice button", has_text="Sign out").click()
    page.wait_for_url(f"**{SIGN_IN_PATH}?**")
    page.fill("#name", "fin:ann")
    page.select_option("#role", "finance")
    page.click("#sign-in")
    page.wait_for_selector("#who:has-text('fin:ann')")
    assert page.locator("#sign-in-notice").count() == 0
