"""Each step handler loads the way Lambda loads it (tests/handlers.py): from its own folder,
cold, and without reading any configuration at import."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers import FUNCTIONS

STEPS = sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py") if p.parent.name != "api")
CONFIG = ("STATE_MACHINE_ARN", "RETURNS_TABLE", "ORDERS_TABLE", "LEDGER_TABLE", "EVENTS_TOPIC_ARN",
          "OPS_TOPIC_ARN", "LABELS_BUCKET", "SES_TEMPLATE_PREFIX", "SENDER_EMAIL")


def test_every_step_is_here():
    assert STEPS == ["await_callback", "handle_timeout", "inbound_mail", "issue_label", "settle", "status_effects"]


@pytest.mark.parametrize("step", STEPS)
def test_a_step_handler_loads_cold_from_its_own_folder(load_handler, step):
    module = load_handler(step, unset=CONFIG)
    assert Path(module.__file__) == FUNCTIONS / step / "app.py"   # not another step's `app`
    assert callable(module.handler)


def test_two_steps_in_a_row_each_get_their_own_module(load_handler):
    first = load_handler("settle")
    second = load_handler("issue_label")
    assert first is not second and Path(second.__file__).parent.name == "issue_label"
