"""Create every resource of template.yaml in moto (tables, buckets, queues, bus and rules, Cognito, secrets, SES,
functions and state machines), and return how to resolve ``!Ref``/``!GetAtt`` to what was created.

Used by the devstack and by the integration fixtures (under ``mock_aws``): there is no second definition.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from devstack.template import ROOT, Resolver, load_template, resources

REGION = "eu-west-1"
ACCOUNT = "123456789012"
LOCAL_PARAMETERS = {
    "Stage": "local",
    "PublicBaseUrl": "http://127.0.0.1:8000",
    "SenderAddress": "no-reply@balcao.example",
    "SenderDomain": "balcao.example",
}  # parameters with a default in template.yaml take it
# Creation order: a resource may only refer to resources of earlier types.
ORDER = [
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::EmailIdentity",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Events::Rule",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::CloudWatch::Alarm",
]
IGNORED = {
    "AWS::Serverless::LayerVersion",  # the layer is the installed balcao package
    "AWS::Serverless::Api",  # served by the local gateway
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::IAM::Role",
    "AWS::Lambda::Permission",
}


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _name(resolver: Resolver, logical_id: str) -> str:
    stage = resolver.parameters.get("Stage", "local")
    return f"balcao-{stage}-{logical_id}".lower()


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


class Created:
    """What was created: physical names per logical id, and the resolver for everything else."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def attribute(self, logical_id: str, name: str) -> str:
        return self.resolver.attributes[f"{logical_id}.{name}"]

    def environment(self) -> dict[str, str]:
        """The functions' environment (Globals), resolved to the created resources."""
        tpl = load_template()
        variables = (tpl.get("Globals") or {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        return {k: str(self.resolver.resolve(v)) for k, v in variables.items()}


def create_all(parameters: Mapping[str, str] | None = None, skip: frozenset[str] = frozenset()) -> Created:
    """Create every resource of the template in the current AWS endpoint (moto server or ``mock_aws``)."""
    resolver = Resolver({**LOCAL_PARAMETERS, **(parameters or {})})
    everything = resources()
    unknown = {r["Type"] for r in everything.values()} - set(ORDER) - IGNORED
    if unknown:
        raise NotImplementedError(f"the devstack cannot create {sorted(unknown)} yet")
    for resource_type in ORDER:
        # Within a type, resources that refer to none of their kind first (dead-letter queues before their queues).
        ordered = sorted(everything.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
        for logical_id, resource in ordered:
            if resource["Type"] != resource_type or logical_id in skip:
                continue
            condition = resource.get("Condition")
            if condition and not resolver.conditions.get(condition, False):
                continue
            CREATORS[resource_type](logical_id, resource.get("Properties", {}), resolver)
    return Created(resolver)


def _table(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = props.get("TableName") or _name(resolver, logical_id)
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        arguments["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    client = _client("dynamodb")
    description = client.create_table(**arguments)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    resolver.refs[logical_id] = name
    resolver.attributes[f"{logical_id}.Arn"] = description["TableArn"]
    if "LatestStreamArn" in description:
        resolver.attributes[f"{logical_id}.StreamArn"] = description["LatestStreamArn"]


def _bucket(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = props.get("BucketName") or _name(resolver, logical_id)
    client = _client("s3")
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    encryption = props.get("BucketEncryption")
    if encryption:
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in encryption["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    cors = props.get("CorsConfiguration")
    if cors:
        renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}
        rules = [{renamed.get(k, k): v for k, v in rule.items()} for rule in resolver.resolve(cors["CorsRules"])]
        client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    resolver.refs[logical_id] = name
    resolver.attributes[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"
    resolver.attributes[f"{logical_id}.RegionalDomainName"] = f"{name}.s3.{REGION}.amazonaws.com"


def _queue(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = resolver.resolve(props.get("QueueName")) or _name(resolver, logical_id)
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
        if key in props:
            attributes[key] = str(props[key])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
    url = _client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    resolver.refs[logical_id] = url
    resolver.attributes[f"{logical_id}.Arn"] = _arn("sqs", name)
    resolver.attributes[f"{logical_id}.QueueName"] = name
    resolver.attributes[f"{logical_id}.QueueUrl"] = url


def _topic(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = resolver.resolve(props.get("TopicName")) or _name(resolver, logical_id)
    arn = _client("sns").create_topic(Name=name)["TopicArn"]
    resolver.refs[logical_id] = arn
    resolver.attributes[f"{logical_id}.TopicName"] = name
    resolver.attributes[f"{logical_id}.TopicArn"] = arn


def _event_bus(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = resolver.resolve(props["Name"])
    arn = _client("events").create_event_bus(Name=name)["EventBusArn"]
    resolver.refs[logical_id] = name
    resolver.attributes[f"{logical_id}.Arn"] = arn
    resolver.attributes[f"{logical_id}.Name"] = name


def _user_pool(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    arguments: dict[str, Any] = {"PoolName": resolver.resolve(props["UserPoolName"])}
    for key in (
        "UsernameAttributes",
        "Policies",
        "Schema",
        "MfaConfiguration",
        "AccountRecoverySetting",
        "AdminCreateUserConfig",
    ):
        if key in props:
            arguments[key] = props[key]
    pool = _client("cognito-idp").create_user_pool(**arguments)["UserPool"]
    resolver.refs[logical_id] = pool["Id"]
    resolver.attributes[f"{logical_id}.Arn"] = pool["Arn"]
    resolver.attributes[f"{logical_id}.ProviderURL"] = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"


def _user_pool_client(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    arguments: dict[str, Any] = {
        "UserPoolId": resolver.resolve(props["UserPoolId"]),
        "ClientName": resolver.resolve(props["ClientName"]),
    }
    for key in (
        "GenerateSecret",
        "ExplicitAuthFlows",
        "EnableTokenRevocation",
        "PreventUserExistenceErrors",
        "AuthSessionValidity",
        "IdTokenValidity",
        "AccessTokenValidity",
        "RefreshTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
    ):
        if key in props:
            arguments[key] = props[key]
    client = _client("cognito-idp").create_user_pool_client(**arguments)["UserPoolClient"]
    resolver.refs[logical_id] = client["ClientId"]
    resolver.attributes[f"{logical_id}.ClientSecret"] = client.get("ClientSecret", "")


def _user_pool_group(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    arguments = {
        k: resolver.resolve(v)
        for k, v in props.items()
        if k in ("GroupName", "UserPoolId", "Description", "Precedence")
    }
    _client("cognito-idp").create_group(**arguments)
    resolver.refs[logical_id] = arguments["GroupName"]


# Secrets template.yaml creates without a value (operators fill them in): the local stack's own values. These are
# local-only test secrets of API.md ("Local stack only"); nothing deployed ever holds them.
LOCAL_SECRET_VALUES: dict[str, str] = {
    "StripeSecret": json.dumps({"webhook_secret": "whsec_balcao_local_only"}),
    "MercadoPagoSecret": json.dumps({"webhook_secret": "mp_balcao_local_only"}),
}


def _secret(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = resolver.resolve(props.get("Name")) or _name(resolver, logical_id)
    if "SecretString" in props:
        value: str | None = str(resolver.resolve(props["SecretString"]))
    elif "GenerateSecretString" in props:
        length = int(props["GenerateSecretString"].get("PasswordLength", 32))
        value = secrets.token_urlsafe(length)[:length]
    else:
        value = LOCAL_SECRET_VALUES.get(logical_id)
    arguments: dict[str, Any] = {"Name": name}
    if value is not None:
        arguments["SecretString"] = value
    arn = _client("secretsmanager").create_secret(**arguments)["ARN"]
    resolver.refs[logical_id] = arn


def _configuration_set(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    name = resolver.resolve(props.get("Name")) or _name(resolver, logical_id)
    _client("sesv2").create_configuration_set(ConfigurationSetName=name)
    resolver.refs[logical_id] = name


def _email_identity(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    identity = resolver.resolve(props["EmailIdentity"])
    _client("sesv2").create_email_identity(EmailIdentity=identity)
    resolver.refs[logical_id] = identity


def _configuration_set_destination(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    resolver.refs[logical_id] = logical_id  # SES feedback is injected locally through /_dev/ses


_DUMMY_ZIP: bytes | None = None


def _dummy_zip() -> bytes:
    global _DUMMY_ZIP
    if _DUMMY_ZIP is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    raise RuntimeError('dispatched')\n")
        _DUMMY_ZIP = buffer.getvalue()
    return _DUMMY_ZIP


def _function(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    """A Lambda function moto can 'invoke' (the dispatch hook runs our handler instead)."""
    iam = _client("iam")
    role_name = "balcao-local-lambda"
    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    function = _client("lambda").create_function(
        FunctionName=logical_id,
        Runtime="python3.13",
        Role=role_arn,
        Handler=props.get("Handler", "app.lambda_handler"),
        Code={"ZipFile": _dummy_zip()},
    )
    resolver.refs[logical_id] = logical_id
    resolver.attributes[f"{logical_id}.Arn"] = function["FunctionArn"]


def _state_machine(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    definition = (ROOT / props["DefinitionUri"]).read_text()
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(resolver.resolve(value)))
    name = resolver.resolve(props.get("Name")) or _name(resolver, logical_id)
    iam = _client("iam")
    role_name = "balcao-local-states"
    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    arn = _client("stepfunctions").create_state_machine(
        name=name, definition=definition, roleArn=role_arn, type=props.get("Type", "STANDARD")
    )["stateMachineArn"]
    resolver.refs[logical_id] = arn
    resolver.attributes[f"{logical_id}.Name"] = name
    resolver.attributes[f"{logical_id}.Arn"] = arn


def _rule(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    """Event-pattern rules on the custom bus; every target is a queue (moto delivers to SQS)."""
    name = resolver.resolve(props.get("Name")) or _name(resolver, logical_id)
    bus = resolver.resolve(props.get("EventBusName", "default"))
    events = _client("events")
    events.put_rule(
        Name=name, EventBusName=bus, EventPattern=json.dumps(resolver.resolve(props["EventPattern"])), State="ENABLED"
    )
    targets = []
    for target in props.get("Targets", []):
        resolved = resolver.resolve(target)
        if ":sqs:" not in resolved["Arn"]:
            raise ValueError(f"{logical_id}: every rule targets a queue, never a function ({resolved['Arn']})")
        targets.append({"Id": resolved["Id"], "Arn": resolved["Arn"]})
    events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    resolver.refs[logical_id] = name
    resolver.attributes[f"{logical_id}.Arn"] = _arn("events", f"rule/{bus}/{name}")


def _alarm(logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    resolved = resolver.resolve(props)
    arguments = {
        k: resolved[k]
        for k in (
            "Namespace",
            "MetricName",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
        )
        if k in resolved
    }
    if "Dimensions" in resolved:
        arguments["Dimensions"] = resolved["Dimensions"]
    _client("cloudwatch").put_metric_alarm(
        AlarmName=_name(resolver, logical_id), AlarmActions=resolved.get("AlarmActions", []), **arguments
    )
    resolver.refs[logical_id] = _name(resolver, logical_id)


CREATORS: dict[str, Callable[[str, dict[str, Any], Resolver], None]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::ConfigurationSet": _configuration_set,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SES::ConfigurationSetEventDestination": _configuration_set_destination,
    "AWS::Serverless::Function": _function,
    "AWS::Serverless::StateMachine": _state_machine,
    "AWS::Events::Rule": _rule,
    "AWS::CloudWatch::Alarm": _alarm,
}
