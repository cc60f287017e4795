"""Deployed staff and store tokens: RS256 from a Cognito pool, checked against its JWKS.

A locally generated RSA key signs the tokens and a loopback HTTP server serves the
pool's /.well-known/jwks.json, so the real verification code (fetch, cache, signature,
claims) runs.
"""
from __future__ import annotations

import base64
import http.server
import json
import threading
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.api.support import token

STAFF_CLIENT, STORE_CLIENT = "staffclient123", "storeclient456"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64(numbers.e.to_bytes(3, "big"))}


class Pool:
    def __init__(self, issuer: str, key: rsa.RSAPrivateKey, served: dict):
        self.issuer, self.key, self.served, self.fetches = issuer, key, served, 0

    def sign(self, claims: dict, kid: str = "k1", key: rsa.RSAPrivateKey | None = None) -> str:
        head = _b64(json.dumps({"alg": "RS256", "kid": kid}).encode())
        body = _b64(json.dumps(claims).encode())
        sig = (key or self.key).sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{_b64(sig)}"

    def staff(self, groups: list[str], username: str = "bob", **over) -> str:
        claims = {"iss": self.issuer, "exp": int(time.time()) + 600, "token_use": "access",
                  "client_id": STAFF_CLIENT, "username": username, "sub": "uuid-1", "cognito:groups": groups}
        claims.update(over)
        return self.sign(claims)

    def store(self, **over) -> str:
        claims = {"iss": self.issuer, "exp": int(time.time()) + 600, "token_use": "access",
                  "client_id": STORE_CLIENT, "sub": STORE_CLIENT, "scope": "returns/store"}
        claims.update(over)
        return self.sign(claims)


@pytest.fixture(scope="module")
def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pool(_key, monkeypatch):
    from returns_core.edge import auth

    served = {"keys": [_jwk(_key, "k1")]}
    holder: dict = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):   # http.server's name for it
            if self.path != "/us-east-1_pool/.well-known/jwks.json":
                self.send_error(404)
                return
            holder["pool"].fetches += 1
            payload = json.dumps(served).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the loop's next poll: 0.5 s by default, at the end of every test here.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}/us-east-1_pool"
    monkeypatch.setenv("COGNITO_ISSUER", issuer)
    monkeypatch.setenv("COGNITO_STAFF_CLIENT_ID", STAFF_CLIENT)
    monkeypatch.setenv("COGNITO_STORE_CLIENT_ID", STORE_CLIENT)
    auth.reset_jwks()
    holder["pool"] = Pool(issuer, _key, served)
    yield holder["pool"]
    server.shutdown()
    server.server_close()
    auth.reset_jwks()


def _get(api, path: str, tok: str) -> int:
    return api.http.get(path, headers={"Authorization": f"Bearer {tok}"}).status_code


def test_groups_map_to_roles_and_keys_are_cached(api, pool):
    from returns_core.edge import auth

    who = auth.verify(pool.staff(["warehouse"], username="bob"))
    assert (who.role, who.sub) == ("warehouse", "bob")
    assert _get(api, "/warehouse/unmatched", pool.staff(["warehouse"])) == 200
    assert _get(api, "/finance/refunds?from=2026-01-01&to=2026-01-31", pool.staff(["warehouse"])) == 403
    assert _get(api, "/finance/refunds?from=2026-01-01&to=2026-01-31", pool.staff(["finance"])) == 200
    assert _get(api, "/ops/disputes", pool.staff(["ops", "some-other-group"])) == 200
    assert pool.fetches == 1   # fetched lazily once, then cached


def test_a_person_of_the_store_group_is_the_store_and_edits_the_policy(api, pool):
    from returns_core.edge import auth

    assert auth.verify(pool.staff(["store"], username="alice")) == auth.Principal("store", "alice")
    assert _get(api, "/policy", pool.staff(["store"])) == 200
    published = api.http.put("/policy", body=json.dumps({"policy": {"defaults": {"window_days": 45}}}),
                             headers={"Authorization": f"Bearer {pool.staff(['store'], username='alice')}",
                                      "Content-Type": "application/json"})
    assert published.status_code == 200 and json.loads(published.body)["updated_by"] == "alice"
    assert _get(api, "/warehouse/unmatched", pool.staff(["store"])) == 403


