from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services, throttle
from accounts.forms import SettingsForm, SignupForm
from accounts.models import UsernameSkeleton
from chat.decorators import login_required
from chat.ratelimit import retry_after
from chat.types import HtmxHttpRequest
from chat.views.responses import see_other


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form) -> HttpResponse:
        if throttle.is_throttled(self.request):
            response = render(
                self.request,
                "accounts/locked_out.html",
                {"address_throttled": True},
                status=429,
            )
            rate = settings.ACCOUNTS_LOGIN_ADDRESS_RATE
            response["Retry-After"] = str(retry_after(rate))
            return response
        return super().form_invalid(form)


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:room_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                # The post_save signal recorded the name's skeleton, unless a
                # look-alike signed up since the form's check: undo.
                if not UsernameSkeleton.objects.filter(user=user).exists():
                    raise IntegrityError("a look-alike username was taken")
        except IntegrityError:  # that, or the very same name
            form.add_error("username", form.error_messages["similar_username"])
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            response = redirect("chat:room_list")
            response.status_code = 303
            return response
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def settings_view(request: HtmxHttpRequest) -> HttpResponse:
    """The user's settings (read receipts), a plain form: 303 once saved."""
    profile = services.profile_get(user=request.user)
    # An unchecked box sends nothing: an empty POST is still a bound form.
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"read_receipts": profile.read_receipts},
    )
    if request.method == "POST" and form.is_valid():
        services.profile_update(
            user=request.user, read_receipts=form.cleaned_data["read_receipts"]
        )
        flash.success(request, _("Settings saved."))
        return see_other("accounts:settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/settings.html", {"form": form}, status=status)
