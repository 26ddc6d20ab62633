//! The attendance report: once a conference has ended, its creator receives every
//! leg (caller ID, role, join, leave, duration) in the account's time zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Branding;
use super::confirmation::Rendered;
use super::{escape_html, layout, role_name};
use crate::{CallLeg, Conference, Language};

/// What to report.
#[derive(Debug, Clone, Copy)]
pub struct AttendanceReport<'a> {
    /// The conference that ended.
    pub conference: &'a Conference,
    /// Its legs, in join order.
    pub legs: &'a [CallLeg],
    /// The account's zone.
    pub time_zone: Tz,
    /// The report's language.
    pub language: Language,
    /// Signature.
    pub branding: &'a Branding,
}

struct Words {
    subject: &'static str,
    intro: &'static str,
    period: (&'static str, &'static str),
    summary: (&'static str, &'static str),
    nobody: &'static str,
    columns: [&'static str; 5],
    on_the_line: &'static str,
}

const FR: Words = Words {
    subject: "Rapport de présence",
    intro: "Voici le rapport de présence de la téléconférence",
    period: ("du", "au"),
    summary: ("Appels", "durée totale"),
    nobody: "Personne ne s'est joint à la téléconférence.",
    columns: ["Appelant", "Rôle", "Arrivée", "Départ", "Durée"],
    on_the_line: "en ligne",
};

const EN: Words = Words {
    subject: "Attendance report",
    intro: "Here is the attendance report of the conference",
    period: ("from", "to"),
    summary: ("Calls", "total"),
    nobody: "Nobody joined the conference.",
    columns: ["Caller", "Role", "Joined", "Left", "Duration"],
    on_the_line: "on the line",
};

/// `HH:MM:SS` (hours may pass 24).
pub fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl AttendanceReport<'_> {
    fn time(&self, at: DateTime<Utc>) -> String {
        layout::local_time(at, self.time_zone, "%Y-%m-%d %H:%M:%S")
    }

    /// One row per leg: caller, role, join, leave, duration.
    fn rows(&self, w: &Words) -> Vec<[String; 5]> {
        self.legs
            .iter()
            .map(|l| {
                [
                    l.caller_id.clone(),
                    role_name(l.role, self.language).to_string(),
                    self.time(l.joined_at),
                    l.left_at
                        .map_or_else(|| w.on_the_line.to_string(), |t| self.time(t)),
                    l.duration_ms().map_or_else(|| "—".to_string(), hms),
                ]
            })
            .collect()
    }

    /// Subject, text and HTML.
    pub fn render(&self) -> Rendered {
        let w = match self.language {
            Language::Fr => &FR,
            Language::En => &EN,
        };
        let c = self.conference;
        let subject = format!(
            "{} – {}",
            w.subject,
            layout::conference_title(c, self.time_zone, self.language)
        );
        let quoted = layout::quoted(&c.description, self.language);
        let period = format!(
            "{} {} {} {}",
            w.period.0,
            self.time(c.schedule.start()),
            w.period.1,
            self.time(c.schedule.end())
        );
        let intro = format!("{} {quoted} ({}), {period}.", w.intro, c.number.as_str());
        let total: u64 = self.legs.iter().filter_map(CallLeg::duration_ms).sum();
        let summary = format!(
            "{}: {} ({} {})",
            w.summary.0,
            self.legs.len(),
            w.summary.1,
            hms(total)
        );
        let rows = self.rows(w);

        let mut text = format!("{}\n\n{intro}\n\n", layout::greeting(self.language));
        if rows.is_empty() {
            text.push_str(&format!("{}\n", w.nobody));
        } else {
            text.push_str(&format!("{summary}\n\n{}\n", w.columns.join(" | ")));
            for r in &rows {
                text.push_str(&format!("{}\n", r.join(" | ")));
            }
        }
        text.push_str(&layout::closing_text(self.language, self.branding));

        let e = escape_html;
        let mut inner = format!("<p style=\"{}\">{}</p>\n", layout::P, e(&intro));
        if rows.is_empty() {
            inner.push_str(&format!("<p style=\"{}\">{}</p>\n", layout::P, e(w.nobody)));
        } else {
            inner.push_str(&format!("<p style=\"{}\">{}</p>\n", layout::P, e(&summary)));
            inner.push_str(&format!("<table style=\"{}\">\n<tr>", layout::TABLE));
            for col in w.columns {
                inner.push_str(&format!("<th style=\"{}\">{}</th>", layout::TH, e(col)));
            }
            inner.push_str("</tr>\n");
            for r in &rows {
                inner.push_str("<tr>");
                for cell in r {
                    inner.push_str(&format!("<td style=\"{}\">{}</td>", layout::TD, e(cell)));
                }
                inner.push_str("</tr>\n");
            }
            inner.push_str("</table>\n");
        }
        let html = layout::html_document(self.language, &subject, &inner, self.branding);
        Rendered {
            subject,
            text,
            html,
        }
    }
}
