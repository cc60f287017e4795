"""Least privilege, read from template.yaml: every function its own policies on named resources.

- no data action (DynamoDB, S3, SNS Publish, SQS, SES, Secrets Manager) on `Resource: '*'`;
  the one SMS statement allows sns:Publish only on what is NOT an SNS ARN (a phone number);
- the ledger: only the refund step (SettleFunction) writes it, and only by PutItem
  (append-only: nobody can UpdateItem or DeleteItem it); the API reads it for finance;
- tables encrypted with point-in-time recovery; the bucket private and TLS-only;
- each function may send exactly what returns_core.rules.senders says it sends (events, ops
  alerts, emails, SMS), so a message added to the rules cannot fail on AWS alone.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from infra.local.template import load

DATA_PREFIXES = ("dynamodb:", "s3:", "sqs:", "ses:", "secretsmanager:", "states:")
LEDGER_WRITER = "SettleFunction"
LEDGER_READERS = {"ApiFunction", LEDGER_WRITER}   # finance reads the ledger through the API
LEDGER_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:*"}
# SAM policy templates -> (reads?, writes including Update/Delete?)
SAM_TABLE_TEMPLATES = {"DynamoDBReadPolicy": "read", "DynamoDBCrudPolicy": "crud", "DynamoDBWritePolicy": "crud",
                       "DynamoDBReconfigurePolicy": "crud", "DynamoDBBackupFullAccessPolicy": "crud",
                       "DynamoDBRestoreFromBackupPolicy": "crud", "DynamoDBStreamReadPolicy": "read"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load()


def _principals(template: dict) -> Iterator[tuple[str, dict]]:
    for lid, res in template["Resources"].items():
        if res["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            yield lid, res["Properties"]


def _statements(props: dict) -> Iterator[dict]:
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _mentions(value: Any, name: str) -> bool:
    return name in repr(value)


def test_every_function_has_its_own_policies_and_no_shared_role(template):
    for lid, props in _principals(template):
        assert "Role" not in props, f"{lid} uses a shared role"
        assert props.get("Policies"), f"{lid} has no policies of its own"


def test_no_data_action_on_every_resource(template):
    bad = []
    for lid, props in _principals(template):
        for st in _statements(props):
            if st.get("Effect") != "Allow":
                continue
            actions = _as_list(st.get("Action", []))
            resources = _as_list(st.get("Resource", []))
            data = [a for a in actions if a == "*" or a.startswith(DATA_PREFIXES) or a in ("sns:Publish", "sns:*")]
            if data and ("*" in resources or any(isinstance(r, str) and r.endswith(":*") for r in resources)):
                bad.append((lid, st.get("Sid"), data))
    assert not bad, bad


def test_sms_is_the_only_unnamed_publish_and_cannot_reach_a_topic(template):
    found = 0
    for lid, props in _principals(template):
        for st in _statements(props):
            if "NotResource" in st:
                found += 1
                assert st.get("Sid") == "SmsToCustomerPhoneNumbers", (lid, st)
                assert _as_list(st["Action"]) == ["sns:Publish"], (lid, st)
                # every SNS ARN (topics, platform endpoints) is excluded: only phone numbers remain
                assert st["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}, (lid, st)
                assert "Condition" not in st or "sns:Protocol" not in repr(st["Condition"]), \
                    "sns:Protocol only conditions Subscribe, never Publish"
    assert found >= 1


def test_only_the_refund_step_writes_the_ledger_and_nobody_can_update_or_delete_it(template):
    for lid, props in _principals(template):
        for policy in props.get("Policies", []):
            if isinstance(policy, dict):
                for name, args in policy.items():
                    if name in SAM_TABLE_TEMPLATES and _mentions(args, "LedgerTable"):
                        assert SAM_TABLE_TEMPLATES[name] == "read", \
                            f"{lid}: {name} on the ledger allows UpdateItem/DeleteItem"
                        assert lid in LEDGER_READERS, f"{lid} may read the ledger"
        for st in _statements(props):
            if st.get("Effect") != "Allow" or not _mentions(st.get("Resource"), "LedgerTable"):
                continue
            actions = set(_as_list(st["Action"]))
            assert lid in LEDGER_READERS, f"{lid} can touch the ledger"
            assert not actions & {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                                  "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:*", "*"}, (lid, actions)
            if actions & LEDGER_WRITES:
                assert lid == LEDGER_WRITER, f"{lid} writes the ledger"
    settle = [st for st in _statements(template["Resources"][LEDGER_WRITER]["Properties"])
              if _mentions(st.get("Resource"), "LedgerTable")]
    assert settle and "dynamodb:PutItem" in settle[0]["Action"]


def test_tables_are_encrypted_with_point_in_time_recovery(template):
    tables = {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert len(tables) >= 6
    for lid, props in tables.items():
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, lid
        assert props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, lid


def test_the_bucket_is_private_encrypted_and_tls_only(template):
    resources = template["Resources"]
    buckets = [lid for lid, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
    assert buckets
    for lid in buckets:
        props = resources[lid]["Properties"]
        block = props["PublicAccessBlockConfiguration"]
        assert all(block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                              "RestrictPublicBuckets")), lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        assert "AccessControl" not in props, lid
        policies = [r["Properties"] for r in resources.values()
                    if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": lid}]
        assert policies, f"{lid} has no bucket policy"
        denies = [st for p in policies for st in p["PolicyDocument"]["Statement"]
                  if st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                  in ("false", False)]
        assert denies, f"{lid} accepts plain HTTP"
        covered = repr(denies[0]["Resource"])
        assert f"'{lid}', 'Arn'" in covered and f"${{{lid}.Arn}}/*" in covered, "bucket and objects"


def _granted_channels(props: dict) -> set[str]:
    granted = set()
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "SNSPublishMessagePolicy" in policy:
            topic = repr(policy["SNSPublishMessagePolicy"])
            granted |= {"event"} if "EventsTopic" in topic else {"alert"} if "OpsTopic" in topic else set()
    for st in _statements(props):
        actions = _as_list(st.get("Action", []))
        if "ses:SendTemplatedEmail" in actions:
            granted.add("email")
        if "sns:Publish" in actions:
            if "NotResource" in st:
                granted.add("sms")
            granted |= {"event"} if _mentions(st.get("Resource"), "EventsTopic") else set()
            granted |= {"alert"} if _mentions(st.get("Resource"), "OpsTopic") else set()
    return granted


def test_each_function_may_send_exactly_what_the_rules_say_it_sends(template):
    from returns_core.rules import senders

    functions = {props["CodeUri"].rstrip("/").split("/")[-1]: (lid, props) for lid, props in _principals(template)
                 if str(props.get("CodeUri", "")).startswith("functions/")}
    assert set(functions) == set(senders.MOVES_INTO)
    for folder, (lid, props) in sorted(functions.items()):
        assert _granted_channels(props) == set(senders.channels(folder)), lid


def test_an_sms_added_to_the_rules_names_the_functions_that_need_it(monkeypatch):
    """The check above bites: text customers on expiry, and the timeout handler needs SMS."""
    from returns_core.rules import effects, senders, statuses

    expired = effects.RULES[statuses.EXPIRED]
    monkeypatch.setitem(effects.RULES, statuses.EXPIRED, expired._replace(sms="return_expired"))
    assert "sms" in senders.channels("handle_timeout") and "sms" not in _granted_channels(
        load()["Resources"]["HandleTimeoutFunction"]["Properties"])


# Parks a task token on the return and nothing else (lifecycle.park): it never writes a timeline entry.
RETURN_WRITERS_WITHOUT_ENTRIES = {"AwaitCallbackFunction"}
TIMELINE_CHANGES = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate",
                    "dynamodb:PartiQLDelete", "dynamodb:*", "*"}


def _table_actions(props: dict, table: str) -> set[str]:
    """What a principal may do to a table: its own statements, and SAM's table templates spelled out."""
    actions: set[str] = set()
    for policy in props.get("Policies", []):
        if isinstance(policy, dict):
            for name, args in policy.items():
                if name in SAM_TABLE_TEMPLATES and _mentions(args, table):
                    actions |= ({"dynamodb:GetItem", "dynamodb:Query"} if SAM_TABLE_TEMPLATES[name] == "read" else
                                {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                 "dynamodb:DeleteItem"})
    for st in _statements(props):
        if st.get("Effect") == "Allow" and _mentions(st.get("Resource"), table):
            actions |= set(_as_list(st["Action"]))
    return actions


def test_the_timeline_is_append_only_and_whoever_changes_a_return_may_append_to_it(template):
    """Entries are put once, in the transaction of the change they tell of (store/timeline.py): nobody may
    change or delete one, and a principal that may change a return but not put its entry would fail on AWS
    alone, at its first state change."""
    appenders = 0
    for lid, props in _principals(template):
        on_timeline = _table_actions(props, "TimelineTable")
        assert not on_timeline & TIMELINE_CHANGES, (lid, on_timeline)
        if "dynamodb:UpdateItem" in _table_actions(props, "ReturnsTable") and lid not in RETURN_WRITERS_WITHOUT_ENTRIES:
            assert "dynamodb:PutItem" in on_timeline, f"{lid} changes returns but cannot write their timeline"
            appenders += 1
    assert appenders >= 5
