//! The calendar invitation attached to conference mail (RFC 5545, with the RFC 5546
//! `METHOD` that lets a mail client add, move or remove the event in one tap).
//!
//! - One event per conference, its `UID` derived from the conference id, so a later
//!   update replaces the event and a cancellation removes it; `SEQUENCE` grows with
//!   every message (seconds since the conference was scheduled).
//! - `DTSTART`/`DTEND` in UTC (`…Z`): every client shows them in its own zone.
//! - `LOCATION` is the dial string a phone follows in one tap: the access number, two
//!   pauses, the conference number and `#`, two pauses, the code and `#`
//!   (`tel:+18883806331,,3832257#,,69501#`); the description repeats it under the
//!   mail's text.
//! - `ORGANIZER` is the sending address (RFC 5546 requires one for `REQUEST`), the
//!   recipient the one `ATTENDEE`.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use crate::mail::{Attachment, Sender};
use crate::{AccessCode, Conference, ConferenceNumber, E164, Email};

/// What the invitation asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add the event, or move it to the new times (RFC 5546 §3.2.2).
    Request,
    /// Remove the event (RFC 5546 §3.2.5).
    Cancel,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The number a phone dials in one go to reach the conference with `code`.
pub fn dial_string(access: &E164, conference: &ConferenceNumber, code: &AccessCode) -> String {
    format!(
        "tel:{},,{}#,,{}#",
        access.as_str(),
        conference.as_str(),
        code.as_str()
    )
}

/// One calendar invitation.
#[derive(Debug, Clone, Copy)]
pub struct CalendarInvite<'a> {
    /// The conference.
    pub conference: &'a Conference,
    /// Add/move or remove.
    pub method: Method,
    /// The title (the mail's subject).
    pub summary: &'a str,
    /// The mail's plain text, repeated as the event's description.
    pub description: &'a str,
    /// The one-tap dial string, when there is an access number and a code to give.
    pub dial: Option<&'a str>,
    /// Who sends it.
    pub organizer: &'a Sender,
    /// Who receives it.
    pub attendee: &'a Email,
    /// When it is sent.
    pub now: DateTime<Utc>,
}

impl CalendarInvite<'_> {
    /// The iCalendar text, CRLF line endings, long lines folded.
    pub fn render(&self) -> String {
        let c = self.conference;
        let mut event = Event::new();
        event
            .uid(&format!("{}@teleconf", c.id))
            .sequence(sequence(c.created_at, self.now))
            .timestamp(self.now)
            .starts(c.schedule.start())
            .ends(c.schedule.end())
            .summary(self.summary);
        let mut description = self.description.to_string();
        if let Some(dial) = self.dial {
            event.location(dial);
            description.push_str(&format!("\n{dial}\n"));
        }
        event.description(&description);
        let mut organizer =
            Property::new("ORGANIZER", format!("mailto:{}", self.organizer.address));
        if !self.organizer.name.is_empty() {
            organizer.add_parameter("CN", &self.organizer.name);
        }
        event.append_property(organizer);
        let mut attendee = Property::new("ATTENDEE", format!("mailto:{}", self.attendee));
        attendee.add_parameter("ROLE", "REQ-PARTICIPANT");
        event.append_multi_property(attendee);
        event.status(match self.method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        });
        let mut calendar = Calendar::new();
        calendar
            .append_property(Property::new("METHOD", self.method.as_str()))
            .push(event.done());
        calendar.done().to_string()
    }

    /// The invitation as a mail attachment (`invitation.ics`).
    pub fn attachment(&self) -> Attachment {
        Attachment {
            filename: "invitation.ics".into(),
            content_type: format!(
                "text/calendar; method={}; charset=utf-8",
                self.method.as_str()
            ),
            data: self.render().into_bytes(),
        }
    }
}

