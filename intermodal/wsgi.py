import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")
application = get_wsgi_application()

# After Django is set up: the query parameters of every API route, from the OpenAPI schema.
from intermodal import query_parameters  # noqa: E402

query_parameters.load()

# What is loaded now lives as long as the worker: out of the garbage collector's way (intermodal/heap.py).
from intermodal import heap  # noqa: E402

heap.settle()
