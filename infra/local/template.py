"""Read template.yaml (CloudFormation tags included) and resolve the intrinsics we use."""
from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):   # libyaml's parser when PyYAML has it: ~10x faster
    pass


def _tag(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}
    return construct


for _short, _long in {"Ref": "Ref", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "Join": "Fn::Join",
                      "If": "Fn::If", "Equals": "Fn::Equals", "Select": "Fn::Select", "Split": "Fn::Split",
                      "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or", "FindInMap": "Fn::FindInMap",
                      "Condition": "Condition", "GetAZs": "Fn::GetAZs", "ImportValue": "Fn::ImportValue",
                      "Base64": "Fn::Base64", "Contains": "Fn::Contains"}.items():
    _Loader.add_constructor(f"!{_short}", _tag(_long))


_parsed: dict[Path, tuple[tuple[int, int], dict]] = {}


def load(path: Path = TEMPLATE) -> dict:
    """The template as a new dict (callers may change theirs). Parsed once per version of the file:
    every deploy of the tests and the local stack reads it, and the YAML is ~125 KB."""
    path = Path(path)
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(path)
    if cached is None or cached[0] != version:
        cached = _parsed[path] = (version, yaml.load(path.read_text(), Loader=_Loader))
    return copy.deepcopy(cached[1])


# What the local stack's emulators are keyed with: the local Stripe's test key (api.md, "The local
# stack") and the carrier key the README's curl signs with. Set here, not in samconfig.toml, so that
# no secret, not even an emulator's, lives in a deploy configuration.
LOCAL_EMULATOR_PARAMETERS = {"CarrierSigningSecret": "local-carrier-secret", "StripeApiKey": "sk_test_local",
                             "StoreLinkSigningSecret": "local-store-link-secret"}


def samconfig_parameters(env: str = "local", path: Path = SAMCONFIG) -> tuple[str, dict[str, str]]:
    """(stack name, parameter overrides) of a samconfig environment (for `local`, with the emulators'
    keys: LOCAL_EMULATOR_PARAMETERS)."""
    import shlex
    import tomllib

    conf = tomllib.loads(path.read_text())[env]
    stack = conf["global"]["parameters"]["stack_name"]
    overrides = conf.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    given = dict(item.split("=", 1) for item in shlex.split(overrides))
    return stack, ({**LOCAL_EMULATOR_PARAMETERS, **given} if env == "local" else given)


_SUB = re.compile(r"\$\{([\w:.]+)\}")


