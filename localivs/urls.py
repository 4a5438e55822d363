from django.urls import re_path

from localivs import control, views

urlpatterns = [
    # The same path IVS uses: /api/video/v1/<region>.<account>.channel.<channel id>.m3u8
    re_path(
        r"^api/video/v1/(?P<region>[a-z0-9-]+)\.(?P<account>\d{12})\.channel\.(?P<channel_id>[A-Za-z0-9-]+)\.m3u8$",
        views.multivariant,
        name="localivs-multivariant",
    ),
    re_path(
        r"^s/(?P<session_id>[A-Za-z0-9_-]{1,32})/(?P<rendition>[a-z0-9]{1,16})\.m3u8$",
        views.variant,
        name="localivs-variant",
    ),
    re_path(
        r"^s/(?P<session_id>[A-Za-z0-9_-]{1,32})/(?P<rendition>[a-z0-9]{1,16})/(?P<sequence>\d{1,12})\.ts$",
        views.segment,
        name="localivs-segment",
    ),
    # The IVS control plane: POST /<Operation>, as boto3 sends it with endpoint_url=<site>/ivs.
    re_path(r"^(?P<name>[A-Za-z]{1,64})$", control.operation, name="localivs-control"),
]
