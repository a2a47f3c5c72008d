"""The operator's settings UI: server-rendered pages for signing in, the integrations and their
settings, the activity log, and (with the QuickBooks sync) the money report.

``create_app`` registers ``bp``; importing the view modules below attaches their routes to it.
A plugin whose ``ui_card`` has buttons guards the routes behind them with ``operator_only`` and
puts ``csrf_field()`` in its forms, and shows an instant with ``when`` ("2 minutes ago", the exact
time on hover), as the UI's pages do. Its routes reach the hub through
``plugin_context(name)``, the same ``Context`` its hooks are handed.
"""

from hub.ui import views_activity, views_auth, views_integrations, views_money
from hub.ui.blueprint import bp, operator_only, plugin_context, when
from hub.ui.csrf import exempt as csrf_exempt
from hub.ui.csrf import hidden_field as csrf_field

__all__ = ["bp", "csrf_exempt", "csrf_field", "operator_only", "plugin_context", "views_activity",
           "views_auth", "views_integrations", "views_money", "when"]
