"""Limits shared by the forms and the services."""

# Reminder offsets an organiser can choose from (minutes before the start).
REMINDER_CHOICES = (10080, 2880, 1440, 180, 60, 15)
MAX_SERIES_SESSIONS = 52
FEED_PREFIX = "cal_"
