from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.choices import Country


class BusinessCalendar(models.Model):
    """When a department or service office is open: weekly hours, national holidays, exceptions.

    Holidays come from the ``holidays`` package for ``country``; ``eves_closed`` adds the eves
    that are de-facto days off (Swedish midsommarafton, julafton, nyårsafton; Danish juleaften,
    nytårsaften, grundlovsdag and 1 May). Business-time arithmetic lives in
    ``cases.businesstime`` and works on a snapshot of this row and its hours.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    country = models.CharField(
        _("country"), max_length=2, choices=Country.choices, default=Country.SWEDEN
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Stockholm")
    eves_closed = models.BooleanField(
        _("closed on eves"),
        default=True,
        help_text=_(
            "Treat eves such as Midsummer Eve, Christmas Eve and New Year's Eve as closed days."
        ),
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"timezone": _("Unknown time zone.")}) from exc


class OpeningHours(models.Model):
    """One open interval on a weekday, in the calendar's local wall-clock time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="hours_close_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class CalendarException(models.Model):
    """A date with other hours than usual: closed (no times) or open ``opens``–``closes``."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField(_("date"))
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="calendar_exception_unique_date"
            ),
            models.CheckConstraint(
                condition=(models.Q(opens__isnull=True, closes__isnull=True))
                | (
                    models.Q(
                        opens__isnull=False, closes__isnull=False, closes__gt=models.F("opens")
                    )
                ),
                name="calendar_exception_closed_or_interval",
            ),
        ]

    def __str__(self) -> str:
        if self.opens is None:
            return f"{self.date}: {_('closed')}"
        return f"{self.date}: {self.opens:%H:%M}–{self.closes:%H:%M}"
