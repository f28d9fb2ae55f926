from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chat import services
from chat.context import OBJECT_SALT
from chat.decorators import login_required
from chat.types import HtmxHttpRequest
from chat.views.responses import see_other


@require_POST
@login_required
def object_room_start(request: HtmxHttpRequest) -> HttpResponse:
    """Start the room of an object ({% chat_room_for obj %} shows the form
    while it has none). The object comes signed by the page that showed it,
    so no one can open rooms for objects they were never shown."""
    try:
        content_type_id, object_id = signing.loads(
            request.POST.get("object", ""), salt=OBJECT_SALT
        )
        content_type = ContentType.objects.get_for_id(content_type_id)
        obj = content_type.get_object_for_this_type(pk=object_id)
    except (signing.BadSignature, ValueError, TypeError, ObjectDoesNotExist) as e:
        raise Http404("No such object.") from e
    services.room_for_object(obj=obj, created_by=request.user)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    return see_other(back)
