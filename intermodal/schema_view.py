"""GET /api/schema/: the OpenAPI schema, made once per process for each language, version and format.

It is the same for every caller (drf-spectacular's public schema, read without a key) and changes only with the
code, yet drf-spectacular makes it at every request: 0.15 s to generate and 0.16-0.3 s to write out as YAML once
warm, 0.7 s at a process's first - for a route anyone may call, and that Swagger UI (/api/docs/) reads at each
visit. Kept in memory: about 0.5 MB as YAML and 1 MB as JSON for each language asked.

Its own module: intermodal.schema is read by DRF's settings, which drf_spectacular.views reads as it loads."""

import threading

from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    _made: dict[tuple, tuple[bytes, str, str]] = {}
    _lock = threading.Lock()

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (translation.get_language(), version, request.accepted_media_type)
        made = self._made.get(key)
        if made is None:
            response = super()._get_schema_response(request)
            renderer = request.accepted_renderer
            content = renderer.render(response.data, request.accepted_media_type, self.get_renderer_context())
            content_type = (f"{request.accepted_media_type}; charset={renderer.charset}" if renderer.charset
                            else request.accepted_media_type)
            made = (content, content_type, response.headers["Content-Disposition"])
            with self._lock:
                self._made[key] = made
        content, content_type, disposition = made
        return HttpResponse(content, content_type=content_type, headers={"Content-Disposition": disposition})
