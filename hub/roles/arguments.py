"""The checks on the command line's arguments: ports, delivery numbers, listening addresses and
event ids.

Separate so the commands that take the same kind of argument (``serve`` and ``web`` a port and
an address; ``events show`` and ``events retry`` an event id) share one check and one wording.
"""

from __future__ import annotations

import ipaddress
import re

import click

from hub.bounds import shown

# Checked before anything runs, as click's usage errors (exit 2): a value no command could use
# is a sentence naming the fix, never a traceback from deep inside (a lone surrogate, which a
# shell passes for bytes that are not UTF-8, fails the moment it reaches the database).

PORT = click.IntRange(1, 65535)
# A delivery's number: a positive 64-bit integer, as the database keeps it.
DELIVERY = click.IntRange(1, 2**63 - 1)
# An event id as the host sends it (hub.events.ExternalId): printable ASCII, no spaces.
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,255}")


def check_address(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """``--host``: the server listens on an IP address; a name is not looked up."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise click.BadParameter(f"{shown(value)} is not an IP address: give 127.0.0.1 (this "
                                 "machine only) or 0.0.0.0 (every interface)") from None
    return value


def check_event_id(_ctx: click.Context, _param: click.Parameter,
                   value: str | None) -> str | None:
    if value is None or _EVENT_ID.fullmatch(value):
        return value
    raise click.BadParameter(f"{shown(value)} is not an event id: the host's ids are 1 to 255 "
                             "printable ASCII characters without spaces (see `hub events "
                             "failed`)")
