"""Deploying to AWS, for a store: check, deploy, and rotate the secrets others sign with.

    python -m infra.deploy check  --env staging     # what CloudFormation would refuse, before anything
    python -m infra.deploy deploy --env staging     # check, sam build, sam deploy --config-env staging
    python -m infra.deploy outputs --env staging    # the stack's outputs (URLs, ids, secret ARNs)
    python -m infra.deploy carrier-secret begin  --env staging   # new key; old and new both accepted
    python -m infra.deploy carrier-secret finish --env staging   # drop the old key
    python -m infra.deploy carrier-secret show   --env staging   # print the current key for the carrier
    python -m infra.deploy store-link-secret show|begin|finish --env staging   # the store's return links

The store's own values come from the environment (or `--set Name=value`): SENDER_EMAIL,
PUBLIC_BASE_URL and STRIPE_API_KEY. They are needed on the first deploy; afterwards sam deploy
keeps the previous values of anything not given. No secret is ever written to samconfig.toml.
`make deploy ENV=staging` runs `deploy`; the default environment is staging, never prod.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from typing import Any

from infra.local.template import ParameterError, check_parameters, load, samconfig_parameters

from . import artifacts

# Environment variables a store sets for `make deploy`, and the parameters they fill.
FROM_ENVIRONMENT = {"SENDER_EMAIL": "SenderEmail", "PUBLIC_BASE_URL": "PublicBaseUrl",
                    "STRIPE_API_KEY": "StripeApiKey", "SENDER_IDENTITY_EXISTS": "SenderIdentityExists",
                    "SENDER_IDENTITY_KIND": "SenderIdentityKind", "OPS_ALERT_EMAIL": "OpsAlertEmail",
                    "LABEL_CARRIERS": "LabelCarriers", "ALLOW_DEMO_CARRIER": "AllowDemoCarrier",
                    "RETURN_ADDRESS_NAME": "ReturnAddressName", "RETURN_ADDRESS_LINE1": "ReturnAddressLine1",
                    "RETURN_ADDRESS_POSTCODE": "ReturnAddressPostcode", "RETURN_ADDRESS_CITY": "ReturnAddressCity",
                    "RETURN_ADDRESS_COUNTRY": "ReturnAddressCountry"}
# Step Functions' vended logs: a log group outside this prefix grows the account's CloudWatch Logs resource
# policy, whose 5,120 characters a few stacks fill (the deploy then fails creating the state machine).
VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"
DEPLOYABLE = ("staging", "prod")
KEY_LENGTH = 48


def parameters(env: str, given: dict[str, str] | None = None,
               environ: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """(stack name, parameters): samconfig's for `env`, then the environment's, then `given`."""
    stack, params = samconfig_parameters(env)
    source = os.environ if environ is None else environ
    params.update({name: source[var] for var, name in FROM_ENVIRONMENT.items() if source.get(var)})
    params.update(given or {})
    return stack, params


def check(env: str, params: dict[str, str], previous: set[str] = frozenset()) -> None:
    """Raise ParameterError naming every problem. `previous`: parameters the existing stack holds
    (sam deploy reuses them), which therefore need no value now."""
    if env not in DEPLOYABLE:
        raise ParameterError(f"--env must be one of {', '.join(DEPLOYABLE)} (the local stack is `make run`)")
    template = load()
    problems: list[str] = []
    try:
        check_parameters(template, params, assume_present=set(previous))
    except ParameterError as exc:
        problems += str(exc).splitlines()
    base_url = params.get("PublicBaseUrl", "")
    if base_url and not base_url.startswith("https://"):
        # Cognito refuses an http:// callback URL except for localhost (the first deploy rolls back), and
        # every emailed link would carry its token in the clear.
        problems.append(f"PublicBaseUrl: {base_url!r} must start with https:// (Cognito refuses http callback "
                        "URLs, and the links in messages carry tokens)")
    problems += log_group_problems(template)
    if problems:
        hints = {name: var for var, name in FROM_ENVIRONMENT.items()}
        lines = [line + (f" (set {hints[line.split(':')[0]]}=...)" if line.split(":")[0] in hints else "")
                 for line in problems]
        raise ParameterError("\n".join(lines))


def log_group_problems(template: dict) -> list[str]:
    """The state machines whose log group is not named under /aws/vendedlogs/states/."""
    resources = template["Resources"]
    out = []
    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::StateMachine":
            continue
        for destination in res["Properties"].get("Logging", {}).get("Destinations", []):
            arn = destination.get("CloudWatchLogsLogGroup", {}).get("LogGroupArn", {})
            getatt = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
            group_id = (getatt.split(".")[0] if isinstance(getatt, str) else getatt[0]) if getatt else None
            name = resources.get(group_id, {}).get("Properties", {}).get("LogGroupName")
            if isinstance(name, dict):   # !Sub "..." or !Sub ["...", {...}]: the text's literal start
                name = name.get("Fn::Sub")
                name = name[0] if isinstance(name, list) else name
            if not isinstance(name, str) or not name.startswith(VENDED_LOGS_PREFIX):
                out.append(f"{lid}: its log group {group_id} must be named under {VENDED_LOGS_PREFIX} "
                           "(Step Functions' vended logs)")
    return out


def identity_problems(stack: str, params: dict[str, str], ses: Any = None, cloudformation: Any = None) -> list[str]:
    """Whether the SES identity to send from agrees with SenderIdentityExists, read from the account.

    Creating an identity the account already has (another stack's, or one made by hand) rolls the first
    deploy back; declaring one that is not there leaves every message unsent. This stack's own identity,
    made by an earlier deploy, is neither."""
    import boto3
    from botocore.exceptions import ClientError

    sender = params.get("SenderEmail", "")
    if not sender:
        return []
    ses = ses or boto3.client("sesv2")
    cloudformation = cloudformation or boto3.client("cloudformation")
    found = []
    for identity in (sender, sender.rpartition("@")[2]):
        try:
            ses.get_email_identity(EmailIdentity=identity)
            found.append(identity)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise
    try:
        ours = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId="SenderIdentity")
        owned = ours["StackResourceDetail"]["PhysicalResourceId"]
    except ClientError:
        owned = None
    exists = params.get("SenderIdentityExists", "false") == "true"
    if not exists and sender in found and owned != sender:
        return [f"SenderIdentityExists: the SES identity {sender} already exists in this account; "
                "the stack would fail creating it (set SENDER_IDENTITY_EXISTS=true to send from it)"]
    if exists and not found:
        return [f"SenderIdentityExists: no SES identity for {sender} or its domain in this account and "
                "region (verify one, or leave SenderIdentityExists=false for the stack to create it)"]
    return []


def _existing_parameters(stack: str) -> set[str]:
    """The parameters the deployed stack holds (kept by an update); none for a first deploy, or
    when AWS cannot be reached (then the check is that of a first deploy, and says so)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            print(f"note: cannot read stack {stack} ({exc}); checking as a first deploy", file=sys.stderr)
        return set()
    except BotoCoreError as exc:
        print(f"note: cannot reach AWS ({exc}); checking as a first deploy", file=sys.stderr)
        return set()
    return {p["ParameterKey"] for p in found.get("Parameters", [])}


# Lambda keeps at least this much of an account's concurrency unreserved (a reservation that would leave
# less is refused, and the deploy rolls back).
UNRESERVED_MINIMUM = 100


def concurrency_problems(params: dict[str, str], template: dict, lambda_client: Any = None) -> list[str]:
    """Whether the account's concurrency quota leaves room for Settle's reservation (a new account's
    quota can be 10)."""
    import boto3

    default = template["Parameters"]["SettleReservedConcurrency"]["Default"]
    reserved = int(params.get("SettleReservedConcurrency", default))
    if reserved == 0:
        return []
    limit = (lambda_client or boto3.client("lambda")).get_account_settings()["AccountLimit"]
    if limit["ConcurrentExecutions"] - reserved < UNRESERVED_MINIMUM:
        return [f"SettleReservedConcurrency: the account allows {limit['ConcurrentExecutions']} concurrent "
                f"executions; reserving {reserved} would leave fewer than {UNRESERVED_MINIMUM} unreserved "
                "(ask AWS for a higher quota, or set SettleReservedConcurrency=0)"]
    return []


def _check_account(stack: str, params: dict[str, str]) -> None:
    """What only the account can say (the SES identity, the concurrency quota); a note, not a refusal, when
    AWS is not reachable."""
    from botocore.exceptions import BotoCoreError, ClientError

    problems: list[str] = []
    for what, read in (("SES identities", lambda: identity_problems(stack, params)),
                       ("Lambda concurrency quota", lambda: concurrency_problems(params, load()))):
        try:
            problems += read()
        except (BotoCoreError, ClientError) as exc:
            print(f"note: cannot read the account's {what} ({exc}); not checked", file=sys.stderr)
    if problems:
        raise ParameterError("\n".join(problems))


# --- the carriers ------------------------------------------------------------------------------------

def carrier_lines(params: dict[str, str], template: dict, credentials: dict | None) -> list[str]:
    """Which carriers of LabelCarriers can issue labels: the demo prints DEMO labels no carrier takes; a
    real one needs its credentials in CarrierCredentialsSecret (`credentials`: its value, None before the
    first deploy)."""
    wanted = params.get("LabelCarriers") or template["Parameters"]["LabelCarriers"]["Default"]
    lines = []
    for carrier in (c.strip() for c in wanted.split(",") if c.strip()):
        if carrier == "demo":
            lines.append("demo: configured, DEMO labels only: no carrier collects them (set LabelCarriers)")
        elif credentials is None:
            lines.append(f"{carrier}: not configured yet (after the first deploy, put its credentials in "
                         "CarrierCredentialsSecretArn)")
        elif isinstance(credentials.get(carrier), dict) and credentials[carrier]:
            lines.append(f"{carrier}: configured")
        else:
            lines.append(f"{carrier}: NOT configured: its credentials are missing from CarrierCredentialsSecretArn")
    return lines


def _carrier_credentials(stack: str) -> dict | None:
    import boto3

    try:
        arn = outputs(stack).get("CarrierCredentialsSecretArn")
        if not arn:
            return None
        value = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    except Exception:  # noqa: BLE001 - no stack yet, or no access: the check says "not configured yet"
        return None
    return value if isinstance(value, dict) else {}


def outputs(stack: str, cloudformation: Any = None) -> dict[str, str]:
    import boto3

    cfn = cloudformation or boto3.client("cloudformation")
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


# --- the rollover of the secrets others sign with: the carrier's webhooks, the store's return links ----
# command -> (the stack output naming the secret, who signs with it)
ROLLOVER_SECRETS = {"carrier-secret": ("CarrierSecretArn", "the carrier"),
                    "store-link-secret": ("StoreLinkSecretArn", "the store's order pages")}

# The secret is {"current": key, "previous": key?}; the API accepts a signature by either
# (chalicelib/authn.py) and re-reads the secret within secret_store.CACHE_SECONDS. So: begin,
# wait that long, give the carrier the new key, wait until it signs with it, finish.

def _read(client: Any, secret_id: str) -> dict:
    value = client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"current": value}


