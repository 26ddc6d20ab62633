//! The portal's two languages. Every label is written once with both texts side by
//! side ([`L::t`]), so no page can miss a translation. Dates, times and amounts are
//! written the way each language writes them, on the account's wall clock (the API
//! already gives times in the account's zone, with their offset).
//!
//! The API's error messages are English; [`L::api_error`] gives the French of the
//! ones the forms can meet, and a French sentence per error code for any other.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use rust_decimal::{Decimal, RoundingStrategy};
use teleconf_domain::{ActivityKind, CallerRole, ConferenceStatus, Language, NumberKind, Role};

use teleconf_domain::messages::words;

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L(pub Language);

impl L {
    /// The French or the English text.
    pub fn t(self, fr: &'static str, en: &'static str) -> &'static str {
        match self.0 {
            Language::Fr => fr,
            Language::En => en,
        }
    }

    /// `fr` or `en`, for `<html lang>`.
    pub fn code(self) -> &'static str {
        self.0.as_str()
    }

    /// The other language (the switch offers it).
    pub fn other(self) -> L {
        match self.0 {
            Language::Fr => L(Language::En),
            Language::En => L(Language::Fr),
        }
    }

    /// A calendar date: « 6 juin 2026 » / "June 6, 2026".
    pub fn date(self, d: NaiveDate) -> String {
        words::date_words(d, self.0)
    }

    /// A time of day: « 09 h 30 » / "9:30 AM".
    pub fn time(self, t: DateTime<FixedOffset>) -> String {
        match self.0 {
            Language::Fr => format!("{:02} h {:02}", t.hour(), t.minute()),
            Language::En => {
                let (pm, h) = t.hour12();
                format!("{h}:{:02} {}", t.minute(), if pm { "PM" } else { "AM" })
            }
        }
    }

    /// A date and time: « 6 juin 2026, 09 h 30 » / "June 6, 2026, 9:30 AM".
    pub fn date_time(self, t: DateTime<FixedOffset>) -> String {
        format!("{}, {}", self.date(t.date_naive()), self.time(t))
    }

    /// A billing month (`2026-06`): « juin 2026 » / "June 2026"; as given if malformed.
    pub fn month(self, ym: &str) -> String {
        let parsed = NaiveDate::parse_from_str(&format!("{ym}-01"), "%Y-%m-%d");
        match parsed {
            Ok(d) => words::month_year(d.year(), d.month0(), self.0),
            Err(_) => ym.to_string(),
        }
    }

    /// Dollars to the cent: « 1 234,56 $ » / "$1,234.56".
    pub fn money(self, amount: Decimal) -> String {
        let cents = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        match self.0 {
            Language::Fr => format!("{}\u{a0}$", words::grouped(cents, '\u{202f}', ',')),
            Language::En => {
                let text = words::grouped(cents, ',', '.');
                match text.strip_prefix('-') {
                    Some(digits) => format!("-${digits}"),
                    None => format!("${text}"),
                }
            }
        }
    }

    /// A decimal quantity (minutes) with the language's decimal point.
    pub fn number(self, value: Decimal) -> String {
        let text = value.round_dp(2).normalize().to_string();
        match self.0 {
            Language::Fr => text.replace('.', ","),
            Language::En => text,
        }
    }

    /// A length: « 1 h 05 min 03 s » / "1 h 05 min 03 s".
    pub fn duration(self, secs: u64) -> String {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            format!("{h} h {m:02} min {s:02} s")
        } else {
            format!("{m} min {s:02} s")
        }
    }

    /// Yes or no.
    pub fn yes_no(self, yes: bool) -> &'static str {
        if yes {
            self.t("Oui", "Yes")
        } else {
            self.t("Non", "No")
        }
    }

    /// An account role.
    pub fn role(self, role: Role) -> &'static str {
        match role {
            Role::Owner => self.t("Propriétaire", "Owner"),
            Role::ConferenceAdmin => self.t(
                "Téléconférences – Administrateur",
                "Conferences – Administrator",
            ),
            Role::ConferenceOperator => {
                self.t("Téléconférences – Opérateur", "Conferences – Operator")
            }
            Role::ProviderAdmin => self.t("Administrateur fournisseur", "Provider administrator"),
            Role::Finance => self.t("Finances", "Finance"),
        }
    }

    /// A caller role (the confirmation's words).
    pub fn caller_role(self, role: CallerRole) -> &'static str {
        teleconf_domain::messages::role_name(role, self.0)
    }

    /// A conference's status.
    pub fn status(self, status: ConferenceStatus) -> &'static str {
        match status {
            ConferenceStatus::Scheduled => self.t("Planifiée", "Scheduled"),
            ConferenceStatus::Open => self.t("Ouverte", "Open"),
            ConferenceStatus::Running => self.t("En cours", "Running"),
            ConferenceStatus::Ended => self.t("Terminée", "Ended"),
        }
    }

    /// A number's kind.
    pub fn number_kind(self, kind: NumberKind) -> &'static str {
        match kind {
            NumberKind::Local => self.t("Local", "Local"),
            NumberKind::TollFree => self.t("Sans frais", "Toll-free"),
        }
    }

    /// A language's name, in the page's language.
    pub fn language(self, language: Language) -> &'static str {
        match language {
            Language::Fr => self.t("Français", "French"),
            Language::En => self.t("Anglais", "English"),
        }
    }

    /// What an activity entry says happened.
    pub fn activity(self, kind: ActivityKind) -> &'static str {
        use ActivityKind as K;
        match kind {
            K::AccountChanged => self.t("Compte modifié", "Account changed"),
            K::UserCreated => self.t("Utilisateur ajouté", "User added"),
            K::UserUpdated => self.t("Utilisateur modifié", "User changed"),
            K::UserDeleted => self.t("Utilisateur retiré", "User removed"),
            K::NumberCreated => self.t("Numéro d'accès ajouté", "Access number added"),
            K::NumberUpdated => self.t("Numéro d'accès modifié", "Access number changed"),
            K::NumberDeleted => self.t("Numéro d'accès retiré", "Access number removed"),
            K::IpPhoneAdded => self.t("Téléphone IP ajouté (*44)", "IP phone added (*44)"),
            K::IpPhoneRemoved => self.t("Téléphone IP retiré (*44)", "IP phone removed (*44)"),
            K::ConferenceCreated => self.t("Téléconférence planifiée", "Conference scheduled"),
            K::ConferenceUpdated => self.t("Téléconférence modifiée", "Conference changed"),
            K::ConferenceDeleted => self.t("Téléconférence annulée", "Conference cancelled"),
            K::PromptUploaded => self.t("Message audio téléversé", "Audio message uploaded"),
            K::InvitationsSent => self.t("Invitations envoyées", "Invitations sent"),
            K::CallJoined => self.t("Appelant entré", "Caller joined"),
            K::CallLeft => self.t("Appelant sorti", "Caller left"),
            K::AccessLocked => self.t(
                "Accès bloqué (codes erronés)",
                "Access locked (wrong codes)",
            ),
            K::CallerMuted => self.t("Appelant en sourdine", "Caller muted"),
            K::CallerUnmuted => self.t("Sourdine retirée", "Caller unmuted"),
            K::LectureModeOn => self.t("Tous en sourdine", "All muted"),
            K::LectureModeOff => self.t("Sourdine générale retirée", "All unmuted"),
            K::ConferenceLocked => self.t("Téléconférence verrouillée", "Conference locked"),
            K::ConferenceUnlocked => self.t("Téléconférence déverrouillée", "Conference unlocked"),
            K::RecordingPaused => self.t("Enregistrement en pause", "Recording paused"),
            K::RecordingResumed => self.t("Enregistrement repris", "Recording resumed"),
            K::CallerRemoved => self.t("Appelant retiré", "Caller removed"),
            K::DeliveryFailed => self.t("Échec d'envoi", "Delivery failed"),
        }
    }

    /// The API's error in the page's language: English as the API wrote it, French
    /// from the table of messages the forms can meet, or by error code.
    pub fn api_error(self, code: &str, message: &str) -> String {
        if self.0 == Language::En {
            return capitalised(message);
        }
        let m = message;
        for (english, french) in FRENCH_MESSAGES {
            if m.starts_with(english) {
                return (*french).to_string();
            }
        }
        if let Some(rest) = m.strip_prefix("at most ") {
            let n = rest.split_whitespace().next().unwrap_or("");
            return format!("Au plus {n} caractères.");
        }
        if m.starts_with("the ") && m.ends_with(" codes must differ") {
            return "Chaque rôle doit avoir son propre code.".into();
        }
        match code {
            "invalid" => "Cette valeur est refusée : vérifiez-la.".into(),
            "conflict" => "Cette valeur est déjà utilisée.".into(),
            "state" => "L'état actuel ne permet pas cette modification.".into(),
            "forbidden" => "Votre rôle ne permet pas cette action.".into(),
            "not_found" => "Introuvable.".into(),
            "too_large" => "Le fichier est trop volumineux (10 Mo et 5 minutes au plus).".into(),
            "too_many_attempts" => "Trop d'essais infructueux : réessayez plus tard.".into(),
            "unauthenticated" => "Courriel ou mot de passe erroné.".into(),
            "unavailable" => {
                "Le service est momentanément indisponible ; rien n'a été modifié. Réessayez."
                    .into()
            }
            _ => "Une erreur interne est survenue.".into(),
        }
    }
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

