//! The confirmation of a scheduled conference: shown on screen to its creator and
//! mailed to the creator and the invitees (the seed's « Confirmation »).
//!
//! The French text follows the seed's mail line by line (« Bonjour, Voici les détails
//! de la téléconférence … »), with its grammar fixed (« accéder à la téléconférence »,
//! « peuvent faire *44 ») and the seed's note « Aucun accès n'est accepté après l'heure
//! de fin planifiée » added as a bullet; the English text is its translation.
//!
//! - Access numbers: only those whose action leads to conferences are listed, in the
//!   order given. One number reads « Numéro d'accès: (888) 380-6331 » as in the seed;
//!   several get one line each, labelled by kind (« Numéro d'accès (sans frais): … »,
//!   « Numéro d'accès (local): … »); none gives a line saying so rather than nothing.
//! - Times are the planned start and end in the given time zone, `YYYY-MM-DD HH:MM:SS`.
//! - Codes: one line per role in [`Confirmation::roles`], in the order participant,
//!   listener, moderator, each followed by what the role may do
//!   ([`role_meaning`](super::role_meaning)).
//! - Subject: `Téléconférence « {description} » – {start YYYY-MM-DD HH:MM}` in French,
//!   `Conference “{description}” – {start YYYY-MM-DD HH:MM}` in English.
//! - HTML: a small inline-styled document with the same content; every value is
//!   escaped with [`escape_html`](super::escape_html).

use chrono_tz::Tz;

use super::layout::Branding;
use super::{escape_html, keypad, layout, role_meaning, role_name};
use crate::conference::EARLY_ACCESS;
use crate::mail::OutgoingMail;
use crate::{CallerRole, Conference, Email, Language, NumberKind, PhoneNumber};

/// What to confirm, to whom, and how.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'a> {
    /// The scheduled conference.
    pub conference: &'a Conference,
    /// The account's access numbers; those not leading to conferences are left out.
    pub access_numbers: &'a [PhoneNumber],
    /// Where the start and end are shown (the account's zone).
    pub time_zone: Tz,
    /// The language of the whole message.
    pub language: Language,
    /// Whose codes to show: all three on the creator's screen and mail, only the
    /// invitee's own role in an invitee's mail. Shown in participant, listener,
    /// moderator order whatever the order here.
    pub roles: &'a [CallerRole],
    /// Signature and support line.
    pub branding: &'a Branding,
}

/// Which message about a conference: the same details, introduced differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// To the creator, once scheduled (the seed's text).
    Confirmation,
    /// To an invitee, with only their role's code.
    Invitation,
    /// The conference changed: its new details.
    Update,
    /// The conference was cancelled: what was cancelled, no codes.
    Cancellation,
}

/// A confirmation ready to show or send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The mail's subject.
    pub subject: String,
    /// The plain-text body, lines ending in `\n`.
    pub text: String,
    /// The HTML body, a complete small document.
    pub html: String,
}

impl Rendered {
    /// The mail to send to `to`.
    pub fn into_mail(self, to: Email) -> OutgoingMail {
        OutgoingMail {
            to,
            subject: self.subject,
            text: self.text,
            html: self.html,
            attachments: Vec::new(),
        }
    }
}

/// The fixed words of the confirmation in one language.
struct Words {
    intro_before: &'static str,
    intro_after: &'static str,
    invitation_before: &'static str,
    invitation_after: &'static str,
    update_before: &'static str,
    update_after: &'static str,
    cancellation_before: &'static str,
    cancellation_after: &'static str,
    invitation_subject: &'static str,
    update_subject: &'static str,
    cancellation_subject: &'static str,
    keypad: &'static str,
    access_number: &'static str,
    local: &'static str,
    toll_free: &'static str,
    no_access_number: &'static str,
    conference_number: &'static str,
    start: &'static str,
    end: &'static str,
    recording: &'static str,
    recording_on: &'static str,
    recording_off: &'static str,
}

