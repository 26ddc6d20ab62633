"""Deploys infra/template.json into a moto server as CloudFormation, the way `sam deploy`
would, and prints what the deployed stacks hold (JSON on stdout).

    deploy_emulator.py --endpoint http://127.0.0.1:PORT --stage a [--stage b] \
        [--param Name=Value ...] [--code-dir target/lambda]

For each stage, one stack `teleconf-<stage>`:

1. the SAM template is translated to CloudFormation by the AWS SAM translator (offline,
   as the `AWS::Serverless-2016-10-31` transform does on AWS); each function's `CodeUri`
   becomes the `s3://` address of its zip, as `sam package` writes it;
2. the zips are uploaded (`<code-dir>/<function>/bootstrap.zip` from `make package` when
   present; otherwise a placeholder: moto never runs Lambda code, the tests run the
   function's binary themselves under the Lambda runtime API);
3. the stack is created and must reach CREATE_COMPLETE.

The printed description is read back from the emulator's APIs, not from the template:
per function its environment, role and triggers (event source mappings with their
FilterCriteria, rules, schedules), the HTTP API's stages and routes, the media node's
task definition (environment, secrets, task and execution roles) and service, the
security groups' ingress rules, the secrets' ARNs, log groups, alarms and their topic,
and for each role (every function's, the media node's task and execution roles)
credentials from STS AssumeRole. The
few resource types moto's CloudFormation lacks (it warns and skips them: the HTTP API
and its stage, the Scheduler schedule, SES identities, ECS capacity providers,
Application Auto Scaling) are listed under `not_emulated` with their properties as
the translated template gives them, references resolved.

IAM: the set-up runs with the emulator's authentication off; then the script turns
moto's enforcement on (`/moto-api/reset-auth`, i.e. INITIAL_NO_AUTH_ACTION_COUNT = 0)
and every later request must be signed by a known identity whose policies allow it:
the roles' credentials printed here, or the `deployer` user (administrator, the
operator's own access) whose keys are printed too. AssumeRole for the roles happens
while authentication is still off: on AWS it is the Lambda and ECS services, the
principals the roles trust, that assume them.

`--update-stage STAGE [--scale-media-service N] --param ...`: sets the media service's
desired count to N first (as Application Auto Scaling would), then updates that stack
with the parameters given (all of them, as `sam deploy` passes them), waits, and prints
the same description.
"""

import argparse
import copy
import io
import json
import os
import sys
import time
import urllib.request
import zipfile

import boto3
from botocore.config import Config
from samtranslator.translator.transform import transform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "infra", "template.json")
REGION = "us-east-1"
CODE_BUCKET = "teleconf-deploy-artefacts"
PLACEHOLDER = (
    "moto does not run Lambda code; the deployment test runs this function's binary "
    "under the Lambda runtime API with the environment and role this stack holds.\n"
)


def log(*args):
    print("deploy:", *args, file=sys.stderr, flush=True)


class NoManagedPolicies:
    """The template names no managed policy by its short name: nothing to look up."""

    def load(self):
        return {}


def client(endpoint, service):
    """A client for the set-up, which runs with the emulator's authentication off."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2}),
    )


def set_auth(endpoint, unauthenticated_actions):
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set at run time."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=str(unauthenticated_actions).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def functions_of(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def code_zip(code_dir, binary):
    path = os.path.join(code_dir, binary, "bootstrap.zip")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("README", PLACEHOLDER)
    return buffer.getvalue()


def package(endpoint, template, code_dir):
    """What `sam package` does: each CodeUri to an s3:// address of the uploaded zip."""
    s3 = client(endpoint, "s3")
    try:
        s3.create_bucket(Bucket=CODE_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    packaged = copy.deepcopy(template)
    for name, resource in functions_of(packaged).items():
        uri = resource["Properties"]["CodeUri"]
        # ../target/lambda/<binary>/bootstrap.zip or ../target/lambda/<binary>/
        binary = [part for part in uri.split("/") if part][-2 if uri.endswith(".zip") else -1]
        key = f"{binary}/bootstrap.zip"
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=code_zip(code_dir, binary))
        resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{key}"
        resource.setdefault("Metadata", {})["Binary"] = binary
    return packaged


def network(endpoint):
    """A VPC and two subnets for the media nodes' parameters."""
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2)
    ]
    return vpc, subnets


def parameters_for(stage, given, vpc, subnets):
    values = {
        "Stage": stage,
        "MediaVpc": vpc,
        "MediaSubnets": ",".join(subnets),
    }
    values.update(given)
    return values


