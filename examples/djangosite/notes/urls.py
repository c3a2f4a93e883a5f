from django.urls import path

from notes import views

app_name = "notes"

urlpatterns = [
    path("", views.home, name="home"),
    path("notes/new/", views.create, name="create"),
    path("notes/<int:pk>/", views.detail, name="detail"),
    path("api/notes/", views.api_notes, name="api"),
    path("echo/", views.echo, name="echo"),
    path("stream/", views.stream, name="stream"),
]
