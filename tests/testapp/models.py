"""A throwaway model, installed only by the test settings, to show that any
model instance can have its own room."""

from django.db import models


class Article(models.Model):
    title = models.CharField(max_length=100)

    class Meta:
        app_label = "testapp"

    def __str__(self) -> str:
        return self.title
