"""Reads an .ics file on stdin with libical (GObject introspection, Debian's system Python)
and prints, as JSON, the errors of its parse and of its iTIP restriction check (RFC 5546)."""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402

component = ICalGLib.Component.new_from_string(sys.stdin.read())
component.check_restrictions()
errors = [line for line in component.as_ical_string().replace("\r\n ", "").splitlines()
          if line.startswith("X-LIC-ERROR")]
print(json.dumps({"errors": errors}))