def translate(packaged, values):
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return transform(copy.deepcopy(packaged), dict(values), NoManagedPolicies())


def wait_for(cfn, stack, goal):
    deadline = time.time() + 300
    while True:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if status["StackStatus"] == goal:
            return
        if status["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.time() > deadline:
            events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
            reasons = [
                f'{e["LogicalResourceId"]}: {e.get("ResourceStatusReason")}'
                for e in events
                if e.get("ResourceStatusReason")
            ]
            raise SystemExit(f"{stack}: {status['StackStatus']}, not {goal}: {reasons}")
        time.sleep(0.5)


def apply(endpoint, stack, cfn_template, values, action):
    """Creates (action "create") or updates ("update") `stack` and waits for it."""
    cfn = client(endpoint, "cloudformation")
    getattr(cfn, f"{action}_stack")(
        StackName=stack,
        TemplateBody=json.dumps(cfn_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    wait_for(cfn, stack, f"{action.upper()}_COMPLETE")


def resolve(value, values, physical, attributes):
    """`value` with Ref, Fn::Sub and Fn::GetAtt replaced as CloudFormation would: a
    parameter's value, a created resource's physical id or attribute; a resource the
    emulator did not create stays as its logical id."""
    if isinstance(value, list):
        return [resolve(v, values, physical, attributes) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        return values.get(name, physical.get(name, name))
    if set(value) == {"Fn::GetAtt"}:
        logical, attribute = value["Fn::GetAtt"]
        return attributes.get((logical, attribute), f"{logical}.{attribute}")
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        for name, v in {**physical, **values}.items():
            text = text.replace("${" + name + "}", str(v))
        for (logical, attribute), v in attributes.items():
            text = text.replace("${" + f"{logical}.{attribute}" + "}", str(v))
        return text
    return {k: resolve(v, values, physical, attributes) for k, v in value.items()}


def describe_services(endpoint, stack):
    """The stack's one ECS service."""
    cfn = client(endpoint, "cloudformation")
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    physical = {r["ResourceType"]: r["PhysicalResourceId"] for r in resources}
    service = client(endpoint, "ecs").describe_services(
        cluster=physical["AWS::ECS::Cluster"], services=[physical["AWS::ECS::Service"]]
    )["services"][0]
    return {
        "cluster": physical["AWS::ECS::Cluster"],
        "name": service["serviceName"],
        "arn": service["serviceArn"],
        "desired_count": service["desiredCount"],
    }


def describe(endpoint, stack, packaged, cfn_template, values):
    """What the stack holds, read back from the emulator (authentication off: moto
    checks no Lambda request's signature right)."""
    c = lambda service: client(endpoint, service)  # noqa: E731
    cfn = c("cloudformation")
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    by_type = {}
    for r in resources:
        by_type.setdefault(r["ResourceType"], []).append(r)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    }
    lam = c("lambda")
    iam = c("iam")
    events = c("events")
    binaries = {name: r["Metadata"]["Binary"] for name, r in functions_of(packaged).items()}
    functions = {}
    for r in by_type.get("AWS::Lambda::Function", []):
        config = lam.get_function_configuration(FunctionName=r["PhysicalResourceId"])
        # moto finds a function's mappings by its name (not its ARN).
        mappings = lam.list_event_source_mappings(FunctionName=config["FunctionName"])
        rules = [
            events.describe_rule(Name=name)
            for name in events.list_rule_names_by_target(TargetArn=config["FunctionArn"])["RuleNames"]
        ]
        functions[r["LogicalResourceId"]] = {
            "name": config["FunctionName"],
            "arn": config["FunctionArn"],
            "binary": binaries[r["LogicalResourceId"]],
            "runtime": config.get("Runtime"),
            "architectures": config.get("Architectures", []),
            "handler": config.get("Handler"),
            "memory": config.get("MemorySize"),
            "timeout": config.get("Timeout"),
            "role": config["Role"],
            "environment": config.get("Environment", {}).get("Variables", {}),
            "logging": config.get("LoggingConfig", {}),
            "event_source_mappings": [
                {
                    "source": m.get("EventSourceArn"),
                    "starting_position": m.get("StartingPosition"),
                    "batch_size": m.get("BatchSize"),
                    "filters": [
                        f["Pattern"] for f in m.get("FilterCriteria", {}).get("Filters", [])
                    ],
                    "response_types": m.get("FunctionResponseTypes", []),
                }
                for m in mappings["EventSourceMappings"]
            ],
            "rules": [
                {
                    "name": rule["Name"],
                    "arn": rule["Arn"],
                    "schedule": rule.get("ScheduleExpression"),
                    "pattern": rule.get("EventPattern"),
                    "state": rule.get("State"),
                }
                for rule in rules
            ],
        }
    schedules = []
    if by_type.get("AWS::Scheduler::Schedule"):
        scheduler = c("scheduler")
        for r in by_type["AWS::Scheduler::Schedule"]:
            s = scheduler.get_schedule(Name=r["PhysicalResourceId"])
            schedules.append(
                {
                    "name": s["Name"],
                    "expression": s["ScheduleExpression"],
                    "target": s["Target"]["Arn"],
                    "input": s["Target"].get("Input"),
                }
            )
    apis = []
    gateway = c("apigatewayv2")
    for r in by_type.get("AWS::ApiGatewayV2::Api", []):
        api_id = r["PhysicalResourceId"]
        apis.append(
            {
                "id": api_id,
                "stages": [s["StageName"] for s in gateway.get_stages(ApiId=api_id)["Items"]],
                "routes": [
                    {"key": route["RouteKey"], "target": route.get("Target")}
                    for route in gateway.get_routes(ApiId=api_id)["Items"]
                ],
                "integrations": [
                    {
                        "id": i["IntegrationId"],
                        "uri": i.get("IntegrationUri"),
                        "payload_format": i.get("PayloadFormatVersion"),
                    }
                    for i in gateway.get_integrations(ApiId=api_id)["Items"]
                ],
            }
        )
    ecs = c("ecs")
    tasks = {}
    for r in by_type.get("AWS::ECS::TaskDefinition", []):
        task = ecs.describe_task_definition(taskDefinition=r["PhysicalResourceId"])["taskDefinition"]
        tasks[r["LogicalResourceId"]] = {
            "arn": task["taskDefinitionArn"],
            "task_role": task.get("taskRoleArn"),
            "execution_role": task.get("executionRoleArn"),
            "containers": [
                {
                    "name": container["name"],
                    "environment": {e["name"]: e["value"] for e in container.get("environment", [])},
                    # What ECS reads with the execution role into the environment.
                    "secrets": {s["name"]: s["valueFrom"] for s in container.get("secrets", [])},
                    "log_configuration": container.get("logConfiguration"),
                    "health_check": container.get("healthCheck"),
                }
                for container in task["containerDefinitions"]
            ],
        }
    services = {"MediaService": describe_services(endpoint, stack)} if by_type.get("AWS::ECS::Service") else {}
    for logical, service in services.items():
        # What every update sets the count to (moto re-applies no unchanged
        # definition, so an update here cannot show it; CloudFormation does).
        service["declared_desired_count"] = cfn_template["Resources"][logical]["Properties"].get("DesiredCount")
    logs = c("logs")
    log_groups = {
        g["logGroupName"]: g.get("retentionInDays")
        for page in logs.get_paginator("describe_log_groups").paginate()
        for g in page["logGroups"]
    }
    alarms = [
        {
            "name": a["AlarmName"],
            "namespace": a.get("Namespace"),
            "metric": a.get("MetricName"),
            "dimensions": {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
            "actions": a.get("AlarmActions", []),
        }
        for a in c("cloudwatch").describe_alarms()["MetricAlarms"]
        if any(a["AlarmName"] == r["PhysicalResourceId"] for r in by_type.get("AWS::CloudWatch::Alarm", []))
    ]
    topics = {}
    sns = c("sns")
    for r in by_type.get("AWS::SNS::Topic", []):
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=r["PhysicalResourceId"])["Subscriptions"]
        topics[r["PhysicalResourceId"]] = [
            {"protocol": s["Protocol"], "endpoint": s["Endpoint"]} for s in subscriptions
        ]
    # What moto skipped (it warns): read from the translated template, resolved.
    pseudo = {"AWS::Region": REGION, "AWS::StackName": stack, "AWS::Partition": "aws",
              "AWS::AccountId": "123456789012", "AWS::URLSuffix": "amazonaws.com"}
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    attributes = {(logical, "Arn"): f["arn"] for logical, f in functions.items()}
    not_emulated = {
        logical: {
            "type": resource["Type"],
            "properties": resolve(resource.get("Properties", {}), {**pseudo, **values}, physical, attributes),
        }
        for logical, resource in cfn_template["Resources"].items()
        if logical not in physical
    }
    ec2 = c("ec2")
    security_groups = {}
    for r in by_type.get("AWS::EC2::SecurityGroup", []):
        group = ec2.describe_security_groups(GroupIds=[r["PhysicalResourceId"]])["SecurityGroups"][0]
        security_groups[r["LogicalResourceId"]] = {
            "id": group["GroupId"],
            "ingress": [
                {
                    "protocol": rule["IpProtocol"],
                    "from_port": rule.get("FromPort"),
                    "to_port": rule.get("ToPort"),
                    "cidrs": [block["CidrIp"] for block in rule.get("IpRanges", [])],
                    "groups": [pair["GroupId"] for pair in rule.get("UserIdGroupPairs", [])],
                }
                for rule in group.get("IpPermissions", [])
            ],
        }
    secrets = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in by_type.get("AWS::SecretsManager::Secret", [])
    }
    roles = {}
    for r in by_type.get("AWS::IAM::Role", []):
        role = iam.get_role(RoleName=r["PhysicalResourceId"])["Role"]
        roles[role["Arn"]] = r["LogicalResourceId"]
    return {
        "stack": stack,
        "outputs": outputs,
        "resources": {r["LogicalResourceId"]: {"type": r["ResourceType"], "id": r["PhysicalResourceId"]} for r in resources},
        "functions": functions,
        "schedules": schedules,
        "http_apis": apis,
        "task_definitions": tasks,
        "services": services,
        "log_groups": log_groups,
        "alarms": alarms,
        "topics": topics,
        "roles": roles,
        "security_groups": security_groups,
        "secrets": secrets,
        "not_emulated": not_emulated,
    }


def assume_roles(endpoint, roles):
    """Credentials of each role, as the Lambda and ECS services get them."""
    sts = client(endpoint, "sts")
    credentials = {}
    for arn, logical in roles.items():
        out = sts.assume_role(RoleArn=arn, RoleSessionName=f"deployment-test-{logical}"[:64])
        credentials[arn] = {
            "AccessKeyId": out["Credentials"]["AccessKeyId"],
            "SecretAccessKey": out["Credentials"]["SecretAccessKey"],
            "SessionToken": out["Credentials"]["SessionToken"],
        }
    return credentials


def deployer(endpoint):
    """An administrator, the operator's own access for everything the test does as AWS."""
    iam = client(endpoint, "iam")
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer",
        PolicyName="administrator",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stage", action="append", default=[])
    parser.add_argument("--update-stage")
    parser.add_argument("--scale-media-service", type=int)
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--code-dir", default=os.path.join(ROOT, "target", "lambda"))
    args = parser.parse_args()
    given = dict(p.split("=", 1) for p in args.param)
    with open(TEMPLATE) as f:
        template = json.load(f)

    set_auth(args.endpoint, "inf")
    packaged = package(args.endpoint, template, args.code_dir)
    if args.update_stage:
        stack = f"teleconf-{args.update_stage}"
        cfn = client(args.endpoint, "cloudformation")
        current = {
            p["ParameterKey"]: p.get("ParameterValue")
            for p in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
        }
        # The network the script made; every other value as given again (an SSM
        # parameter's resolved value is not what the stack was given).
        values = parameters_for(args.update_stage, given, current["MediaVpc"], current["MediaSubnets"].split(","))
        if args.scale_media_service is not None:
            # What Application Auto Scaling does between two deployments.
            service = describe_services(args.endpoint, stack)
            client(args.endpoint, "ecs").update_service(
                cluster=service["cluster"],
                service=service["name"],
                desiredCount=args.scale_media_service,
            )
        log(f"translating and updating {stack}")
        cfn_template = translate(packaged, values)
        apply(args.endpoint, stack, cfn_template, values, "update")
        description = describe(args.endpoint, stack, packaged, cfn_template, values)
        set_auth(args.endpoint, 0)
        json.dump(description, sys.stdout, indent=1)
        return
    vpc, subnets = network(args.endpoint)
    stacks = []
    for stage in args.stage:
        stack = f"teleconf-{stage}"
        values = parameters_for(stage, given, vpc, subnets)
        log(f"translating and creating {stack}")
        cfn_template = translate(packaged, values)
        apply(args.endpoint, stack, cfn_template, values, "create")
        stacks.append(describe(args.endpoint, stack, packaged, cfn_template, values))
    roles = {arn: logical for s in stacks for arn, logical in s["roles"].items()}
    credentials = assume_roles(args.endpoint, roles)
    admin = deployer(args.endpoint)
    set_auth(args.endpoint, 0)
    log("IAM enforced from now on")
    json.dump(
        {"stacks": stacks, "role_credentials": credentials, "deployer": admin},
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
