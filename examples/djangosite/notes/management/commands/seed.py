from django.core.management.base import BaseCommand

from notes.models import Note

SAMPLE_COUNT = 10


class Command(BaseCommand):
    help = f"Insert {SAMPLE_COUNT} sample notes (idempotent: existing samples are kept)."

    def handle(self, *args: object, **options: object) -> None:
        created = 0
        for i in range(1, SAMPLE_COUNT + 1):
            _, new = Note.objects.get_or_create(
                title=f"Sample note {i}",
                defaults={"body": f"This is sample note number {i}, served by corral."},
            )
            created += new
        self.stdout.write(f"seed: {created} notes created, {SAMPLE_COUNT - created} already there")
