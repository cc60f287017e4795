"""Read template.yaml (CloudFormation tags included) and resolve the intrinsics we use."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"


class _Loader(yaml.SafeLoader):
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
                      "Base64": "Fn::Base64"}.items():
    _Loader.add_constructor(f"!{_short}", _tag(_long))


def load(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=_Loader)


def samconfig_parameters(env: str = "local", path: Path = SAMCONFIG) -> tuple[str, dict[str, str]]:
    """(stack name, parameter overrides) of a samconfig environment."""
    import shlex
    import tomllib

    conf = tomllib.loads(path.read_text())[env]
    stack = conf["global"]["parameters"]["stack_name"]
    overrides = conf.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    return stack, dict(item.split("=", 1) for item in shlex.split(overrides))


_SUB = re.compile(r"\$\{([\w:.]+)\}")


class Resolver:
    """Resolves Ref, GetAtt, Sub and Join against parameters and deployed resources."""

    def __init__(self, template: dict, parameters: dict[str, str], stack: str, region: str, account: str):
        self.template = template
        self.params = {name: str(parameters.get(name, spec.get("Default", "")))
                       for name, spec in template.get("Parameters", {}).items()}
        self.pseudo = {"AWS::StackName": stack, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}
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
            return [self.resolve(v) for v in value]
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
        return {k: self.resolve(v) for k, v in value.items()}


def substitute_definition(text: str, values: dict[str, str]) -> str:
    """ASL has `$` everywhere: replace exactly the `${Name}` placeholders we were given."""
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"DefinitionSubstitutions has no {name}")
        return str(values[name])
    return re.sub(r"\$\{(\w+)\}", one, text)
