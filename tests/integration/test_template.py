"""template.yaml: what the deployed stack must (not) contain, and the state machines it references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from devstack import template

TEMPLATE_TEXT = template.TEMPLATE.read_text()


def test_nothing_enables_the_sandbox_provider_or_holds_a_local_only_secret():
    assert "_local_only" not in TEMPLATE_TEXT
    assert "PAYMENTS_MODE" not in TEMPLATE_TEXT
    assert "sandbox" not in TEMPLATE_TEXT.lower()


def test_no_parameter_holds_a_secret_default():
    for name, parameter in template.load_template()["Parameters"].items():
        if any(word in name.lower() for word in ("secret", "token", "key", "password")):
            assert "Default" not in parameter, name


def test_every_function_shares_the_global_environment():
    for definition in template.functions().values():
        props = template.resource_properties(definition.logical_id)
        assert "Environment" not in props, f"{definition.logical_id} sets its own environment"


def test_every_function_lives_in_its_own_folder_with_only_app_py():
    for definition in template.functions().values():
        python_files = sorted(p.name for p in definition.code_dir.glob("*.py"))
        assert python_files == ["app.py"], f"{definition.code_dir}: shared code belongs in the layer"


def test_every_queue_has_a_dead_letter_queue_and_every_terminal_queue_an_alarm():
    queues = template.resources("AWS::SQS::Queue")
    terminal = set()
    for props in (q.get("Properties", {}) for q in queues.values()):
        policy = props.get("RedrivePolicy")
        if policy:
            terminal.add(policy["deadLetterTargetArn"]["Fn::GetAtt"][0])
    for definition in template.functions().values():
        for event in definition.events_of("DynamoDB").values():
            destination = event["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if destination:
                terminal.add(destination["Fn::GetAtt"][0])
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in template.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    for logical_id, queue in queues.items():
        if logical_id in terminal:
            assert logical_id in alarmed, f"{logical_id} has no depth alarm"
        else:
            assert queue["Properties"].get("RedrivePolicy"), f"{logical_id} has no dead-letter queue"


def test_the_table_matches_the_architecture():
    props = template.resource_properties("BalcaoTable")
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    assert [i["IndexName"] for i in props["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2", "GSI3"]
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True


def test_the_user_pool_never_sends_mail_and_has_the_api_password_policy():
    pool = template.resource_properties("UserPool")
    assert "AutoVerifiedAttributes" not in pool
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UserPoolTier"] == "LITE"
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 1,
    }
    client = template.resource_properties("UserPoolClient")
    assert client["IdTokenValidity"] == 15 and client["TokenValidityUnits"]["IdToken"] == "minutes"
    assert client["EnableTokenRevocation"] is True and client["PreventUserExistenceErrors"] == "ENABLED"


def test_gateway_responses_use_the_error_shape():
    responses = template.gateway_responses()
    assert responses["UNAUTHORIZED"]["StatusCode"] == 401
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    for name, response in responses.items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), name


STATE_MACHINES = sorted((template.ROOT / "infra" / "statemachines").glob("*.asl.json"))


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda p: p.name)
def test_every_state_machine_parses_with_motos_asl_parser(path: Path):
    AmazonStateLanguageParser.parse(path.read_text())


def test_every_state_machine_is_referenced_with_its_substitutions():
    referenced = {}
    for logical_id, resource in template.resources("AWS::Serverless::StateMachine").items():
        props = resource["Properties"]
        referenced[props["DefinitionUri"]] = logical_id
        text = (template.ROOT / props["DefinitionUri"]).read_text()
        for placeholder in set(__import__("re").findall(r"\$\{(\w+)\}", text)):
            assert placeholder in props.get("DefinitionSubstitutions", {}), (
                f"{logical_id}: ${{{placeholder}}} not substituted"
            )
    for path in STATE_MACHINES:
        assert str(path.relative_to(template.ROOT)) in referenced, f"{path.name} is not used by template.yaml"


@pytest.mark.parametrize(
    "definition", [d for d in template.functions().values() if d.events_of("Api")], ids=lambda d: d.folder
)
def test_every_served_route_is_in_the_template_and_back(definition):
    from devstack import routes

    assert routes.resolver_routes(definition.folder) == routes.template_routes(definition.folder), (
        f"run: python -m devstack.routes {definition.folder}"
    )
