"""What a process of the hub runs as: ``hub serve`` (web, workers and clock) and the
command line around it."""
