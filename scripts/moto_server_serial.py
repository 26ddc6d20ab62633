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

Same arguments as `moto_server` (-H HOST -p PORT); started by scripts/emulator.sh.
"""

import argparse
import json
import os
import signal
import sys
import threading

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


def serial_dynamodb(app):
    lock = threading.Lock()

    def wrapped(environ, start_response):
        alone = environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET) or environ.get(
            "PATH_INFO", ""
        ).startswith("/moto-api/data.json")
        if alone:
            with lock:
                # Materialise the body inside the lock: moto builds it eagerly anyway.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    MotoAPIResponse.model_data = model_data
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
