"""The plugin system: the hook specifications, finding and registering plugins, their stored
switch and settings, the calls into them, the ``Context`` they are handed, and scheduled jobs."""
