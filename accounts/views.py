from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts import avatars, preferences, services, throttle
from accounts.forms import AvatarForm, SettingsForm, SignupForm
from accounts.models import NameSkeleton, Profile, avatar_path
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


@require_http_methods(["GET", "HEAD", "POST"])
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
                held = NameSkeleton.objects.filter(
                    user=user, kind=NameSkeleton.Kind.USERNAME
                )
                if not held.exists():
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


def _settings_page(
    request: HtmxHttpRequest,
    *,
    status: int = 200,
    settings_form: SettingsForm | None = None,
    avatar_form: AvatarForm | None = None,
    password_form: PasswordChangeForm | None = None,
) -> HttpResponse:
    """The settings page, every form on it; the one just posted bound, with
    its errors (then 400)."""
    user = request.user
    profile = services.profile_get(user=user)
    if settings_form is None:
        settings_form = SettingsForm(
            initial={
                "display_name": profile.display_name,
                "language": profile.language,
                "time_zone": profile.time_zone,
                "read_receipts": profile.read_receipts,
            }
        )
    context = {
        "form": settings_form,
        "avatar_form": avatar_form or AvatarForm(),
        "password_form": password_form or PasswordChangeForm(user),
        "has_avatar": bool(profile.avatar),
    }
    user.profile = profile  # the avatar tag asks nothing more
    return render(request, "accounts/settings.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def settings_view(request: HtmxHttpRequest) -> HttpResponse:
    """Display name, language, time zone, read receipts: 303 once saved."""
    if request.method != "POST":  # GET or HEAD
        return _settings_page(request)
    # An unchecked box sends nothing: an empty POST is still a bound form.
    form = SettingsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            profile = services.profile_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:  # a look-alike name taken meanwhile
            form.add_error("display_name", error)
            return _settings_page(request, status=400, settings_form=form)
        preferences.remember(request, profile)
        if profile.language:
            # The message below, and the next page, in the new language.
            translation.activate(profile.language)
        flash.success(request, _("Settings saved."))
        return see_other("accounts:settings")
    return _settings_page(request, status=400, settings_form=form)


@require_POST
@login_required
def avatar_upload(request: HtmxHttpRequest) -> HttpResponse:
    form = AvatarForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.avatar_set(user=request.user, upload=form.cleaned_data["avatar"])
        except ValidationError as error:
            form.add_error("avatar", error)
        else:
            flash.success(request, _("Picture saved."))
            return see_other("accounts:settings")
    return _settings_page(request, status=400, avatar_form=form)


@require_POST
@login_required
def avatar_remove(request: HtmxHttpRequest) -> HttpResponse:
    services.avatar_remove(user=request.user)
    flash.success(request, _("Picture removed."))
    return see_other("accounts:settings")


@require_POST
@login_required
def password_change(request: HtmxHttpRequest) -> HttpResponse:
    """Django's PasswordChangeForm; this session stays logged in, the user's
    other sessions end."""
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        services.password_change(
            user=request.user, new_password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, request.user)
        flash.success(request, _("Password changed."))
        return see_other("accounts:settings")
    return _settings_page(request, status=400, password_form=form)


# The name changes with each upload: a year, and never revalidated.
_AVATAR_CACHE = "private, max-age=31536000, immutable"


@require_safe
@login_required
def avatar(request: HtmxHttpRequest, user_id: int, name: str) -> HttpResponse:
    """A user's current avatar, to any logged-in user; 404 for any other
    name (an old one included)."""
    stored = avatar_path(Profile(user_id=user_id), name)
    if not Profile.objects.filter(user_id=user_id, avatar=stored).exists():
        raise Http404
    try:
        handle = default_storage.open(stored, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=avatars.CONTENT_TYPE)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # An image opened by itself runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = _AVATAR_CACHE
    return response
