"""OpenAI Events API connector: Tealium data in, OpenAI conversion events out.

The package has three layers and one module that joins them; a newcomer reads them in this order:

- `core/`: pure functions and data, tested without a network: settings, the actions document,
  Tealium payloads, mapping, normalization, money, the OpenAI wire format (`core/wire/`), request
  packing, the pipeline from payload to wire event, the queue message format, redaction, errors,
  the types that flow between the layers (`core/types.py`) and the ports the services take
  their adapters through (`core/ports.py`).
- `adapters/`: the outside world: the urllib3 client for OpenAI, SQS, Secrets Manager, the SSM
  actions parameter, tracing, metrics and logging, and the SQS side of redrive.
- `services/`: the use cases: delivery (`Sender`, the one send path), ingest and the batch sender.
- `wiring.py` builds the services from the settings with real adapters; `cli.py` is the
  operator's command line (`python -m connector`), `cli_trail.py` its event-trail commands.

The dependency rule (tests/unit/test_layers.py enforces it by reading every module's imports):
core imports nothing from adapters, services, wiring or cli, and no boto3, botocore, urllib3 or
aws_lambda_powertools; adapters import the core, never services, wiring or cli; services import
the core and one another (ingest and the batch sender share delivery's `Sender`), never an
adapter, wiring, cli or those libraries: what they need of an adapter is its interface, a port in
`core/ports.py`, and wiring.py passes the real adapter in (tests pass fakes).
"""
