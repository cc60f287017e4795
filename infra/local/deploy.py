"""Deploy template.yaml into the emulator: the template is the only list of resources.

Works against whatever boto3 reaches: moto in-process (`mock_aws`) in tests, the moto
server of `make run` otherwise. Returns what the local stack needs to run the code.
"""
from __future__ import annotations

import functools
import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from .template import ROOT, Resolver, check_parameters, load, samconfig_parameters, substitute_definition
from .workers import Artifact

ACCOUNT = "123456789012"
REGION = "us-east-1"
# The template's resources the local stack does not create, and why each needs no emulation: logs are
# the terminal's; the bucket policy only denies plain HTTP; the layer is sam build's folder; alarms,
# the dashboard, log metrics, the WAF association and the ops email subscription watch or guard a
# deployed stack from outside it; moto's SES publishes no events, so the mail events' destination and
# its topic's policy have nothing to carry (tests feed SES's documented events to the function); Cognito
# is replaced by `infra.local token` (HS256). The REST API and its
# permission are the gateway emulation's (infra/local/gateway.py reads them from the template).
NOT_EMULATED = {"AWS::Logs::LogGroup", "AWS::Logs::MetricFilter", "AWS::S3::BucketPolicy",
                "AWS::Serverless::LayerVersion", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard",
                "AWS::WAFv2::WebACLAssociation", "AWS::SNS::Subscription", "AWS::Serverless::Api",
                "AWS::SNS::TopicPolicy", "AWS::SES::ConfigurationSetEventDestination",
                "AWS::Lambda::Permission", "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolGroup",
                "AWS::Cognito::UserPoolDomain", "AWS::Cognito::ManagedLoginBranding",
                "AWS::Cognito::UserPoolResourceServer", "AWS::Cognito::UserPoolClient",
                # SES receiving: locally the outbox's Reply stores the MIME and invokes InboundMailFunction itself
                "AWS::SES::ReceiptRuleSet", "AWS::SES::ReceiptRule"}
# What it creates: data, messaging, keys and secrets first (the functions' environment refers to them),
# then the functions and the state machine.
EMULATED = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::KMS::Key",
            "AWS::SecretsManager::Secret", "AWS::SES::EmailIdentity", "AWS::SES::Template",
            "AWS::SES::ConfigurationSet",
            "AWS::Serverless::Function", "AWS::Serverless::StateMachine"}

# `make demo` (`python -m infra.local run --demo`), and the tests: the local stack with every workflow
# wait shortened, a day of a period passing in a minute (template.yaml's WaitScale, rules/waits.py). What
# customers are told (deadlines, refund_due_by, numbers of days) keeps the template's real periods.
DEMO_PARAMETERS = {"WaitScale": "1440"}
_local_defaults: dict[str, str] = {}


def use_demo_waits() -> None:
    """Every later deploy of the `local` environment in this process waits as the demo does (run --demo:
    the server deploys the stack itself, after the command line is read)."""
    _local_defaults.update(DEMO_PARAMETERS)


@dataclass
class Function:
    logical_id: str
    name: str
    arn: str
    artifact: Artifact       # the built code that runs: sam build's folder and layer, never the source tree
    environment: dict[str, str]
    memory_mb: int
    timeout: int
    # EventInvokeConfig: how often Lambda retries a failed asynchronous invocation, and the on-failure
    # destination (an SQS queue's ARN) that gets it after the last try.
    async_retries: int = 2
    on_failure_queue_arn: str | None = None


@dataclass
class Stack:
    name: str
    resolver: Resolver
    functions: dict[str, Function] = field(default_factory=dict)   # by function name
    state_machine_arn: str = ""

    def function(self, logical_id: str) -> Function:
        return next(f for f in self.functions.values() if f.logical_id == logical_id)

    @property
    def environment(self) -> dict[str, str]:
        """The environment every function shares (Globals), as the API sees it."""
        return self.function("ApiFunction").environment


@functools.cache
def _service_models():
    from botocore.loaders import create_loader

    return create_loader()