class Resolver:
    """Resolves Ref, GetAtt, Sub, Join and the condition functions (If, Equals, Not, And, Or, and
    the template's Conditions) against parameters and deployed resources. A property that resolves
    to AWS::NoValue is left out, as CloudFormation does."""

    def __init__(self, template: dict, parameters: dict[str, str], stack: str, region: str, account: str):
        self.template = template
        self.params = {name: str(parameters.get(name, spec.get("Default", "")))
                       for name, spec in template.get("Parameters", {}).items()}
        self.pseudo = {"AWS::StackName": stack, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None,
                       # a stack id's uuid, the same for the same stack (names derived from it stay stable)
                       "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/"
                                       f"{uuid.uuid5(uuid.NAMESPACE_URL, f'{account}/{region}/{stack}')}"}
        self.refs: dict[str, str] = {}
        self.atts: dict[str, dict[str, str]] = {}

    def ref(self, name: str) -> Any:
        for table in (self.params, self.pseudo, self.refs):
            if name in table:
                return table[name]
        raise KeyError(f"cannot resolve Ref {name} (not deployed yet?)")

    def getatt(self, resource: str, attr: str) -> str:
        try:
            return self.atts[resource][attr]
        except KeyError as exc:
            raise KeyError(f"cannot resolve GetAtt {resource}.{attr}") from exc

    def sub(self, text: str, extra: dict | None = None) -> str | None:
        """None when a part resolves to None (AWS::NoValue, a resource not emulated locally)."""
        missing = False

        def one(match: re.Match) -> str:
            nonlocal missing
            key = match.group(1)
            if extra and key in extra:
                value = self.resolve(extra[key])
            elif "." in key and not key.startswith("AWS::"):
                value = self.getatt(*key.split(".", 1))
            else:
                value = self.ref(key)
            missing = missing or value is None
            return str(value)
        out = _SUB.sub(one, text)
        return None if missing else out

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.getatt(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Sub":
                return self.sub(arg) if isinstance(arg, str) else self.sub(arg[0], arg[1])
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::If":
                name, when_true, when_false = arg
                chosen = when_true if self.condition(name) else when_false
                return _NO_VALUE if chosen == {"Ref": "AWS::NoValue"} else self.resolve(chosen)
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self._truth(value)
        out = {}
        for k, v in value.items():
            if isinstance(v, dict) and v == {"Ref": "AWS::NoValue"}:
                continue
            resolved = self.resolve(v)
            if resolved is _NO_VALUE:
                continue
            out[k] = resolved
        return out

    def condition(self, name: str) -> bool:
        try:
            return self._truth(self.template["Conditions"][name])
        except KeyError as exc:
            raise KeyError(f"no condition {name} in the template") from exc

    def _truth(self, value: Any) -> bool:
        (key, arg), = value.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(v) for v in arg)
        if key == "Fn::Or":
            return any(self._truth(v) for v in arg)
        if key == "Fn::Contains":   # Rules only: the value is one of the list
            values, needle = arg
            return str(self.resolve(needle)) in {str(self.resolve(v)) for v in values}
        raise ValueError(f"not a condition: {value}")


class ParameterError(ValueError):
    """What CloudFormation would refuse before creating anything: one line per bad parameter or rule."""


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    if isinstance(node, dict):
        return ({node["Ref"]} if "Ref" in node else set()) | set().union(*map(_refs, node.values()))
    return set()


def check_parameters(template: dict, given: dict[str, str], assume_present: set[str] = frozenset()) -> None:
    """The checks CloudFormation makes of a stack's parameters before it creates anything: unknown
    names, a value for every parameter without a default, AllowedValues, AllowedPattern (whole value),
    then the template's Rules. The local stack deploys only what AWS would accept.
    `assume_present`: parameters an existing stack already holds (an update keeps them); they and
    the rule assertions that read them are not checked here (CloudFormation checked them then)."""
    specs = template.get("Parameters", {})
    problems = [f"{name}: not a parameter of template.yaml" for name in given if name not in specs]
    for name, spec in specs.items():
        if name in assume_present and name not in given:
            continue
        if name not in given and "Default" not in spec:
            problems.append(f"{name}: required (no default); {spec.get('Description', '').strip()}".rstrip("; "))
            continue
        value = str(given.get(name, spec.get("Default", "")))
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"{name}: must be one of {', '.join(map(str, spec['AllowedValues']))}")
        elif "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"{name}: {spec.get('ConstraintDescription') or 'must match ' + spec['AllowedPattern']}")
    if problems:
        raise ParameterError("\n".join(problems))
    r = Resolver(template, given, "check", "us-east-1", "000000000000")
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not r._truth(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if _refs(assertion["Assert"]) & (set(assume_present) - set(given)):
                continue
            if not r._truth(assertion["Assert"]):
                problems.append(f"{name}: {' '.join(assertion.get('AssertDescription', 'failed').split())}")
    if problems:
        raise ParameterError("\n".join(problems))


_NO_VALUE = object()


def substitute_definition(text: str, values: dict[str, str]) -> str:
    """ASL has `$` everywhere: replace exactly the `${Name}` placeholders we were given."""
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"DefinitionSubstitutions has no {name}")
        return str(values[name])
    return re.sub(r"\$\{(\w+)\}", one, text)