const FR: Words = Words {
    intro_before: "Voici les détails de la téléconférence « ",
    intro_after: " ».",
    invitation_before: "Vous êtes invité à la téléconférence « ",
    invitation_after: " ». En voici les détails.",
    update_before: "La téléconférence « ",
    update_after: " » a été modifiée. En voici les nouveaux détails.",
    cancellation_before: "La téléconférence « ",
    cancellation_after: " » est annulée. Ses codes d'accès ne sont plus valides.",
    invitation_subject: "Invitation",
    update_subject: "Modification",
    cancellation_subject: "Annulation",
    keypad: "Commandes du clavier (modérateurs), une étoile puis la touche",
    access_number: "Numéro d'accès",
    local: "local",
    toll_free: "sans frais",
    no_access_number: "aucun numéro d'accès n'est configuré pour le moment",
    conference_number: "Numéro Téléconférence",
    start: "Début",
    end: "Fin",
    recording: "Enregistrement",
    recording_on: "Activé",
    recording_off: "Non activé",
};

const EN: Words = Words {
    intro_before: "Here are the details of the conference “",
    intro_after: "”.",
    invitation_before: "You are invited to the conference “",
    invitation_after: "”. Here are its details.",
    update_before: "The conference “",
    update_after: "” has changed. Here are its new details.",
    cancellation_before: "The conference “",
    cancellation_after: "” is cancelled. Its access codes are no longer valid.",
    invitation_subject: "Invitation",
    update_subject: "Updated",
    cancellation_subject: "Cancelled",
    keypad: "Keypad commands (moderators), a star then the key",
    access_number: "Access number",
    local: "local",
    toll_free: "toll-free",
    no_access_number: "no access number is configured yet",
    conference_number: "Conference number",
    start: "Start",
    end: "End",
    recording: "Recording",
    recording_on: "On",
    recording_off: "Off",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// « Code d'accès Participant » / "Participant access code".
fn access_code_label(role: CallerRole, language: Language) -> String {
    match language {
        Language::Fr => format!("Code d'accès {}", role_name(role, language)),
        Language::En => format!("{} access code", role_name(role, language)),
    }
}

/// The notes under the details, in order.
fn bullets(language: Language, support_phone: &str) -> Vec<String> {
    let early = EARLY_ACCESS.num_minutes();
    match language {
        Language::Fr => vec![
            "Pour accéder à la téléconférence, il suffit de composer le numéro de téléphone \
             d'accès puis de suivre les directives fournies par le système."
                .to_string(),
            "Les utilisateurs ayant un téléphone IP dans le MÊME compte que la conférence \
             peuvent faire *44."
                .to_string(),
            format!("Les accès sont acceptés {early} minutes avant l'heure de début planifiée."),
            "Aucun accès n'est accepté après l'heure de fin planifiée.".to_string(),
            "Pour faciliter l'accès, il est préférable de ne pas utiliser la fonction mains \
             libres durant la composition des codes d'accès."
                .to_string(),
            format!(
                "En cas de problème, veuillez contacter notre service de soutien technique \
                 au {support_phone}."
            ),
        ],
        Language::En => vec![
            "To join the conference, simply dial the access number and follow the \
             instructions given by the system."
                .to_string(),
            "Users with an IP phone in the SAME account as the conference can dial *44."
                .to_string(),
            format!("Access opens {early} minutes before the planned start time."),
            "No access is accepted after the planned end time.".to_string(),
            "For easier access, it is best not to use the hands-free function while keying \
             in the access codes."
                .to_string(),
            format!(
                "If you have any problem, please contact our technical support at \
                 {support_phone}."
            ),
        ],
    }
}

/// One line of the details: `label: value (note)`.
struct Detail {
    label: String,
    value: String,
    note: Option<&'static str>,
}

/// The content once, rendered twice (text and HTML) so both always agree.
struct Content<'a> {
    words: &'static Words,
    intro_before: &'static str,
    intro_after: &'static str,
    description: &'a str,
    details: Vec<Detail>,
    bullets: Vec<String>,
    /// The moderator's keys (`*0`, …) and what each does; empty when no moderator code is shown.
    keypad: Vec<(&'static str, &'static str)>,
    language: Language,
    branding: &'a Branding,
}

