"""Operating a deployed stack: staff members of its user pool, and status effects parked after failing.

    python -m infra.aws staff add --email lea@shop.example --group warehouse [--username lea] [--stack returns-staging]
    python -m infra.aws staff list [--stack returns-staging]
    python -m infra.aws staff remove --email lea@shop.example [--stack returns-staging]
    python -m infra.aws effects count | replay [--stack returns-staging]   # the parked status effects

The pool is found from the stack's `UserPoolId` output. A new member gets a temporary password by
email from Cognito; at the first sign-in (the managed login, from /warehouse, /finance or /ops)
they choose a password and set up an authenticator app (the pool requires TOTP). Their username
is what the records name as the actor (inspected_by, approved_by): by default the part of the
email before the @. Uses the usual AWS credentials and region (AWS_PROFILE, AWS_REGION, ...).
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

STAFF_GROUPS = ("warehouse", "finance", "ops", "store")     # the pool's groups (template.yaml), one per staff role
DEFAULT_STACK = "returns-staging"   # samconfig.toml's default (and staging) stack; prod: --stack returns-prod
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME = re.compile(r"^[\w.+-]{1,64}$")


class StaffError(Exception):
    """A mistake the operator can fix: said plainly, no traceback."""


@dataclass(frozen=True)
class StaffMember:
    username: str
    email: str
    group: str
    status: str
    enabled: bool


def stack_output(cloudformation, stack: str, key: str) -> str:
    """One output of the deployed stack; StaffError when there is no such stack, or it predates the output."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "ValidationError":
            raise StaffError(f"there is no stack named {stack!r} in this account and region "
                             f"(pass --stack, or --region)") from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if key not in outputs:
        raise StaffError(f"the stack {stack!r} has no {key} output: deploy the current template.yaml first")
    return outputs[key]


def user_pool_id(cloudformation, stack: str) -> str:
    return stack_output(cloudformation, stack, "UserPoolId")


def _email_of(user: dict) -> str:
    attributes = user.get("Attributes", user.get("UserAttributes", []))
    return next((a["Value"] for a in attributes if a["Name"] == "email"), "")


def _find(idp, pool_id: str, email: str) -> dict | None:
    users = idp.list_users(UserPoolId=pool_id, Filter=f'email = "{email}"')["Users"]
    return users[0] if users else None


def add(idp, pool_id: str, email: str, group: str, username: str | None = None) -> StaffMember:
    """A new staff member in exactly one staff group (the API refuses a token with two)."""
    email = email.strip().lower()
    if group not in STAFF_GROUPS:
        raise StaffError(f"unknown group {group!r}: choose one of {', '.join(STAFF_GROUPS)}")
    if not EMAIL.match(email):
        raise StaffError(f"{email!r} is not an email address")
    username = (username or email.split("@", 1)[0]).strip()
    if not USERNAME.match(username):
        raise StaffError(f"{username!r} cannot be a username (letters, digits, . _ + -): pass --username")
    if _find(idp, pool_id, email):
        raise StaffError(f"{email} is already a staff member (python -m infra.aws staff list)")
    try:
        idp.admin_create_user(UserPoolId=pool_id, Username=username, DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    except idp.exceptions.UsernameExistsException:
        raise StaffError(f"the username {username!r} is taken: pass another with --username") from None
    try:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
    except Exception:
        # No member without a role: undo the creation rather than leave half a staff member.
        idp.admin_delete_user(UserPoolId=pool_id, Username=username)
        raise
    user = idp.admin_get_user(UserPoolId=pool_id, Username=username)
    return StaffMember(username, email, group, user.get("UserStatus", ""), user.get("Enabled", True))


def members(idp, pool_id: str) -> list[StaffMember]:
    out = []
    for group in STAFF_GROUPS:
        for page in idp.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=group):
            out += [StaffMember(u["Username"], _email_of(u), group, u.get("UserStatus", ""), u.get("Enabled", True))
                    for u in page["Users"]]
    return sorted(out, key=lambda m: (m.group, m.username))


def remove(idp, pool_id: str, email: str | None = None, username: str | None = None) -> str:
    if email:
        user = _find(idp, pool_id, email.strip().lower())
        if user is None:
            raise StaffError(f"no staff member has the email {email}")
        username = user["Username"]
    try:
        # Deleting the user also ends their refresh tokens: no page can sign them back in.
        idp.admin_delete_user(UserPoolId=pool_id, Username=username)
    except idp.exceptions.UserNotFoundException:
        raise StaffError(f"no staff member is named {username!r}") from None
    return username


def main(argv: list[str] | None = None, session=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws")
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"the CloudFormation stack (default {DEFAULT_STACK})")
    parser.add_argument("--region", help="the stack's region (default: AWS_REGION / your profile's)")
    area = parser.add_subparsers(dest="area", required=True)
    staff = area.add_parser("staff", help="staff members of the stack's user pool").add_subparsers(
        dest="command", required=True)
    add_p = staff.add_parser("add", help="create a staff member (Cognito emails a temporary password)")
    add_p.add_argument("--email", required=True)
    add_p.add_argument("--group", required=True, help=" | ".join(STAFF_GROUPS))
    add_p.add_argument("--username", help="the name records show (default: the email before the @)")
    staff.add_parser("list", help="every staff member, by group")
    rm = staff.add_parser("remove", help="delete a staff member")
    who = rm.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--username")
    effects = area.add_parser("effects", help="status effects parked after every try failed").add_subparsers(
        dest="command", required=True)
    effects.add_parser("count", help="how many are parked")
    effects.add_parser("replay", help="run each again (once its cause is fixed); a record goes once Lambda took it")
    args = parser.parse_args(argv)

    import boto3

    session = session or boto3.session.Session(region_name=args.region)
    try:
        if args.area == "effects":
            return _effects(session, args.stack, args.command)
        pool_id = user_pool_id(session.client("cloudformation"), args.stack)
        idp = session.client("cognito-idp")
        if args.command == "add":
            member = add(idp, pool_id, args.email, args.group, args.username)
            print(f"added {member.username} ({member.email}) to {member.group}: Cognito has emailed a temporary "
                  f"password; the first sign-in sets a new one and an authenticator app")
        elif args.command == "list":
            for m in members(idp, pool_id):
                print(f"{m.group:<10} {m.username:<24} {m.email:<32} {m.status}{'' if m.enabled else ' (disabled)'}")
        else:
            print(f"removed {remove(idp, pool_id, args.email, args.username)}")
    except StaffError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _effects(session, stack: str, command: str) -> int:
    from returns_core.outbound import parked_effects

    cfn = session.client("cloudformation")
    queue = stack_output(cfn, stack, "ParkedEffectsQueueUrl")
    sqs = session.client("sqs")
    if command == "count":
        print(f"{parked_effects.count(queue, sqs)} status effect(s) parked")
        return 0
    done = parked_effects.replay(queue, stack_output(cfn, stack, "StatusEffectsFunctionName"), sqs,
                                 session.client("lambda"))
    for item in done["items"]:
        print(f"replayed {item['return_id']}: {item['previous']} -> {item['status']} (failed {item['attempts']}x, "
              f"{item['error']})")
    print(f"{done['replayed']} replayed, {done['unreadable']} unreadable left on the queue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