def begin_rollover(client: Any, secret_id: str, new_key: str | None = None) -> str:
    """A new current key; the old one stays valid as `previous`. Refused while a rollover is open
    (finish it first): a second begin would drop the key the carrier may still be using."""
    held = _read(client, secret_id)
    if held.get("previous"):
        raise RuntimeError("a rollover is already open: run `finish` once every signer (the carrier, "
                           "the store's pages) signs with the current key")
    key = new_key or secrets.token_urlsafe(KEY_LENGTH)[:KEY_LENGTH]
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"current": key,
                                                                        "previous": held["current"]}))
    return key


def finish_rollover(client: Any, secret_id: str) -> None:
    held = _read(client, secret_id)
    if not held.get("previous"):
        raise RuntimeError("no rollover is open")
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"current": held["current"]}))


def current_key(client: Any, secret_id: str) -> str:
    return _read(client, secret_id)["current"]


# --- the smoke check's credentials (infra/smoke.py --env) -------------------------------------------

def store_token(outs: dict[str, str], cognito: Any = None, opener: Any = None) -> str:
    """A store access token by the store client's client-credentials grant (the client's secret is
    read from Cognito, never stored)."""
    import base64
    import urllib.parse
    import urllib.request

    import boto3

    client = (cognito or boto3.client("cognito-idp")).describe_user_pool_client(
        UserPoolId=outs["UserPoolId"], ClientId=outs["StoreClientId"])["UserPoolClient"]
    basic = base64.b64encode(f"{client['ClientId']}:{client['ClientSecret']}".encode()).decode()
    request = urllib.request.Request(
        outs["TokenEndpoint"], method="POST",
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "returns/store"}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    with (opener or urllib.request.urlopen)(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def smoke_credentials(env: str, url: str | None, token: str | None, key: str | None) -> tuple[str, str, str]:
    import boto3

    stack, _ = parameters(env)
    outs = outputs(stack)
    return (url or outs["ApiUrl"], token or store_token(outs),
            key or current_key(boto3.client("secretsmanager"), outs["CarrierSecretArn"]))


# --- the command line ---------------------------------------------------------------------------

def _given(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ParameterError(f"--set {pair}: expected Name=value")
        out[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "deploy", "outputs"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--env", default="staging", help="staging (default) or prod")
        cmd.add_argument("--set", action="append", default=[], metavar="Name=value",
                         help="a template parameter (repeatable)")
    for name in ROLLOVER_SECRETS:
        rot = sub.add_parser(name)
        rot.add_argument("step", choices=("begin", "finish", "show"))
        rot.add_argument("--env", default="staging")
    args = parser.parse_args(argv)
    try:
        stack, params = parameters(args.env, _given(getattr(args, "set", [])))
        if args.command == "check":
            check(args.env, params, _existing_parameters(stack))
            _check_account(stack, params)
            print(f"{stack}: parameters are complete and acceptable")
            for line in carrier_lines(params, load(), _carrier_credentials(stack)):
                print(f"  carrier {line}")
        elif args.command == "deploy":
            check(args.env, params, _existing_parameters(stack))
            _check_account(stack, params)
            artifacts.build()
            overrides = [f"{k}={v}" for k, v in params.items()]
            return subprocess.call([str(artifacts.SAM), "deploy", "--config-env", args.env,
                                    "--template-file", str(artifacts.BUILT_TEMPLATE),
                                    "--parameter-overrides", *overrides], cwd=artifacts.ROOT)
        elif args.command == "outputs":
            for key, value in outputs(stack).items():
                print(f"{key}\t{value}")
        else:
            import boto3

            client = boto3.client("secretsmanager")
            output, signer = ROLLOVER_SECRETS[args.command]
            secret_id = outputs(stack)[output]
            if args.step == "begin":
                begin_rollover(client, secret_id)
                print(f"new key set; both keys are accepted. Wait 5 minutes, give {signer} "
                      f"`{args.command} show`, then run `{args.command} finish` once it signs with it.")
            elif args.step == "finish":
                finish_rollover(client, secret_id)
                print("rollover finished: only the current key is accepted (within 5 minutes)")
            else:
                print(current_key(client, secret_id))
    except (ParameterError, RuntimeError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
