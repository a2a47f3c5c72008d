"""A recorder as a module, for commands that load plugins by name (``HUB_PLUGINS``)."""

from tests.plugins.recorder import Recorder

_recorder = Recorder()
on_contact = _recorder.on_contact
scheduled = _recorder.scheduled
settings_model = _recorder.settings_model
