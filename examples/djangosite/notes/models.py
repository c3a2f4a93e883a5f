from django.db import models
from django.urls import reverse


class Note(models.Model):
    """A short text note."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("notes:detail", args=[self.pk])

    def as_dict(self) -> dict[str, object]:
        """The note as a JSON-ready dict."""
        return {
            "id": self.pk,
            "title": self.title,
            "body": self.body,
            "created": self.created.isoformat(),
            "url": self.get_absolute_url(),
        }