/// A `SEQUENCE` that grows with each message: the seconds since the conference was
/// scheduled (RFC 5545 §3.8.7.4 only asks that a revision's be higher).
fn sequence(created: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    u32::try_from((now - created).num_seconds().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use chrono::TimeZone;
    use icalendar::{CalendarComponent, CalendarDateTime, DatePerhapsTime};

    fn conference() -> Conference {
        // 2026-11-01 09:30–11:00 in Toronto: the morning DST ends (EST, UTC−5).
        fixtures::conference(
            "Réunion; mensuelle, « spéciale »",
            Utc.with_ymd_and_hms(2026, 11, 1, 14, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 16, 0, 0).unwrap(),
        )
    }

    fn parse(ics: &str) -> Calendar {
        ics.parse().unwrap()
    }

    #[test]
    fn the_dial_string_pauses_between_the_numbers() {
        let c = conference();
        let access: E164 = "+18883806331".parse().unwrap();
        assert_eq!(
            dial_string(&access, &c.number, &"69501".parse().unwrap()),
            "tel:+18883806331,,3832257#,,69501#"
        );
    }

    #[test]
    fn the_invitation_parses_back_with_utc_times_and_the_dial_string() {
        let c = conference();
        let sender = Sender {
            name: "Omnivigil Solutions".into(),
            address: "conferences@teleconf.example".parse().unwrap(),
        };
        let to: Email = "invite@client.example".parse().unwrap();
        let dial = "tel:+18883806331,,3832257#,,69501#";
        let invite = CalendarInvite {
            conference: &c,
            method: Method::Request,
            summary: "Téléconférence « Réunion »",
            description: "Bonjour,\nNuméro Téléconférence: 3832257\n",
            dial: Some(dial),
            organizer: &sender,
            attendee: &to,
            now: c.created_at + chrono::Duration::seconds(90),
        };
        let ics = invite.render();
        assert!(ics.contains("\r\nMETHOD:REQUEST\r\n"), "{ics}");
        assert!(ics.contains("DTSTART:20261101T143000Z"), "{ics}");
        assert!(ics.contains("DTEND:20261101T160000Z"), "{ics}");
        let calendar = parse(&ics);
        assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
        let event = calendar
            .components
            .iter()
            .find_map(|c| match c {
                CalendarComponent::Event(e) => Some(e),
                _ => None,
            })
            .expect("one event");
        assert_eq!(
            event.get_start(),
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(
                c.schedule.start()
            )))
        );
        assert_eq!(
            event.get_end(),
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(
                c.schedule.end()
            )))
        );
        assert_eq!(event.get_location(), Some(dial));
        assert!(event.get_description().unwrap().contains(dial));
        assert_eq!(event.get_uid(), Some(format!("{}@teleconf", c.id).as_str()));
        assert_eq!(event.get_sequence(), Some(90));
        assert_eq!(event.get_summary(), Some("Téléconférence « Réunion »"));
        assert!(
            event
                .property_value("ORGANIZER")
                .unwrap()
                .ends_with("conferences@teleconf.example")
        );
        let a = invite.attachment();
        assert_eq!(a.filename, "invitation.ics");
        assert_eq!(
            a.content_type,
            "text/calendar; method=REQUEST; charset=utf-8"
        );
    }

    #[test]
    fn a_cancellation_cancels_the_same_event() {
        let c = conference();
        let sender = Sender {
            name: String::new(),
            address: "conferences@teleconf.example".parse().unwrap(),
        };
        let to: Email = "invite@client.example".parse().unwrap();
        let ics = CalendarInvite {
            conference: &c,
            method: Method::Cancel,
            summary: "Annulation",
            description: "Annulée",
            dial: None,
            organizer: &sender,
            attendee: &to,
            now: c.created_at,
        }
        .render();
        let calendar = parse(&ics);
        assert_eq!(calendar.property_value("METHOD"), Some("CANCEL"));
        assert!(ics.contains("STATUS:CANCELLED"), "{ics}");
        assert!(!ics.contains("LOCATION"), "{ics}");
        assert!(ics.contains(&format!("UID:{}@teleconf", c.id)));
    }
}
