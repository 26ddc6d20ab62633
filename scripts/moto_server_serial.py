"""moto's server, made faithful where the tests need it.

1. DynamoDB's writes are atomic, as DynamoDB's are.

moto's threaded server runs a conditional write's check and its write, and a
TransactWriteItems' conditions and writes, without a lock: two requests at once
can both pass a condition only one should (two owners removing each other at
once both succeed). DynamoDB serialises them; this wraps moto's WSGI app so that
every DynamoDB request runs alone (the rest of the emulator stays concurrent).
The state dump (`/moto-api/data.json`, where the tests read the mail SES kept)
runs alone too, so it never reads a table while a write changes it.

2. The state dump survives a model attribute that raises: an S3 object whose
bucket is gone raised NoSuchBucket from a property and the whole dump was a 500;
such an attribute is now left out, as moto already leaves out those that do not
serialise.

3. A table keeps its stream across a cancelled transaction, as on DynamoDB.

moto's TransactWriteItems (DynamoDBBackend.transact_write_items in
moto/dynamodb/models/__init__.py) deep-copies every table it touches before it
writes, and when the transaction is cancelled (a condition fails: a 409 in the API)
it puts the copies in the tables' place. A copy has its own stream shard, with the
same id: an iterator taken before keeps reading the old shard, which never gets
another record, while new records go to the copy's (issue #13: the mailer's local
loop stopped sending). Here the restored table takes back the live shard, minus the
records of the writes the rollback undid, so every stream reader goes on.

4. IAM is enforced as AWS enforces it (only once enforcement is on: moto's
INITIAL_NO_AUTH_ACTION_COUNT, which the deployment test sets; the shared emulator
never turns it on):
- a role's inline policies, as CloudFormation creates them, are read as policies
  (moto kept the documents as dicts its policy reader could not take: every
  request of an assumed role was a 500);
- DynamoDB requests are checked against the table's ARN (`table/NAME`, or
  `table/NAME/index/INDEX` for an index's Query and Scan), where moto checked "*",
  which no statement scoped to a table matches; a TransactWriteItems is checked as
  DynamoDB checks it, each item's own action (PutItem, UpdateItem, DeleteItem,
  ConditionCheckItem) on its table, and BatchWriteItem/BatchGetItem and
  TransactGetItems on each table they touch;
- SES sends are checked against the sender's identity ARN (`identity/ADDRESS`),
  Secrets Manager calls against the secret's ARN.

5. CloudFormation keeps what a task definition says of its roles and network mode
(moto kept only the family, containers, volumes and memory: the media node's task
role was lost), and an update registers a new revision the same way.

6. CloudFormation creates AWS::SecretsManager::Secret (moto's lacks it: it skipped the
resource and dropped every reference to it), with GenerateSecretString as Secrets
Manager generates it.

7. A stack update keeps an Auto Scaling group and sets its sizes (moto's deleted the
group under a name it no longer had and failed the whole update).

8. A stream's event source mapping leaves the stream's records where they are: moto
"delivered" each new record to the function (it cannot run it: that needs Docker)
and then dropped them from the stream, so nothing could read them. The deployment
test plays the mapping itself: it reads the stream and invokes the function.

9. A TransactWriteItems is idempotent by its ClientRequestToken for ten minutes, as
on DynamoDB (moto ignored the token). The SDK sets one on every transaction and
keeps it across its retries: when an attempt times out after the emulator applied
it, the retry must answer the first answer, not fail its own conditions (a fresh
user's e-mail "already taken", a 409, on a loaded machine).

Same arguments as `moto_server` (-H HOST -p PORT); started by scripts/emulator.sh and
by the deployment test.
"""

import argparse
import io
import json
import os
import signal
import sys
import threading
import time

from werkzeug.serving import run_simple

from moto.moto_api._internal import urls as api_urls
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

DYNAMODB_TARGET = "DynamoDB_20120810."


def model_data(self, request, full_url, headers):
    """moto's MotoAPIResponse.model_data, skipping attributes that raise anything."""
    from moto.core.model_instances import model_data as tracked

    results = {}
    for service in sorted(tracked):
        models = tracked[service]
        results[service] = {}
        for name in sorted(models):
            results[service][name] = []
            for instance in list(models[name].instances_tracked):
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except Exception:  # noqa: BLE001 - any failing attribute is left out
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


