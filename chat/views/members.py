from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chat import selectors, services
from chat.decorators import login_required
from chat.forms import MemberForm
from chat.types import HtmxHttpRequest
from chat.views.responses import see_other
from chat.views.rooms import render_room


@require_POST
@login_required
def member_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Add a member by username. Who may is the service's rule (403 with its
    reason otherwise: a direct conversation never gains a third person)."""
    room = selectors.room_get(slug=slug, user=request.user)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            member = services.room_member_add(
                room=room, added_by=request.user, username=form.cleaned_data["username"]
            )
        except ValidationError as error:
            form.add_error("username", error)
        else:
            flash.success(
                request,
                _("%(name)s can now join this room.") % {"name": member.get_username()},
            )
            return see_other(room)
    return render_room(request, room, member_form=form, status=400)
