"""Path converters of the URL patterns, registered when this is imported
(by every urls module that uses one)."""

from django.urls import register_converter


class IdConverter:
    """`<id:…>`: a row's id, digits that fit a 64-bit signed integer (every
    primary key here is a bigint). A larger number matches no URL, so is a
    404 like any unknown id, rather than reaching the database driver, which
    cannot hold it (SQLite's raises OverflowError: a 500)."""

    regex = "[0-9]+"
    MAX = 2**63 - 1

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > self.MAX:
            raise ValueError("Not an id: larger than a bigint.")  # no match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
