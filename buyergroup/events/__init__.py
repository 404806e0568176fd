"""Events of working groups: planning, registrations with a waiting list, agendas,
materials and minutes, reminders and calendar feeds.

Rooms: ``models``, ``permissions`` (every events rule of who may do what), ``service`` (a
package, one module per seam; see its docstring), ``views`` and ``api`` (thin, inside the
request boundary), ``forms``, ``calendar`` (iCalendar), ``times``, ``storage`` (files).

The events domain sits above the network: when a membership ends (``signals.membership_ended``,
sent by the network domain), ``service.registrations`` cancels what it gave. That receiver is
connected when ``buyergroup.events.service`` is imported, which ``create_app`` does with the
views.
"""
