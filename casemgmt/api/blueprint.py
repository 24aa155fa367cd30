"""The API's Blueprint: flask-smorest's, with argument schemas made once."""
from __future__ import annotations

import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, handing webargs schema instances: given a schema class, webargs
    makes a new instance on every request it parses (webargs.core.Parser._get_schema)."""

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
