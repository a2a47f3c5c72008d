"""The operator's settings UI: server-rendered pages for signing in, the integrations and their
settings, the activity log, and (with the QuickBooks sync) the money report.

``create_app`` registers ``bp``; importing the view modules below attaches their routes to it.
"""

from hub.ui import views_activity, views_auth, views_integrations
from hub.ui.blueprint import bp

__all__ = ["bp", "views_activity", "views_auth", "views_integrations"]