def test_id_tokens_of_the_staff_client_are_accepted(pool):
    from returns_core.edge import auth

    tok = pool.sign({"iss": pool.issuer, "exp": int(time.time()) + 60, "token_use": "id", "aud": STAFF_CLIENT,
                     "cognito:username": "carol", "cognito:groups": ["finance"]})
    assert auth.verify(tok) == auth.Principal("finance", "carol")


def test_the_store_client_credentials_token_is_the_store(api, pool):
    from returns_core.edge import auth

    assert auth.verify(pool.store()).role == "store"
    assert _get(api, "/orders/o-1/returns", pool.store()) in (200, 404)
    assert _get(api, "/warehouse/unmatched", pool.store()) == 403
    assert _get(api, "/orders/o-1/returns", pool.store(scope="returns/other")) == 401


@pytest.mark.parametrize("case", ["wrong_issuer", "expired", "other_client", "no_group", "two_groups",
                                  "id_for_store", "unknown_kid", "other_key", "tampered", "refresh_token_use"])
def test_bad_cognito_tokens_are_401(api, pool, case):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048) if case == "other_key" else None
    tok = {
        "wrong_issuer": lambda: pool.staff(["ops"], iss=pool.issuer + "x"),
        "expired": lambda: pool.staff(["ops"], exp=int(time.time()) - 1),
        "other_client": lambda: pool.staff(["ops"], client_id="someoneelse"),
        "no_group": lambda: pool.staff([]),
        "two_groups": lambda: pool.staff(["ops", "finance"]),
        "id_for_store": lambda: pool.store(token_use="id", aud=STORE_CLIENT),
        "unknown_kid": lambda: pool.sign({"iss": pool.issuer, "exp": int(time.time()) + 60, "token_use": "access",
                                          "client_id": STAFF_CLIENT, "username": "x", "cognito:groups": ["ops"]},
                                         kid="k9"),
        "other_key": lambda: pool.sign({"iss": pool.issuer, "exp": int(time.time()) + 60, "token_use": "access",
                                        "client_id": STAFF_CLIENT, "username": "x", "cognito:groups": ["ops"]},
                                       key=other),
        "tampered": lambda: pool.staff(["warehouse"]).replace(
            pool.staff(["warehouse"]).split(".")[1], _b64(json.dumps({
                "iss": pool.issuer, "exp": int(time.time()) + 600, "token_use": "access", "client_id": STAFF_CLIENT,
                "username": "bob", "cognito:groups": ["ops"]}).encode())),
        "refresh_token_use": lambda: pool.staff(["ops"], token_use="refresh"),
    }[case]()
    assert _get(api, "/ops/disputes", tok) == 401


def test_rotated_keys_are_refetched(api, pool, _key):
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _get(api, "/ops/disputes", pool.staff(["ops"])) == 200
    pool.served["keys"].append(_jwk(new, "k2"))
    tok = pool.sign({"iss": pool.issuer, "exp": int(time.time()) + 60, "token_use": "access",
                     "client_id": STAFF_CLIENT, "username": "dan", "cognito:groups": ["ops"]}, kid="k2", key=new)
    assert _get(api, "/ops/disputes", tok) == 200
    assert pool.fetches == 2


def test_hs256_tokens_still_work_beside_cognito_and_rs256_needs_an_issuer(api, pool, monkeypatch):
    assert _get(api, "/ops/disputes", token("ops")) == 200
    rs = pool.staff(["ops"])
    monkeypatch.delenv("COGNITO_ISSUER")
    assert _get(api, "/ops/disputes", rs) == 401
