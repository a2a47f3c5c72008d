"""A stateful QuickBooks Online emulator: OAuth 2.0, Accounting API v3, webhooks, faults on command.

Run it with ``python -m hub.builtin.quickbooks.emulator`` or start one in-process with
:func:`hub.builtin.quickbooks.emulator.testing.start_emulator`. See docs/emulator.md.
"""