def keep_streams_across_cancelled_transactions():
    """Wraps moto's transact_write_items (see 3. above)."""
    from moto.dynamodb.models import DynamoDBBackend

    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        live = {}
        for item in transact_items:
            _, op = next(iter(item.items()))
            name = op.get("TableName") if isinstance(op, dict) else None
            table = self.tables.get(name) if name else None
            if table is not None and table.stream_shard is not None:
                live[name] = (table, table.stream_shard, len(table.stream_shard.items))
        try:
            return transact(self, transact_items)
        finally:
            for name, (table, shard, length) in live.items():
                restored = self.tables.get(name)
                if restored is not None and restored is not table:
                    # The rollback undid the writes after `length`: their records go.
                    del shard.items[length:]
                    shard.table = restored
                    restored.stream_shard = shard

    DynamoDBBackend.transact_write_items = transact_write_items


IDEMPOTENCY_WINDOW_SECS = 600


def serial_dynamodb(app):
    """Every DynamoDB request alone (1.), and transactions idempotent by token (9.)."""
    lock = threading.Lock()
    # ClientRequestToken -> (when, the request's body, status, headers, body answered)
    answered = {}

    def idempotent_transaction(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            token = json.loads(body).get("ClientRequestToken")
        except ValueError:
            token = None
        now = time.monotonic()
        for old in [t for t, seen in answered.items() if now - seen[0] > IDEMPOTENCY_WINDOW_SECS]:
            del answered[old]
        if token in answered:
            _, request, status, headers, chunks = answered[token]
            if request != body:
                error = {
                    "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                    "message": "the token was used for another transaction",
                }
                start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
                return [json.dumps(error).encode()]
            start_response(status, headers)
            return chunks
        reply = {}

        def keep(status, headers, exc_info=None):
            reply["status"], reply["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        chunks = list(app(environ, keep))
        if token and reply.get("status", "").startswith("200"):
            answered[token] = (now, body, reply["status"], reply["headers"], chunks)
        return chunks

    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        alone = target.startswith(DYNAMODB_TARGET) or environ.get("PATH_INFO", "").startswith(
            "/moto-api/data.json"
        )
        if alone:
            with lock:
                if target == DYNAMODB_TARGET + "TransactWriteItems":
                    return idempotent_transaction(environ, start_response)
                # Materialise the body inside the lock: moto builds it eagerly anyway.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def dynamodb_checks(action, body, table_arn):
    """(IAM action, resource ARN) pairs a DynamoDB request needs, as DynamoDB checks them."""
    if action == "TransactWriteItems":
        return [
            (TRANSACT_ACTIONS[kind], table_arn(op["TableName"]))
            for item in body.get("TransactItems", [])
            for kind, op in item.items()
        ]
    if action == "TransactGetItems":
        return [
            ("GetItem", table_arn(item["Get"]["TableName"]))
            for item in body.get("TransactItems", [])
        ]
    if action in ("BatchWriteItem", "BatchGetItem"):
        return [(action, table_arn(table)) for table in body.get("RequestItems", {})]
    table = body.get("TableName")
    if not table:
        return [(action, "*")]
    resource = table_arn(table)
    if body.get("IndexName"):
        resource += f"/index/{body['IndexName']}"
    return [(action, resource)]


def enforce_iam_as_aws():
    from urllib.parse import urlparse

    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMRequest
    from moto.iam.models import Role
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.ses.responses import EmailResponse

    put_policy = Role.put_policy

    def put_policy_as_json(self, policy_name, policy_json):
        if not isinstance(policy_json, str):
            policy_json = json.dumps(policy_json)
        put_policy(self, policy_name, policy_json)

    Role.put_policy = put_policy_as_json

    def authorize_each(self, checks):
        """moto's _authenticate_and_authorize_action, once per (action, resource)."""
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return
        path = self.raw_path
        query = urlparse(self.uri).query
        if query:
            path += "?" + query
        for action, resource in checks:
            request = IAMRequest(
                account_id=self.current_account,
                method=self.method,
                path=path,
                data=self.data,
                body=self.raw_body,
                headers=self.headers,
                action=action,
            )
            request.check_signature()
            request.check_action_permitted(resource)

    def json_body(self):
        return self.body if isinstance(self.body, dict) else json.loads(self.body or "{}")

    def dynamodb(self, resource="*"):
        body = json_body(self)
        arn = lambda table: f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"  # noqa: E731
        authorize_each(self, dynamodb_checks(self._get_action(), body, arn))

    DynamoHandler._authenticate_and_authorize_normal_action = dynamodb

    def ses(self, resource="*"):
        source = self._get_param("Source")
        if source:
            address = source.rsplit("<", 1)[-1].rstrip(">").strip()
            resource = f"arn:aws:ses:{self.region}:{self.current_account}:identity/{address}"
        authorize_each(self, [(self._get_action(), resource)])

    EmailResponse._authenticate_and_authorize_normal_action = ses

    def secrets(self, resource="*"):
        secret = json_body(self).get("SecretId")
        if secret:
            if not secret.startswith("arn:"):
                from moto.secretsmanager.models import secretsmanager_backends

                backend = secretsmanager_backends[self.current_account][self.region]
                found = backend.secrets.get(secret)
                secret = found.arn if found else secret
            resource = secret
        authorize_each(self, [(self._get_action(), resource)])

    SecretsManagerResponse._authenticate_and_authorize_normal_action = secrets


def task_definitions_keep_their_roles():
    from moto.ecs.models import TaskDefinition, ecs_backends
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        return ecs_backends[account_id][region_name].register_task_definition(
            family=properties.get("Family", resource_name),
            container_definitions=remap_nested_keys(
                properties.get("ContainerDefinitions", []), pascal_to_camelcase
            ),
            volumes=remap_nested_keys(properties.get("Volumes", []), pascal_to_camelcase),
            network_mode=properties.get("NetworkMode"),
            cpu=properties.get("Cpu"),
            memory=properties.get("Memory"),
            task_role_arn=properties.get("TaskRoleArn"),
            execution_role_arn=properties.get("ExecutionRoleArn"),
        )

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # A changed task definition is a new revision, as on ECS.
        return create(cls, new_resource_name, cloudformation_json, account_id, region_name)

    TaskDefinition.create_from_cloudformation_json = classmethod(create)
    TaskDefinition.update_from_cloudformation_json = classmethod(update)


def secrets_in_cloudformation():
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    class CloudFormationSecret(CloudFormationModel):
        # moto's model registry files a model under the service its module names.
        __module__ = "moto.secretsmanager.models"

        def __init__(self, arn, name):
            self.arn = arn
            self.name = name

        @property
        def physical_resource_id(self):
            return self.arn

        @staticmethod
        def cloudformation_type():
            return "AWS::SecretsManager::Secret"

        @staticmethod
        def cloudformation_name_type():
            return "Name"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr in ("Id",)

        def get_cfn_attribute(self, attribute_name):
            return self.arn

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            properties = cloudformation_json.get("Properties", {})
            backend = secretsmanager_backends[account_id][region_name]
            secret = properties.get("SecretString")
            generate = properties.get("GenerateSecretString")
            if generate is not None:
                generated = json.loads(
                    backend.get_random_password(
                        password_length=int(generate.get("PasswordLength", 32)),
                        exclude_characters=generate.get("ExcludeCharacters", ""),
                        exclude_numbers=bool(generate.get("ExcludeNumbers", False)),
                        exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
                        exclude_uppercase=bool(generate.get("ExcludeUppercase", False)),
                        exclude_lowercase=bool(generate.get("ExcludeLowercase", False)),
                        include_space=bool(generate.get("IncludeSpace", False)),
                        require_each_included_type=bool(
                            generate.get("RequireEachIncludedType", True)
                        ),
                    )
                )["RandomPassword"]
                template = generate.get("SecretStringTemplate")
                if template:
                    document = json.loads(template)
                    document[generate["GenerateStringKey"]] = generated
                    secret = json.dumps(document)
                else:
                    secret = generated
            name = properties.get("Name", resource_name)
            created = json.loads(
                backend.create_secret(
                    name=name,
                    secret_string=secret,
                    secret_binary=None,
                    description=properties.get("Description"),
                    tags=properties.get("Tags"),
                    kms_key_id=properties.get("KmsKeyId"),
                    client_request_token=None,
                    replica_regions=[],
                    force_overwrite=False,
                )
            )
            return cls(created["ARN"], name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name, cloudformation_json, account_id, region_name
        ):
            backend = secretsmanager_backends[account_id][region_name]
            backend.delete_secret(resource_name, None, True)

    return CloudFormationSecret


def auto_scaling_groups_update_in_place():
    from moto.autoscaling.models import FakeAutoScalingGroup

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = cloudformation_json["Properties"]
        original_resource.min_size = int(properties.get("MinSize", original_resource.min_size))
        original_resource.max_size = int(properties.get("MaxSize", original_resource.max_size))
        return original_resource

    FakeAutoScalingGroup.update_from_cloudformation_json = classmethod(update)


def streams_keep_their_records():
    from moto.awslambda.models import LambdaBackend

    def deliver_nothing(self, function_arn, items, source):
        return None

    LambdaBackend.send_dynamodb_items = deliver_nothing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    MotoAPIResponse.model_data = model_data
    enforce_iam_as_aws()
    task_definitions_keep_their_roles()
    secrets_in_cloudformation()
    auto_scaling_groups_update_in_place()
    streams_keep_their_records()
    keep_streams_across_cancelled_transactions()
    # The URL map binds its handlers when imported: bind the dump again.
    api_urls.url_paths["{0}/moto-api/data.json"] = api_urls.response_instance.model_data
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        serial_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