def _clients():
    # Through one botocore loader per process: boto3's default session is made anew under each
    # mock, and parsed the service models again on every deploy (a few seconds a test).
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _service_models())
    session = boto3.session.Session(botocore_session=core)
    return {s: session.client(s, region_name=REGION) for s in
            ("dynamodb", "s3", "sns", "ses", "secretsmanager", "lambda", "iam", "stepfunctions", "sqs", "kms")}


def _table(c, name: str, props: dict) -> None:
    args = {"TableName": name, "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"], "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST")}
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    arn = c["dynamodb"].create_table(**args)["TableDescription"]["TableArn"]
    if props.get("ResourcePolicy"):
        c["dynamodb"].put_resource_policy(ResourceArn=arn, Policy=json.dumps(props["ResourcePolicy"]["PolicyDocument"]))
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        c["dynamodb"].update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def _stub_zip() -> bytes:
    # moto stores code but never runs it: the dispatcher calls the real handler instead.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("placeholder.py", "# dispatched in-process by infra.local.dispatch\n")
    return buf.getvalue()


def _artifacts(build_dir: Path) -> dict[str, Artifact]:
    """Each function's built folder and layer, as `sam build`'s own template names them."""
    built = load(build_dir / "template.yaml")
    resources = built["Resources"]
    globals_fn = built.get("Globals", {}).get("Function", {})
    out = {}
    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        layers = props.get("Layers", globals_fn.get("Layers", []))
        layer_ids = [layer["Ref"] for layer in layers if isinstance(layer, dict) and "Ref" in layer]
        if len(layer_ids) != 1:
            raise ValueError(f"{lid}: the local stack runs functions with exactly one layer of this template")
        layer_dir = build_dir / resources[layer_ids[0]]["Properties"]["ContentUri"] / "python"
        out[lid] = Artifact(build_dir / props["CodeUri"], layer_dir, props["Handler"])
    return out


def _generated_secret(spec: dict) -> str:
    """What GenerateSecretString makes: a random string, or it under GenerateStringKey of the
    SecretStringTemplate's JSON object."""
    value = secrets.token_urlsafe(int(spec.get("PasswordLength", 48)))[:int(spec.get("PasswordLength", 48))]
    if "GenerateStringKey" in spec:
        return json.dumps({**json.loads(spec.get("SecretStringTemplate") or "{}"), spec["GenerateStringKey"]: value})
    return value


