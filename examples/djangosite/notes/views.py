import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator

from django.core.handlers.asgi import ASGIRequest
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from notes.forms import NoteForm
from notes.models import Note

HOME_LIMIT = 50
STREAM_MAX_CHUNKS = 1000
# Request headers /echo/ never reflects back: credentials.
ECHO_HIDDEN_HEADERS = {"cookie", "authorization", "proxy-authorization"}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The latest notes, rendered from a template."""
    notes = Note.objects.all()[:HOME_LIMIT]
    return render(request, "notes/home.html", {"notes": notes})


@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One note; the site's 404 page when it does not exist."""
    note = get_object_or_404(Note, pk=pk)
    return render(request, "notes/detail.html", {"note": note})


def create(request: HttpRequest) -> HttpResponse:
    """An HTML form (CSRF-protected) that creates a note and redirects to it."""
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            note = form.save()
            return redirect(note)
    elif request.method in ("GET", "HEAD"):
        form = NoteForm()
    else:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    return render(request, "notes/form.html", {"form": form})


@csrf_exempt
def api_notes(request: HttpRequest) -> HttpResponse:
    """JSON API: GET lists notes, POST creates one from a JSON object."""
    if request.method in ("GET", "HEAD"):
        return JsonResponse({"notes": [note.as_dict() for note in Note.objects.all()]})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return JsonResponse({"error": f"invalid JSON: {exc}"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"error": "expected a JSON object"}, status=400)
    form = NoteForm(data)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse(form.save().as_dict(), status=201)


@csrf_exempt
def echo(request: HttpRequest) -> JsonResponse:
    """What the application saw of the request, for server tests."""
    body = request.body
    return JsonResponse(
        {
            "handler": type(request).__name__,
            "method": request.method,
            "path": request.path,
            "path_info": request.path_info,
            "script_name": request.META.get("SCRIPT_NAME", ""),
            "query_string": request.META.get("QUERY_STRING", ""),
            "query": {key: request.GET.getlist(key) for key in request.GET},
            "content_length": request.META.get("CONTENT_LENGTH"),
            "content_type": request.content_type,
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "headers": {
                name.lower(): value
                for name, value in request.headers.items()
                if name.lower() not in ECHO_HIDDEN_HEADERS
            },
            "is_secure": request.is_secure(),
            "scheme": request.scheme,
            "host": request.get_host(),
            "remote_addr": request.META.get("REMOTE_ADDR"),
            "server_port": str(request.META.get("SERVER_PORT", "")),
        }
    )


def _chunks(count: int) -> Iterator[str]:
    for i in range(count):
        yield f"chunk {i}\n"


async def _async_chunks(count: int) -> AsyncIterator[str]:
    for i in range(count):
        yield f"chunk {i}\n"
        await asyncio.sleep(0)


@require_safe
def stream(request: HttpRequest) -> StreamingHttpResponse:
    """``?n=`` lines sent as a streamed response (no Content-Length)."""
    try:
        count = max(0, min(int(request.GET.get("n", "5")), STREAM_MAX_CHUNKS))
    except ValueError:
        count = 5
    # Hand each handler the iterator kind it consumes natively: Django warns
    # when ASGI has to drain a sync iterator (or WSGI an async one).
    chunks = _async_chunks(count) if isinstance(request, ASGIRequest) else _chunks(count)
    return StreamingHttpResponse(chunks, content_type="text/plain; charset=utf-8")
