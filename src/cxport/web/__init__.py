"""The HTTP front end: the REST API (`api.py`) on the service, built by `create_app`."""

from cxport.web.api import create_app

__all__ = ["create_app"]
