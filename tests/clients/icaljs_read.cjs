// Reads an .ics file on stdin as Thunderbird does (Mozilla's ical.js): every VTIMEZONE of
// the file registered, then each VEVENT's start and end as UTC instants. Prints JSON.
const loaded = require(process.env.ICALJS_PATH || "ical.js");
const ICAL = loaded.default || loaded;

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", () => {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zone);
  }
  const utc = (time) => new Date(time.toUnixTime() * 1000).toISOString();
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const organizer = component.getFirstPropertyValue("organizer");
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description,
      start: utc(event.startDate),
      end: utc(event.endDate),
      zone: event.startDate.zone ? event.startDate.zone.tzid : null,
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      organizer: organizer || null,
      attendees: component.getAllProperties("attendee").map((p) => p.getFirstValue()),
    };
  });
  process.stdout.write(JSON.stringify({
    method: calendar.getFirstPropertyValue("method"),
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    events,
  }));
});
