"""Signing in on the staff pages as staff do on the local stack: the page sends the browser to the
local sign-in (infra/local/sign_in.py), the form is filled, the page comes back signed in."""
from __future__ import annotations

SIGN_IN_PATH = "/_local/sign-in/oauth2/authorize"


def sign_in(page, stack, path: str, name: str, role: str) -> None:
    """Open `path` with no session, sign in as `name` with `role`, wait until the page is back."""
    page.goto(stack.url + path)
    page.wait_for_url(f"**{SIGN_IN_PATH}?**")
    page.fill("#name", name)
    page.select_option("#role", role)
    page.click("#sign-in")
    page.wait_for_url(stack.url + path)           # back, the code redeemed and gone from the address
    page.wait_for_selector(f"#who:has-text('{name}')")
