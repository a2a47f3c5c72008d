"""The web face: the Flask app, the host API, its one front door for events, the OpenAPI
document and the HTTP server. The operator's pages are the sibling package ``hub.ui``."""
