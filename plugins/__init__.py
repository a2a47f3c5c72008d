"""Ledgerline's built-in plugins. Each is found through the ``hub.plugins`` entry point, as a
third party's would be, and meets the others only through the hub's hooks."""
