"""URL configuration for the corral example site."""

from django.urls import include, path

urlpatterns = [
    path("", include("notes.urls")),
]