def deploy(env: str = "local", overrides: dict[str, str] | None = None, stack_name: str | None = None,
           environment_overrides: dict[str, str | None] | None = None, build_dir: Path | None = None) -> Stack:
    """`overrides`: template parameters. `environment_overrides`: merged into every function's
    environment after the template's (a value of None removes the variable), e.g. a local Stripe.
    `build_dir`: what `sam build` made (infra.artifacts.build() by default)."""
    from infra import artifacts
    from infra.local import asl_parse, post_policy

    asl_parse.install()
    post_policy.install()
    built = _artifacts(build_dir or artifacts.build(quiet=True))
    template = load()
    stack, params = samconfig_parameters(env)
    if env == "local":
        params.update(_local_defaults)
    params.update(overrides or {})
    stack = stack_name or stack
    check_parameters(template, params)
    r = Resolver(template, params, stack, REGION, ACCOUNT)
    c = _clients()
    resources: dict = template["Resources"]
    globals_fn = template.get("Globals", {}).get("Function", {})

    # Data, messaging and secrets first: the functions' environment refers to them.
    # A resource whose Condition is false is not created, as CloudFormation does (SenderIdentity when the
    # store sends from an identity that already exists).
    resources = {lid: res for lid, res in resources.items() if "Condition" not in res or r.condition(res["Condition"])}
    unknown = {res["Type"] for res in resources.values()} - EMULATED - NOT_EMULATED
    if unknown:
        raise ValueError(f"template.yaml has resource types the local stack neither creates nor skips: {unknown}")
    for lid, res in resources.items():
        if res["Type"].startswith("AWS::Cognito::"):
            # A value that refers to the pool resolves to None, and None variables are left out.
            r.refs[lid], r.atts[lid] = None, {}
            continue
        kind = res["Type"]
        if kind in NOT_EMULATED or kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        props = r.resolve(res.get("Properties", {}))
        if kind == "AWS::KMS::Key":
            key = c["kms"].create_key(Description=props.get("Description", lid))["KeyMetadata"]
            r.refs[lid], r.atts[lid] = key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}
        elif kind == "AWS::DynamoDB::Table":
            name = props.get("TableName") or f"{stack}-{lid}"
            _table(c, name, props)
            r.refs[lid] = name
            r.atts[lid] = {"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"}
        elif kind == "AWS::S3::Bucket":
            name = (props.get("BucketName") or f"{stack}-{lid}").lower()
            c["s3"].create_bucket(Bucket=name)
            if props.get("VersioningConfiguration"):
                c["s3"].put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
            r.refs[lid] = name
            r.atts[lid] = {"Arn": f"arn:aws:s3:::{name}"}
        elif kind == "AWS::SNS::Topic":
            name = props.get("TopicName") or f"{stack}-{lid}"
            arn = c["sns"].create_topic(Name=name)["TopicArn"]
            r.refs[lid] = arn
            r.atts[lid] = {"TopicName": name, "TopicArn": arn}
        elif kind == "AWS::SQS::Queue":
            name = props.get("QueueName") or f"{stack}-{lid}"
            attributes = {k: str(props[k]) for k in ("MessageRetentionPeriod", "VisibilityTimeout") if k in props}
            url = c["sqs"].create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            r.refs[lid] = url
            r.atts[lid] = {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", "QueueName": name, "QueueUrl": url}
        elif kind == "AWS::SecretsManager::Secret":
            value = props.get("SecretString") or _generated_secret(props.get("GenerateSecretString") or {})
            arn = c["secretsmanager"].create_secret(Name=f"{stack}-{lid}", SecretString=value)["ARN"]
            r.refs[lid] = arn
        elif kind == "AWS::SES::EmailIdentity":
            c["ses"].verify_email_identity(EmailAddress=props["EmailIdentity"])
            r.refs[lid] = props["EmailIdentity"]
        elif kind == "AWS::SES::ConfigurationSet":
            c["ses"].create_configuration_set(ConfigurationSet={"Name": props["Name"]})
            r.refs[lid] = props["Name"]
        elif kind == "AWS::SES::Template":
            c["ses"].create_template(Template=props["Template"])
            r.refs[lid] = props["Template"]["TemplateName"]

    role = c["iam"].create_role(RoleName=f"{stack}-local-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    out = Stack(stack, r)
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        name = f"{stack}-{lid}"
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        r.refs[lid], r.atts[lid] = name, {"Arn": arn}
    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        name = r.refs[lid]
        variables = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        environment = {k: str(v) for k, v in r.resolve(variables).items() if v is not None}
        for key, value in (environment_overrides or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = str(value)
        memory = int(props.get("MemorySize", globals_fn.get("MemorySize", 128)))
        timeout = int(props.get("Timeout", globals_fn.get("Timeout", 3)))
        c["lambda"].create_function(
            FunctionName=name, Runtime=globals_fn["Runtime"], Role=role,
            Handler=props["Handler"], Code={"ZipFile": _stub_zip()}, MemorySize=memory, Timeout=timeout,
            Environment={"Variables": environment})
        invoke_config = r.resolve(props.get("EventInvokeConfig") or {})
        on_failure = ((invoke_config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        out.functions[name] = Function(lid, name, r.atts[lid]["Arn"], built[lid], environment, memory, timeout,
                                       int(invoke_config.get("MaximumRetryAttempts", 2)), on_failure)

    for lid, res in resources.items():
        if res["Type"] != "AWS::Serverless::StateMachine":
            continue
        props = res["Properties"]
        subs = {k: str(v) for k, v in r.resolve(props.get("DefinitionSubstitutions", {})).items()}
        definition = substitute_definition((ROOT / props["DefinitionUri"]).read_text(), subs)
        name = r.resolve(props.get("Name")) or f"{stack}-{lid}"
        arn = c["stepfunctions"].create_state_machine(
            name=name, definition=definition, roleArn=role, type=props.get("Type", "STANDARD"))["stateMachineArn"]
        r.refs[lid] = arn
        out.state_machine_arn = arn
    return out