impl Confirmation<'_> {
    /// The subject, the text and the HTML of the confirmation.
    pub fn render(&self) -> Rendered {
        self.render_notice(Notice::Confirmation)
    }

    /// The subject, the text and the HTML of `notice` about the conference.
    pub fn render_notice(&self, notice: Notice) -> Rendered {
        let content = self.content(notice);
        let subject = self.subject(notice);
        Rendered {
            text: content.text(),
            html: content.html(&subject),
            subject,
        }
    }

    fn subject(&self, notice: Notice) -> String {
        let w = words(self.language);
        let title = layout::conference_title(self.conference, self.time_zone, self.language);
        match notice {
            Notice::Confirmation => title,
            Notice::Invitation => format!("{} – {title}", w.invitation_subject),
            Notice::Update => format!("{} – {title}", w.update_subject),
            Notice::Cancellation => format!("{} – {title}", w.cancellation_subject),
        }
    }

    fn content(&self, notice: Notice) -> Content<'_> {
        let w = words(self.language);
        let cancelled = notice == Notice::Cancellation;
        let mut details = Vec::new();

        let numbers: Vec<&PhoneNumber> = self
            .access_numbers
            .iter()
            .filter(|n| n.conference_prompts().is_some())
            .collect();
        match numbers.as_slice() {
            _ if cancelled => {}
            [] => details.push(Detail {
                label: w.access_number.to_string(),
                value: w.no_access_number.to_string(),
                note: None,
            }),
            [one] => details.push(Detail {
                label: w.access_number.to_string(),
                value: one.number.national(),
                note: None,
            }),
            several => {
                for n in several {
                    let kind = match n.kind {
                        NumberKind::Local => w.local,
                        NumberKind::TollFree => w.toll_free,
                    };
                    details.push(Detail {
                        label: format!("{} ({kind})", w.access_number),
                        value: n.number.national(),
                        note: None,
                    });
                }
            }
        }

        let schedule = &self.conference.schedule;
        let time = |at| layout::local_time(at, self.time_zone, "%Y-%m-%d %H:%M:%S");
        details.push(Detail {
            label: w.conference_number.to_string(),
            value: self.conference.number.as_str().to_string(),
            note: None,
        });
        details.push(Detail {
            label: w.start.to_string(),
            value: time(schedule.start()),
            note: None,
        });
        details.push(Detail {
            label: w.end.to_string(),
            value: time(schedule.end()),
            note: None,
        });
        for role in CallerRole::ALL {
            if self.roles.contains(&role) && !cancelled {
                details.push(Detail {
                    label: access_code_label(role, self.language),
                    value: self.conference.codes.code(role).as_str().to_string(),
                    note: Some(role_meaning(role, self.language)),
                });
            }
        }
        if !cancelled {
            details.push(Detail {
                label: w.recording.to_string(),
                value: if self.conference.record {
                    w.recording_on
                } else {
                    w.recording_off
                }
                .to_string(),
                note: None,
            });
        }
        let (intro_before, intro_after) = match notice {
            Notice::Confirmation => (w.intro_before, w.intro_after),
            Notice::Invitation => (w.invitation_before, w.invitation_after),
            Notice::Update => (w.update_before, w.update_after),
            Notice::Cancellation => (w.cancellation_before, w.cancellation_after),
        };
        let mut bullets = bullets(self.language, &self.branding.support_phone);
        if cancelled {
            // Only the support line still applies.
            bullets.drain(..bullets.len() - 1);
        }
        let keypad = if self.roles.contains(&CallerRole::Moderator) && !cancelled {
            keypad::moderator_keys(self.language).to_vec()
        } else {
            Vec::new()
        };

        Content {
            words: w,
            intro_before,
            intro_after,
            description: &self.conference.description,
            details,
            keypad,
            bullets,
            language: self.language,
            branding: self.branding,
        }
    }
}

