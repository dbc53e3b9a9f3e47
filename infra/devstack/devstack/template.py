"""Reading template.yaml: resources, intrinsic functions, functions with their events, the API's settings.

Nothing is defined twice: the devstack, the test fixtures and the OpenAPI generator all read the template here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns ``!Ref``/``!Sub``/``!GetAtt``… into ``{"Ref": …}``/``{"Fn::Sub": …}`` dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=CfnLoader)
    return loaded


def resources(of_type: str | None = None, template: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    tpl = template or load_template()
    found: dict[str, dict[str, Any]] = tpl["Resources"]
    return {k: v for k, v in found.items() if of_type is None or v["Type"] == of_type}


def resource_properties(logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = load_template()["Resources"][logical_id].get("Properties", {})
    return props


class Resolver:
    """Resolves intrinsics against parameter values and the physical ids of created resources.

    ``refs``: logical id → value of ``!Ref``; ``attributes``: ``"Logical.Attr"`` → value of ``!GetAtt``.
    """

    def __init__(
        self,
        parameters: Mapping[str, str],
        refs: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
        pseudo: Mapping[str, str] | None = None,
    ) -> None:
        defaults = {
            name: str(spec["Default"])
            for name, spec in (load_template().get("Parameters") or {}).items()
            if "Default" in spec
        }
        self.parameters = {**defaults, **parameters}
        self.refs = dict(refs or {})
        self.attributes = dict(attributes or {})
        self.pseudo = {
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::StackName": "balcao-local",
            "AWS::URLSuffix": "amazonaws.com",
            **(pseudo or {}),
        }
        conditions = load_template().get("Conditions", {})
        self.conditions = {name: bool(self.resolve(body)) for name, body in conditions.items()}

    def ref(self, name: str) -> str:
        for source in (self.parameters, self.pseudo, self.refs):
            if name in source:
                return str(source[name])
        raise KeyError(f"unresolved !Ref {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, body),) = value.items()
        if key == "Ref":
            return self.ref(body)
        if key == "Fn::GetAtt":
            name = ".".join(body) if isinstance(body, list) else str(body)
            if name not in self.attributes:
                raise KeyError(f"unresolved !GetAtt {name}")
            return self.attributes[name]
        if key == "Fn::Sub":
            template, variables = (body, {}) if isinstance(body, str) else (body[0], self.resolve(body[1]))

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    return str(self.attributes[name])
                return self.ref(name)

            return re.sub(r"\$\{([^}!]+)\}", substitute, template)
        if key == "Fn::Join":
            separator, parts = body
            return separator.join(str(p) for p in self.resolve(parts))
        if key == "Fn::Equals":
            left, right = self.resolve(body)
            return left == right
        if key == "Fn::Not":
            return not self.resolve(body[0])
        if key == "Fn::If":
            condition, when_true, when_false = body
            return self.resolve(when_true if self.conditions.get(condition) else when_false)
        if key == "Fn::Select":
            index, items = body
            return self.resolve(items)[int(index)]
        if key == "Condition":
            return self.conditions.get(body, False)
        return {key: self.resolve(body)}


@dataclass(frozen=True)
class ApiRoute:
    function: str
    path: str  # API Gateway form: /api/accounts/{account_id}
    method: str
    authorized: bool


@dataclass(frozen=True)
class FunctionDefinition:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return self.code_dir.name

    def events_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: event for name, event in self.events.items() if event.get("Type") == kind}


def functions() -> dict[str, FunctionDefinition]:
    tpl = load_template()
    globals_function = (tpl.get("Globals") or {}).get("Function", {})
    global_env = globals_function.get("Environment", {}).get("Variables", {})
    found: dict[str, FunctionDefinition] = {}
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        props = resource.get("Properties", {})
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        found[logical_id] = FunctionDefinition(
            logical_id=logical_id,
            code_dir=(ROOT / props["CodeUri"]).resolve(),
            handler=props.get("Handler", globals_function.get("Handler", "app.lambda_handler")),
            environment=env,
            events=props.get("Events") or {},
        )
    return found


def api_settings() -> dict[str, Any]:
    apis = resources("AWS::Serverless::Api")
    if len(apis) != 1:
        raise ValueError("template.yaml must declare exactly one AWS::Serverless::Api")
    props: dict[str, Any] = next(iter(apis.values()))["Properties"]
    return props


def api_routes() -> list[ApiRoute]:
    default_authorizer = api_settings().get("Auth", {}).get("DefaultAuthorizer")
    routes: list[ApiRoute] = []
    for fn in functions().values():
        for event in fn.events_of("Api").values():
            props = event["Properties"]
            authorizer = props.get("Auth", {}).get("Authorizer", default_authorizer)
            routes.append(
                ApiRoute(fn.logical_id, props["Path"], props["Method"].upper(), authorizer not in (None, "NONE"))
            )
    return routes


def gateway_responses() -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = api_settings().get("GatewayResponses", {})
    return responses


def binary_media_types() -> list[str]:
    return [t.replace("~1", "/") for t in api_settings().get("BinaryMediaTypes", [])]


def schedules() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every ``ScheduleV2`` job: name (the ``job`` of its Input) → (function, input)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for fn in functions().values():
        for event in fn.events_of("ScheduleV2").values():
            payload = json.loads(event["Properties"].get("Input", "{}"))
            found[str(payload["job"])] = (fn.logical_id, payload)
    return found


def load_function_module(folder: str, instance: int = 0) -> ModuleType:
    """Import ``functions/<folder>/app.py`` under a unique module name (every function's module is ``app``).

    ``instance`` > 0 loads another copy: a second "container" of the same function, with its own resolver state.
    """
    name = f"balcao_function_{folder}" if instance == 0 else f"balcao_function_{folder}__{instance}"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def handler_of(definition: FunctionDefinition, instance: int = 0) -> Callable[[dict[str, Any], Any], Any]:
    module_name, attribute = definition.handler.rsplit(".", 1)
    if module_name != "app":
        raise ValueError(f"{definition.logical_id}: handlers live in app.py (got {definition.handler})")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(
        load_function_module(definition.folder, instance), attribute
    )
    return handler
