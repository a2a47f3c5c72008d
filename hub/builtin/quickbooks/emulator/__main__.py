"""Run the emulator: python -m hub.builtin.quickbooks.emulator [--host H] [--port P]
[--state FILE]."""

from .cli import command

if __name__ == "__main__":
    command(prog_name="python -m hub.builtin.quickbooks.emulator")