impl Content<'_> {
    fn text(&self) -> String {
        let w = self.words;
        let mut lines: Vec<String> = vec![
            layout::greeting(self.language).to_string(),
            String::new(),
            format!(
                "{}{}{}",
                self.intro_before, self.description, self.intro_after
            ),
            String::new(),
        ];
        for d in &self.details {
            lines.push(match d.note {
                Some(note) => format!("{}: {} ({note})", d.label, d.value),
                None => format!("{}: {}", d.label, d.value),
            });
        }
        lines.push(String::new());
        if !self.keypad.is_empty() {
            lines.push(format!("{}:", w.keypad));
            for (keys, what) in &self.keypad {
                lines.push(format!("  {keys}  {what}"));
            }
            lines.push(String::new());
        }
        for b in &self.bullets {
            lines.push(format!("- {b}"));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text.push_str(&layout::closing_text(self.language, self.branding));
        text
    }

    fn html(&self, subject: &str) -> String {
        use layout::{P, TABLE, TD, TH};
        const NOTE: &str = "color:#555555;";
        const UL: &str = "margin:0 0 12px 0;padding-left:20px;";

        let w = self.words;
        let e = escape_html;
        let mut h = String::with_capacity(4096);
        h.push_str(&format!(
            "<p style=\"{P}\">{}<strong>{}</strong>{}</p>\n",
            e(self.intro_before),
            e(self.description),
            e(self.intro_after)
        ));
        h.push_str(&format!(
            "<table role=\"presentation\" style=\"{TABLE}\">\n"
        ));
        for d in &self.details {
            let note = d
                .note
                .map(|n| format!(" <span style=\"{NOTE}\">({})</span>", e(n)))
                .unwrap_or_default();
            h.push_str(&format!(
                "<tr><th scope=\"row\" style=\"{TH}\">{}:</th>\
                 <td style=\"{TD}\">{}{note}</td></tr>\n",
                e(&d.label),
                e(&d.value),
            ));
        }
        h.push_str("</table>\n");
        if !self.keypad.is_empty() {
            h.push_str(&format!("<p style=\"{P}\">{}:</p>\n", e(w.keypad)));
            h.push_str(&format!(
                "<table role=\"presentation\" style=\"{TABLE}\">\n"
            ));
            for (keys, what) in &self.keypad {
                h.push_str(&format!(
                    "<tr><th scope=\"row\" style=\"{TH}\">{}</th>\
                     <td style=\"{TD}\">{}</td></tr>\n",
                    e(keys),
                    e(what),
                ));
            }
            h.push_str("</table>\n");
        }
        h.push_str(&format!("<ul style=\"{UL}\">\n"));
        for b in &self.bullets {
            h.push_str(&format!("<li>{}</li>\n", e(b)));
        }
        h.push_str("</ul>\n");
        layout::html_document(self.language, subject, &h, self.branding)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{conference, number, seed_conference, seed_number, toronto};
    use super::*;
    use crate::NumberAction;
    use chrono::{TimeZone, Utc};
    use chrono_tz::America::Toronto;

    fn render(
        conference: &Conference,
        numbers: &[PhoneNumber],
        language: Language,
        roles: &[CallerRole],
    ) -> Rendered {
        Confirmation {
            conference,
            access_numbers: numbers,
            time_zone: Toronto,
            language,
            roles,
            branding: &Branding::default(),
        }
        .render()
    }

    #[test]
    fn the_seed_instants_are_eastern_daylight_time() {
        let c = seed_conference();
        assert_eq!(
            c.schedule.start(),
            Utc.with_ymd_and_hms(2019, 6, 6, 13, 30, 0).unwrap()
        );
        assert_eq!(
            c.schedule.end(),
            Utc.with_ymd_and_hms(2019, 6, 6, 15, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_french_confirmation_reproduces_the_seed() {
        let r = render(
            &seed_conference(),
            &[seed_number()],
            Language::Fr,
            &[CallerRole::Participant, CallerRole::Listener],
        );
        assert_eq!(
            r.subject,
            "Téléconférence « Réunion mensuelle » – 2019-06-06 09:30"
        );
        assert_eq!(
            r.text,
            "\
Bonjour,

Voici les détails de la téléconférence « Réunion mensuelle ».

Numéro d'accès: (888) 380-6331
Numéro Téléconférence: 3832257
Début: 2019-06-06 09:30:00
Fin: 2019-06-06 11:00:00
Code d'accès Participant: 69501 (Les participants entendent et sont entendus par tous)
Code d'accès Auditeur: 83269 (Les auditeurs ne peuvent qu'écouter mais ne sont pas entendus)
Enregistrement: Non activé

- Pour accéder à la téléconférence, il suffit de composer le numéro de téléphone d'accès puis de suivre les directives fournies par le système.
- Les utilisateurs ayant un téléphone IP dans le MÊME compte que la conférence peuvent faire *44.
- Les accès sont acceptés 5 minutes avant l'heure de début planifiée.
- Aucun accès n'est accepté après l'heure de fin planifiée.
- Pour faciliter l'accès, il est préférable de ne pas utiliser la fonction mains libres durant la composition des codes d'accès.
- En cas de problème, veuillez contacter notre service de soutien technique au 1-877-380-6060 option 2.

Nous vous remercions de la confiance que vous nous accordez.

Omnivigil Solutions
services@omnigil.com
"
        );
    }

    #[test]
    fn the_english_confirmation_translates_it_with_all_three_codes() {
        let mut c = seed_conference();
        c.record = true;
        let r = render(&c, &[seed_number()], Language::En, &CallerRole::ALL);
        assert_eq!(
            r.subject,
            "Conference “Réunion mensuelle” – 2019-06-06 09:30"
        );
        assert_eq!(
            r.text,
            "\
Hello,

Here are the details of the conference “Réunion mensuelle”.

Access number: (888) 380-6331
Conference number: 3832257
Start: 2019-06-06 09:30:00
End: 2019-06-06 11:00:00
Participant access code: 69501 (participants hear and are heard by all)
Listener access code: 83269 (listeners can only listen and are not heard)
Moderator access code: 44444 (moderators hear, are heard and control the conference from the telephone keypad)
Recording: On

Keypad commands (moderators), a star then the key:
  *0  the keys you may use
  *#  how many callers are in
  *6  mute or unmute yourself
  *5  mute or unmute every participant (lecture mode)
  *7  lock or unlock the conference
  *8  pause or resume the recording
  *9  remove the caller who joined last

- To join the conference, simply dial the access number and follow the instructions given by the system.
- Users with an IP phone in the SAME account as the conference can dial *44.
- Access opens 5 minutes before the planned start time.
- No access is accepted after the planned end time.
- For easier access, it is best not to use the hands-free function while keying in the access codes.
- If you have any problem, please contact our technical support at 1-877-380-6060 option 2.

Thank you for your trust.

Omnivigil Solutions
services@omnigil.com
"
        );
    }

    #[test]
    fn the_creators_french_confirmation_shows_the_moderator_code_and_recording() {
        let mut c = seed_conference();
        c.record = true;
        let r = render(&c, &[seed_number()], Language::Fr, &CallerRole::ALL);
        assert!(r.text.contains(
            "\nCode d'accès Modérateur: 44444 (Les modérateurs entendent, sont entendus et \
             contrôlent la conférence au clavier téléphonique)\nEnregistrement: Activé\n"
        ));
    }

    #[test]
    fn an_invitees_mail_shows_only_their_own_code() {
        let c = seed_conference();
        for language in [Language::Fr, Language::En] {
            let r = render(&c, &[seed_number()], language, &[CallerRole::Listener]);
            for body in [&r.text, &r.html] {
                assert!(body.contains("83269"));
                assert!(!body.contains("69501"), "participant code leaked");
                assert!(!body.contains("44444"), "moderator code leaked");
            }
            assert!(
                r.text
                    .contains(role_meaning(CallerRole::Listener, language))
            );
        }
    }

    #[test]
    fn roles_are_listed_once_in_the_usual_order() {
        let r = render(
            &seed_conference(),
            &[seed_number()],
            Language::Fr,
            &[
                CallerRole::Moderator,
                CallerRole::Participant,
                CallerRole::Moderator,
            ],
        );
        let p = r.text.find("69501").unwrap();
        let m = r.text.find("44444").unwrap();
        assert!(p < m);
        assert_eq!(r.text.matches("44444").count(), 1);
        assert!(!r.text.contains("83269"));
    }

    #[test]
    fn times_are_local_on_both_sides_of_the_daylight_saving_change() {
        // After the change back to standard time (EST, UTC−5).
        let november = conference(
            "Après",
            toronto(2026, 11, 1, 9, 30),
            toronto(2026, 11, 1, 11, 0),
        );
        assert_eq!(
            november.schedule.start(),
            Utc.with_ymd_and_hms(2026, 11, 1, 14, 30, 0).unwrap()
        );
        // Summer time (EDT, UTC−4).
        let july = conference(
            "Été",
            toronto(2026, 7, 15, 9, 30),
            toronto(2026, 7, 15, 11, 0),
        );
        assert_eq!(
            july.schedule.start(),
            Utc.with_ymd_and_hms(2026, 7, 15, 13, 30, 0).unwrap()
        );

        let n = [seed_number()];
        let r = render(&november, &n, Language::Fr, &CallerRole::ALL);
        assert!(
            r.text.contains("\nDébut: 2026-11-01 09:30:00\n"),
            "{}",
            r.text
        );
        assert!(r.text.contains("\nFin: 2026-11-01 11:00:00\n"));
        assert!(r.subject.ends_with("– 2026-11-01 09:30"));
        let r = render(&july, &n, Language::En, &CallerRole::ALL);
        assert!(
            r.text.contains("\nStart: 2026-07-15 09:30:00\n"),
            "{}",
            r.text
        );
        assert!(r.text.contains("\nEnd: 2026-07-15 11:00:00\n"));
    }

    #[test]
    fn times_follow_the_given_time_zone() {
        let c = seed_conference();
        let r = Confirmation {
            conference: &c,
            access_numbers: &[seed_number()],
            time_zone: chrono_tz::America::Vancouver,
            language: Language::Fr,
            roles: &CallerRole::ALL,
            branding: &Branding::default(),
        }
        .render();
        assert!(r.text.contains("\nDébut: 2019-06-06 06:30:00\n"));
    }

    #[test]
    fn several_access_numbers_get_a_line_each_labelled_by_kind() {
        let numbers = [seed_number(), number("+14183806060", NumberKind::Local)];
        let c = seed_conference();
        let fr = render(&c, &numbers, Language::Fr, &CallerRole::ALL).text;
        assert!(fr.contains(
            "\nNuméro d'accès (sans frais): (888) 380-6331\n\
             Numéro d'accès (local): (418) 380-6060\n\
             Numéro Téléconférence: 3832257\n"
        ));
        let en = render(&c, &numbers, Language::En, &CallerRole::ALL).text;
        assert!(en.contains(
            "\nAccess number (toll-free): (888) 380-6331\n\
             Access number (local): (418) 380-6060\n"
        ));
    }

    #[test]
    fn no_access_number_says_so() {
        let c = seed_conference();
        let fr = render(&c, &[], Language::Fr, &CallerRole::ALL);
        assert!(fr.text.contains(
            "\nNuméro d'accès: aucun numéro d'accès n'est configuré pour le moment\n\
             Numéro Téléconférence: 3832257\n"
        ));
        assert!(
            fr.html
                .contains("aucun numéro d&#39;accès n&#39;est configuré")
        );
        let en = render(&c, &[], Language::En, &CallerRole::ALL);
        assert!(
            en.text
                .contains("\nAccess number: no access number is configured yet\n")
        );
    }

    #[test]
    fn numbers_not_leading_to_conferences_are_left_out() {
        let mut elsewhere = number("+14183806060", NumberKind::Local);
        elsewhere.action = NumberAction::None;
        let r = render(
            &seed_conference(),
            &[seed_number(), elsewhere.clone()],
            Language::Fr,
            &CallerRole::ALL,
        );
        assert!(r.text.contains("\nNuméro d'accès: (888) 380-6331\n"));
        assert!(!r.text.contains("(418)"));
        let r = render(
            &seed_conference(),
            &[elsewhere],
            Language::Fr,
            &CallerRole::ALL,
        );
        assert!(r.text.contains("aucun numéro d'accès n'est configuré"));
    }

    #[test]
    fn html_escapes_a_hostile_description_and_carries_the_details() {
        let hostile = r#"<b>Q&A</b> "O'Brien" <script>alert(1)</script>"#;
        let c = conference(
            hostile,
            toronto(2019, 6, 6, 9, 30),
            toronto(2019, 6, 6, 11, 0),
        );
        let r = render(&c, &[seed_number()], Language::Fr, &CallerRole::ALL);
        let escaped = "&lt;b&gt;Q&amp;A&lt;/b&gt; &quot;O&#39;Brien&quot; \
                       &lt;script&gt;alert(1)&lt;/script&gt;";
        assert!(r.html.contains(&format!("<strong>{escaped}</strong>")));
        assert!(
            r.html
                .contains(&format!("<title>Téléconférence « {escaped} »"))
        );
        assert!(!r.html.contains("<b>"));
        assert!(!r.html.contains("<script>"));
        assert!(!r.html.contains("Q&A"));
        for value in ["3832257", "69501", "83269", "44444", "(888) 380-6331"] {
            assert!(r.html.contains(value), "{value} missing from the HTML");
        }
        assert!(r.html.contains("2019-06-06 09:30:00"));
        assert!(r.html.contains("href=\"mailto:services@omnigil.com\""));
        // Plain text and subject carry the description as typed.
        assert!(r.text.contains(hostile));
        assert!(r.subject.contains(hostile));
    }

    #[test]
    fn the_html_is_a_well_formed_document() {
        let r = render(
            &seed_conference(),
            &[seed_number()],
            Language::En,
            &CallerRole::ALL,
        );
        assert!(r.html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(r.html.ends_with("</body>\n</html>\n"));
        for tag in [
            "html", "head", "title", "body", "p", "table", "tr", "th", "td", "ul", "li", "strong",
            "a", "span",
        ] {
            let opens = r.html.matches(&format!("<{tag}>")).count()
                + r.html.matches(&format!("<{tag} ")).count();
            let closes = r.html.matches(&format!("</{tag}>")).count();
            assert_eq!(opens, closes, "<{tag}> unbalanced in\n{}", r.html);
        }
        // 8 details and the moderator's 7 keypad commands.
        assert_eq!(r.html.matches("<tr>").count(), 15);
        assert_eq!(r.html.matches("<li>").count(), 6);
    }

    #[test]
    fn the_branding_signs_and_gives_the_support_line() {
        let branding = Branding {
            provider_name: "Télé & Cie".into(),
            support_phone: "1-800-555-0199".into(),
            support_email: "aide@tele.example".parse().unwrap(),
        };
        let c = seed_conference();
        let r = Confirmation {
            conference: &c,
            access_numbers: &[seed_number()],
            time_zone: Toronto,
            language: Language::Fr,
            roles: &CallerRole::ALL,
            branding: &branding,
        }
        .render();
        assert!(r.text.ends_with("\n\nTélé & Cie\naide@tele.example\n"));
        assert!(r.text.contains("soutien technique au 1-800-555-0199."));
        assert!(r.html.contains("Télé &amp; Cie<br>"));
    }

    #[test]
    fn a_rendered_confirmation_becomes_a_mail() {
        let r = render(
            &seed_conference(),
            &[seed_number()],
            Language::Fr,
            &CallerRole::ALL,
        );
        let to: Email = "invite@example.com".parse().unwrap();
        let mail = r.clone().into_mail(to.clone());
        assert_eq!(mail.to, to);
        assert_eq!(mail.subject, r.subject);
        assert_eq!(mail.text, r.text);
        assert_eq!(mail.html, r.html);
    }
}
