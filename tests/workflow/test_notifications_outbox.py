"""The outbox's JSON route does not exist outside the local stack."""
from __future__ import annotations

import json

from .helpers import ROOT


def test_outbox_messages_is_404_unless_local(monkeypatch):
    from chalice.test import Client

    import app as api_module

    monkeypatch.delenv("LOCAL_OUTBOX", raising=False)
    with Client(api_module.app, stage_name="dev", project_dir=str(ROOT / "functions/api")) as client:
        for path in ("/outbox/messages", "/outbox"):
            response = client.http.get(path)
            assert response.status_code == 404, path
        body = json.loads(client.http.get("/outbox/messages").body)
        assert body["error"]["code"] == "NotFoundError"
