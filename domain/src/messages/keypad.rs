//! The keypad commands, as the mail explains them to a moderator (the same keys the
//! media node obeys and lists aloud on `*0`; the README's table).

use crate::Language;

/// Each key sequence and what it does, in the order of the README's table.
pub fn moderator_keys(language: Language) -> &'static [(&'static str, &'static str)] {
    match language {
        Language::Fr => &[
            ("*0", "les touches que vous pouvez utiliser"),
            ("*#", "le nombre de personnes en ligne"),
            ("*6", "couper ou rétablir votre micro"),
            (
                "*5",
                "couper ou rétablir le micro de tous les participants (mode conférence)",
            ),
            ("*7", "verrouiller ou déverrouiller la téléconférence"),
            ("*8", "suspendre ou reprendre l'enregistrement"),
            ("*9", "retirer la dernière personne entrée"),
        ],
        Language::En => &[
            ("*0", "the keys you may use"),
            ("*#", "how many callers are in"),
            ("*6", "mute or unmute yourself"),
            ("*5", "mute or unmute every participant (lecture mode)"),
            ("*7", "lock or unlock the conference"),
            ("*8", "pause or resume the recording"),
            ("*9", "remove the caller who joined last"),
        ],
    }
}
