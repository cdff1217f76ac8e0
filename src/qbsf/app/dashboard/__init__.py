"""The local dashboard: status lights, actions, activity, mappings, timestamps, settings and the Live Log.

Served by the connector on 127.0.0.1 and protected by a token printed at startup (``/?token=…`` sets a cookie).
Every form works without JavaScript (POST, then redirect back with a notice); ``static/app.js`` adds the confirm
modal, in-place refresh and the Live Log stream (Server-Sent Events).
"""

from qbsf.app.dashboard.app import Dashboard, create_app, dashboard_url

__all__ = ["Dashboard", "create_app", "dashboard_url"]
