"""Views the interoperability tests drive. There is no CSRF middleware:
the tests post from a Go client."""
import json

from django.contrib.auth import authenticate, login
from django.contrib.sessions.models import Session
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_GET, require_POST


@require_GET
def ready(request):
    return HttpResponse("ok")


@require_POST
def set_values(request):
    """Stores one value of each kind JSON carries."""
    request.session["text"] = "h\u00e9llo"
    request.session["count"] = 42
    request.session["list"] = [1, "two", [3.5, None]]
    request.session["dict"] = {"a": 1, "b": [True, False]}
    return HttpResponse(status=204)


@require_POST
def login_view(request):
    """Logs in with django.contrib.auth: body {"username": ..., "password": ...}."""
    body = json.loads(request.body)
    user = authenticate(request, username=body["username"], password=body["password"])
    if user is None:
        return HttpResponseForbidden("bad credentials")
    login(request, user)
    return HttpResponse(status=204)


@require_GET
def dump(request):
    """The session's keys and values, and who Django's auth says is logged in
    (reading request.user checks _auth_user_hash and flushes a session
    whose hash does not match)."""
    user = request.user.get_username() if request.user.is_authenticated else None
    return JsonResponse({"session": dict(request.session.items()), "user": user})


@require_POST
def set_expiry(request):
    """Stores "from_django" and calls request.session.set_expiry with the
    body's {"expiry": seconds} (0: until the browser closes)."""
    request.session["from_django"] = True
    request.session.set_expiry(json.loads(request.body)["expiry"])
    return HttpResponse(status=204)


@require_GET
def expiry(request):
    """The session's keys and values, its expiry as Django tells it, and its
    row's expire_date (null when Django found no live row)."""
    session = dict(request.session.items())
    key = request.session.session_key
    row = Session.objects.filter(session_key=key).first() if key else None
    return JsonResponse({
        "session": session,
        "age": request.session.get_expiry_age(),
        "browser_close": request.session.get_expire_at_browser_close(),
        "date": request.session.get_expiry_date().isoformat(),
        "expire_date": row.expire_date.isoformat() if row else None,
    })
