"""Ledgerline's built-in plugins: QuickBooks, review requests and the booking gate.

Each is found through the ``hub.plugins`` entry point, as a third party's would be, and meets
the others and the core only through the hub's hooks and its ``Context``. They live under the
hub's own import name so that installing the hub adds no generic top-level package; nothing in
the core imports from here.
"""