/// The French of the API's messages that a form can show next to a field (by prefix).
const FRENCH_MESSAGES: &[(&str, &str)] = &[
    ("required", "Ce champ est obligatoire."),
    (
        "the start cannot be in the past",
        "Le début ne peut pas être dans le passé.",
    ),
    (
        "the end cannot be in the past",
        "La fin ne peut pas être dans le passé.",
    ),
    (
        "the end must come after the start",
        "La fin doit venir après le début.",
    ),
    (
        "a conference lasts at most 24 hours",
        "Une téléconférence dure au plus 24 heures.",
    ),
    (
        "a running conference keeps its start",
        "Une téléconférence en cours garde son début.",
    ),
    (
        "an access code holds digits only",
        "Un code d'accès ne contient que des chiffres.",
    ),
    (
        "an access code has",
        "Un code d'accès a de 4 à 10 chiffres.",
    ),
    (
        "not a valid e-mail address",
        "Cette adresse courriel n'est pas valide.",
    ),
    (
        "a password has at least",
        "Le mot de passe a au moins 10 caractères.",
    ),
    (
        "this email is already taken",
        "Ce courriel est déjà utilisé.",
    ),
    (
        "this number is already taken",
        "Ce numéro est déjà attribué.",
    ),
    (
        "this source is already taken",
        "Ce téléphone IP est déjà inscrit, dans ce compte ou dans un autre.",
    ),
    (
        "an IP phone is an IP address",
        "Un téléphone IP est une adresse IP (192.0.2.10) ou une identité SIP (sip:poste@pbx.exemple.ca).",
    ),
    (
        "a SIP identity is sip:user@host",
        "Une identité SIP s'écrit sip:utilisateur@hôte, par exemple sip:poste@pbx.exemple.ca.",
    ),
    (
        "a SIP identity has no port",
        "Une identité SIP s'écrit sans port : sip:utilisateur@hôte.",
    ),
    (
        "a SIP identity has no parameters",
        "Une identité SIP s'écrit sans paramètres : sip:utilisateur@hôte.",
    ),
    (
        "the user part of a SIP identity",
        "La partie utilisateur d'une identité SIP a de 1 à 64 lettres, chiffres ou - _ . ! ~ * ' ( ) & = + $ ,",
    ),
    (
        "the host of a SIP identity",
        "L'hôte d'une identité SIP est un nom de domaine ou une adresse IP.",
    ),
    (
        "this address cannot be a phone's",
        "Cette adresse ne peut pas être celle d'un téléphone (non spécifiée, de diffusion ou de multidiffusion).",
    ),
    (
        "the 911 service address is required",
        "L'adresse du service 911 est obligatoire.",
    ),
    (
        "a conference access number must be filtered",
        "Un numéro d'accès aux téléconférences doit être « Filtrer ».",
    ),
    (
        "an account keeps at least one owner",
        "Le compte garde au moins un propriétaire (le fournisseur, un administrateur).",
    ),
    (
        "an account's users are",
        "Les utilisateurs d'un compte sont propriétaires, administrateurs ou opérateurs de téléconférences.",
    ),
    (
        "the provider's users are",
        "Les utilisateurs du fournisseur sont administrateurs ou finances.",
    ),
    (
        "control characters are not allowed",
        "Les caractères de contrôle sont refusés.",
    ),
    (
        "wrong e-mail or password",
        "Courriel ou mot de passe erroné.",
    ),
    (
        "too many failed attempts",
        "Trop d'essais infructueux : réessayez plus tard.",
    ),
    ("invite 1 to", "Invitez de 1 à 100 personnes à la fois."),
    (
        "this conference has ended",
        "Cette téléconférence est terminée.",
    ),
    (
        "callers are on the line",
        "Des appelants sont en ligne : une téléconférence en cours ne peut pas être supprimée.",
    ),
    (
        "an ended conference stays",
        "Une téléconférence terminée reste dans l'historique.",
    ),
    (
        "this account has no conference access number yet",
        "Ce compte n'a pas encore de numéro d'accès aux téléconférences : le fournisseur les attribue.",
    ),
    (
        "the conference is not running",
        "La téléconférence n'est pas en cours.",
    ),
    (
        "this caller is not on the line",
        "Cet appelant n'est plus en ligne.",
    ),
    (
        "the file contains no audio",
        "Le fichier ne contient aucun son.",
    ),
    (
        "a prompt file is at most",
        "Un fichier audio fait au plus 10 Mo.",
    ),
    ("not a WAV", "Ce fichier n'est pas un fichier « .wav »."),
    (
        "the participant limit is",
        "La limite de participants est de 1 à 10 000.",
    ),
    (
        "the rate cannot be negative",
        "Le tarif ne peut pas être négatif.",
    ),
    (
        "the billing increment is",
        "L'incrément de facturation est de 1 à 3 600 secondes.",
    ),
    (
        "the monthly fee cannot be negative",
        "Les frais mensuels ne peuvent pas être négatifs.",
    ),
    (
        "from must not be after to",
        "La date de début doit précéder la date de fin.",
    ),
    ("ask for at most", "Demandez au plus 13 mois à la fois."),
    (
        "no such prompt",
        "Ce message audio n'existe pas dans le compte.",
    ),
    ("not a valid", "Valeur invalide."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal::dec;

    const FR: L = L(Language::Fr);
    const EN: L = L(Language::En);

    #[test]
    fn dates_and_times_are_written_as_each_language_writes_them() {
        let t = FixedOffset::west_opt(4 * 3600)
            .unwrap()
            .with_ymd_and_hms(2019, 6, 6, 9, 30, 0)
            .unwrap();
        assert_eq!(FR.date_time(t), "6 juin 2019, 09 h 30");
        assert_eq!(EN.date_time(t), "June 6, 2019, 9:30 AM");
        let first = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(FR.date(first), "1er août 2026");
        assert_eq!(FR.month("2026-12"), "décembre 2026");
        assert_eq!(EN.month("2026-12"), "December 2026");
        assert_eq!(EN.month("nope"), "nope");
    }

    #[test]
    fn amounts_are_grouped_and_pointed_per_language() {
        assert_eq!(FR.money(dec!(1234.5)), "1\u{202f}234,50\u{a0}$");
        assert_eq!(EN.money(dec!(1234.5)), "$1,234.50");
        assert_eq!(EN.money(dec!(0.09)), "$0.09");
        assert_eq!(EN.money(dec!(1234567.005)), "$1,234,567.01");
        assert_eq!(EN.money(dec!(-5)), "-$5.00");
        assert_eq!(FR.number(dec!(1.50)), "1,5");
    }

    #[test]
    fn api_errors_are_shown_in_the_pages_language() {
        let past = "the start cannot be in the past";
        assert_eq!(
            FR.api_error("invalid", past),
            "Le début ne peut pas être dans le passé."
        );
        assert_eq!(
            EN.api_error("invalid", past),
            "The start cannot be in the past."
        );
        assert_eq!(
            FR.api_error("conflict", "something new"),
            "Cette valeur est déjà utilisée."
        );
        assert_eq!(
            FR.api_error("invalid", "at most 200 characters"),
            "Au plus 200 caractères."
        );
    }

    #[test]
    fn every_refusal_of_an_ip_phone_is_said_in_french() {
        let generic = FR.api_error("invalid", "");
        for typed in [
            "reception",
            "0.0.0.0",
            "sip:pbx.example",
            "sip:desk@pbx.example:5060",
            "sip:desk@pbx.example;transport=tcp",
            "sip:de sk@pbx.example",
            "sip:desk@-pbx",
            "sip:desk@[nope]",
        ] {
            let Err(teleconf_domain::Error::Invalid { message, .. }) =
                typed.parse::<teleconf_domain::IpPhoneSource>()
            else {
                panic!("{typed} is refused");
            };
            let french = FR.api_error("invalid", &message);
            assert_ne!(french, generic, "{message}");
        }
        assert!(
            FR.api_error("conflict", "this source is already taken")
                .starts_with("Ce téléphone IP est déjà inscrit")
        );
    }
}
