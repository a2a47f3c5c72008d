"""`python -m hub.builtin.quickbooks.emulator` and the click command the hub mounts as
`hub quickbooks emulator`."""

from __future__ import annotations

import signal
import threading

import click

from .server import RunningServer, prepare_state
from .state import Config
from .throttle import Limits


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=9000, show_default=True, type=int, help="Port (0 picks a free one)."
)
@click.option(
    "--state",
    "state_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="JSON file the companies and tokens persist to (written atomically).",
)
@click.option("--client-id", default=Config.client_id, show_default=True)
@click.option("--client-secret", default=Config.client_secret, show_default=True)
@click.option(
    "--verifier-token",
    default=Config.verifier_token,
    show_default=True,
    help="Webhook verifier token (signs intuit-signature).",
)
@click.option("--webhook-url", default=None, help="Where changes are announced.")
@click.option(
    "--webhook-format",
    type=click.Choice(["cloudevents", "legacy"]),
    default="cloudevents",
    show_default=True,
)
@click.option(
    "--retry-scale",
    default=1.0,
    show_default=True,
    type=float,
    help="Multiply Intuit's webhook retry schedule (0.01 = 100x faster).",
)
@click.option("--requests-per-minute", default=500, show_default=True, type=int)
@click.option("--concurrent", default=10, show_default=True, type=int)
@click.option("--batch-per-minute", default=40, show_default=True, type=int)
def command(
    host: str,
    port: int,
    state_file: str | None,
    client_id: str,
    client_secret: str,
    verifier_token: str,
    webhook_url: str | None,
    webhook_format: str,
    retry_scale: float,
    requests_per_minute: int,
    concurrent: int,
    batch_per_minute: int,
) -> None:
    """Run the QuickBooks Online emulator until interrupted."""
    config = Config(
        client_id=client_id,
        client_secret=client_secret,
        verifier_token=verifier_token,
        webhook_url=webhook_url,
        webhook_format=webhook_format,
        retry_scale=retry_scale,
        limits=Limits(requests_per_minute, concurrent, batch_per_minute),
    )
    server = RunningServer(prepare_state(config, state_file), host, port)
    click.echo(f"QuickBooks Online emulator on {server.state.base_url}")
    click.echo(f"  discovery  {server.state.base_url}/.well-known/openid_configuration")
    click.echo(f"  API base   {server.state.base_url}/v3")
    click.echo(f"  client id  {client_id}")
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    server.start()
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("emulator stopped", err=True)
