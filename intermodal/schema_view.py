"""GET /api/schema/, made once per process for each language, version and format: the same for every caller (the
public schema) until the code changes, and drf-spectacular made it at every request, 0.3-0.7 s of CPU on an open
route. Its own module: drf_spectacular.views reads DRF's settings, which name intermodal.schema."""

from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    _made: dict[tuple, tuple[bytes, str, str]] = {}

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
            # Two threads may both make it: the same bytes, and one dict assignment each.
            made = self._made[key] = (content, content_type, response.headers["Content-Disposition"])
        content, content_type, disposition = made
        return HttpResponse(content, content_type=content_type, headers={"Content-Disposition": disposition})
