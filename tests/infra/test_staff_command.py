"""`python -m infra.aws staff add|list|remove` against moto: the pool found from the stack's
UserPoolId output (a CloudFormation stack moto created), the users and groups moto's Cognito keeps."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra import aws as ops


class Clients:
    """One client per service for the module (a new one re-reads its service model, ~1 s): moto
    intercepts clients made before its context as well. `main` takes it as its boto3 session."""

    def __init__(self) -> None:
        self._session, self._clients = boto3.session.Session(region_name="us-east-1"), {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]


@pytest.fixture(scope="module")
def clients():
    return Clients()


@pytest.fixture
def deployed(clients):
    """A pool with the template's three groups, and a stack whose outputs name it."""
    with mock_aws():
        session = clients
        idp = session.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="returns-staff")["UserPool"]["Id"]
        for group in ("warehouse", "finance", "ops", "store"):
            idp.create_group(UserPoolId=pool_id, GroupName=group)
        session.client("cloudformation").create_stack(StackName="returns-test", TemplateBody=json.dumps({
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"UserPoolId": {"Value": pool_id}}}))
        yield session, idp, pool_id


def run(session, *argv) -> int:
    return ops.main(["--stack", "returns-test", *argv], session=session)


def test_add_creates_a_member_in_one_group_with_a_verified_email(deployed, capsys):
    session, idp, pool_id = deployed
    assert run(session, "staff", "add", "--email", "Lea.Martin@Shop.example", "--group", "warehouse") == 0
    assert "added lea.martin (lea.martin@shop.example) to warehouse" in capsys.readouterr().out
    user = idp.admin_get_user(UserPoolId=pool_id, Username="lea.martin")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "lea.martin@shop.example" and attributes["email_verified"] == "true"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"      # a temporary password, changed at first sign-in
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="lea.martin")["Groups"]
    assert [g["GroupName"] for g in groups] == ["warehouse"]


def test_list_shows_members_by_group_and_remove_deletes_them(deployed, capsys):
    session, idp, pool_id = deployed
    assert run(session, "staff", "add", "--email", "ann@shop.example", "--group", "finance") == 0
    assert run(session, "staff", "add", "--email", "bob@shop.example", "--group", "ops", "--username", "bob.ops") == 0
    capsys.readouterr()
    assert run(session, "staff", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [["finance", "ann", "ann@shop.example"],
                                                    ["ops", "bob.ops", "bob@shop.example"]]
    assert run(session, "staff", "remove", "--email", "ann@shop.example") == 0
    assert run(session, "staff", "remove", "--username", "bob.ops") == 0
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


@pytest.mark.parametrize("argv,message", [
    (["add", "--email", "lea@shop.example", "--group", "admins"],
     "unknown group 'admins': choose one of warehouse, finance, ops, store"),
    (["add", "--email", "not-an-email", "--group", "warehouse"], "is not an email address"),
    (["remove", "--email", "nobody@shop.example"], "no staff member has the email"),
    (["remove", "--username", "nobody"], "no staff member is named 'nobody'"),
])
def test_mistakes_are_said_plainly_and_change_nothing(deployed, capsys, argv, message):
    session, idp, pool_id = deployed
    assert run(session, "staff", *argv) == 2
    assert message in capsys.readouterr().err
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_the_same_email_or_username_twice_is_refused(deployed, capsys):
    session, idp, pool_id = deployed
    assert run(session, "staff", "add", "--email", "lea@shop.example", "--group", "warehouse") == 0
    assert run(session, "staff", "add", "--email", "LEA@shop.example", "--group", "finance") == 2
    assert "already a staff member" in capsys.readouterr().err
    assert run(session, "staff", "add", "--email", "lea@other.example", "--group", "finance") == 2
    assert "the username 'lea' is taken" in capsys.readouterr().err
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1


def test_a_group_the_pool_lacks_leaves_no_member_behind(deployed):
    session, idp, pool_id = deployed
    idp.delete_group(UserPoolId=pool_id, GroupName="ops")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        run(session, "staff", "add", "--email", "max@shop.example", "--group", "ops")
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_an_unknown_stack_is_named(deployed, capsys):
    session, _, _ = deployed
    assert ops.main(["--stack", "nope", "staff", "list"], session=session) == 2
    assert "there is no stack named 'nope'" in capsys.readouterr().err


def test_a_stack_without_the_output_says_to_deploy_the_template(deployed, capsys):
    session, _, _ = deployed
    session.client("cloudformation").create_stack(StackName="old", TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))
    assert ops.main(["--stack", "old", "staff", "list"], session=session) == 2
    assert "has no UserPoolId output" in capsys.readouterr().err
