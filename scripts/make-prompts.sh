#!/usr/bin/env bash
# Generates the media node's default IVR prompts, French and English, offline:
# espeak-ng speaks each text, sox trims the leading/trailing silence, normalises the
# gain to -3 dBFS, resamples to 8 kHz mono, adds 150 ms of silence at the end (50 ms
# after the words that make up a time of day, which play back to back) and
# writes 8-bit G.711 µ-law WAV (issue #4, « Default prompts … made offline »).
#
#   scripts/make-prompts.sh
#
# Output (committed; CI does not regenerate it, `media-node/src/prompts.rs` embeds it):
#   media-node/prompts/{fr,en}/<name>.wav   sentences and the words that say a time
#   media-node/prompts/{fr,en}/nNN.wav      the numbers 0 to 59 (n00 … n59)
#   media-node/prompts/beep.wav             1 kHz, 200 ms
#   media-node/prompts/{entry,exit}.wav     250 ms glides, rising / falling (joins, leaves)
#
# Idempotent: sox runs in repeatable mode (-R) without dither (-D), so running it
# again rewrites byte-identical files. Each file is written to a temporary name and
# moved into place. The texts below are the reference: prompts.rs lists the same names.
#
# Time of day (NotYetOpen: "… opens at HH:MM"), assembled by prompts.rs from words:
#   fr, 24-hour clock: <hour> heures [<minute>]    09:25 → « neuf heures vingt-cinq »
#      hour 0 → « zéro heure », hour 1 → « une heure », minute 1 → « une », minute 0 → nothing.
#   en, 12-hour clock: <hour> (o'clock | oh <minute> | <minute>) (a.m. | p.m.)
#      09:25 → "nine twenty-five a.m.", 14:05 → "two oh five p.m.", 00:00 → "twelve o'clock a.m.".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/media-node/prompts"
SPEED=165      # words per minute (espeak-ng's default is 175)
WORD_PAD=0.05 # silence after a word of a time of day (sentences get 0.15 s)

missing=()
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "make-prompts: missing ${missing[*]}; install with: sudo apt-get install espeak-ng sox" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# say VOICE NAME TEXT [PAD]: speaks TEXT into $OUT/<lang>/NAME.wav (lang = the voice's
# prefix), followed by PAD seconds of silence (0.15 by default).
say() {
  local voice="$1" name="$2" text="$3" pad="${4:-0.15}"
  local lang="${voice%%-*}"
  local raw="$WORK/raw.wav" tmp="$OUT/$lang/.$name.wav.tmp"
  mkdir -p "$OUT/$lang"
  espeak-ng -v "$voice" -s "$SPEED" -w "$raw" -- "$text"
  # silence … reverse silence … reverse: trim both ends; norm: gain to -3 dBFS;
  # rate: anti-aliased resampling to 8 kHz; pad: silence at the end.
  sox -R -D "$raw" -r 8000 -c 1 -e mu-law -t wav "$tmp" \
    silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse \
    norm -3 rate 8000 pad 0 "$pad"
  mv -f "$tmp" "$OUT/$lang/$name.wav"
}

# --- French (vouvoiement; « carré » for # as said in Québec) ---------------------------
say fr greeting "Bienvenue au service de téléconférence."
say fr ask_number "Veuillez composer le numéro de la téléconférence, suivi du carré."
say fr ask_code "Veuillez composer votre code d'accès, suivi du carré."
say fr invalid_number "Ce numéro de téléconférence n'est pas valide."
say fr invalid_code "Ce code d'accès n'est pas valide."
say fr not_yet_open "Cette téléconférence n'est pas encore ouverte. L'accès ouvre à"
say fr ended "Cette téléconférence est terminée."
say fr full "Cette téléconférence est complète."
say fr locked "Cette téléconférence est verrouillée."
say fr too_many_attempts "Trop de tentatives. Veuillez réessayer plus tard."
say fr goodbye "Au revoir."
say fr heures "heures" "$WORD_PAD"
say fr heure "heure" "$WORD_PAD"
say fr une "une" "$WORD_PAD"
# In the conference (#5): keypad answers, announcements, the keys each role may use.
say fr muted "Votre micro est fermé."
say fr unmuted "Votre micro est ouvert."
say fr all_muted "Les micros des participants sont fermés."
say fr all_unmuted "Les micros des participants sont ouverts."
say fr conference_locked "La téléconférence est maintenant verrouillée."
say fr conference_unlocked "La téléconférence est maintenant déverrouillée."
say fr callers "participants en ligne."
say fr caller_removed "Le dernier participant arrivé a été retiré."
say fr nobody_to_remove "Il n'y a personne à retirer."
say fr first_caller "Vous êtes le premier participant."
say fr ends_soon "Cette téléconférence doit se terminer dans cinq minutes."
say fr help_listener "Étoile carré: le nombre de participants. Étoile zéro: cette aide."
say fr help_participant "Étoile six: fermer ou ouvrir votre micro. Étoile carré: le nombre de participants. Étoile zéro: cette aide."
say fr help_moderator "Étoile six: fermer ou ouvrir votre micro. Étoile cinq: fermer ou ouvrir les micros des participants. Étoile sept: verrouiller ou déverrouiller la téléconférence. Étoile huit: suspendre ou reprendre l'enregistrement. Étoile neuf: retirer le dernier participant arrivé. Étoile carré: le nombre de participants. Étoile zéro: cette aide."
say fr recorded "Cette téléconférence est enregistrée."
say fr intro_instructions "Enregistrez votre message d'accueil après le bip, puis appuyez sur le carré."
say fr intro_choice "Appuyez sur un pour conserver ce message, ou sur deux pour l'enregistrer de nouveau."
say fr intro_saved "Votre message d'accueil est enregistré."
say fr recording_paused "L'enregistrement est suspendu."
say fr recording_resumed "L'enregistrement reprend."

# --- English -------------------------------------------------------------------------
say en-us greeting "Welcome to the teleconference service."
say en-us ask_number "Please enter the conference number, followed by the pound key."
say en-us ask_code "Please enter your access code, followed by the pound key."
say en-us invalid_number "This conference number is not valid."
say en-us invalid_code "This access code is not valid."
say en-us not_yet_open "This conference is not open yet. Access opens at"
say en-us ended "This conference has ended."
say en-us full "This conference is full."
say en-us locked "This conference is locked."
say en-us too_many_attempts "Too many attempts. Please try again later."
say en-us goodbye "Goodbye."
say en-us oclock "o'clock" "$WORD_PAD"
say en-us oh "oh" "$WORD_PAD"
say en-us am "a.m." "$WORD_PAD"
say en-us pm "p.m." "$WORD_PAD"
say en-us muted "You are muted."
say en-us unmuted "You are unmuted."
say en-us all_muted "All participants are muted."
say en-us all_unmuted "All participants are unmuted."
say en-us conference_locked "The conference is now locked."
say en-us conference_unlocked "The conference is now unlocked."
say en-us callers "callers in the conference."
say en-us caller_removed "The last caller to join has been removed."
say en-us nobody_to_remove "There is no one to remove."
say en-us first_caller "You are the first caller."
say en-us ends_soon "This conference is scheduled to end in five minutes."
say en-us help_listener "Star pound: the number of callers. Star zero: this help."
say en-us help_participant "Star six: mute or unmute yourself. Star pound: the number of callers. Star zero: this help."
say en-us help_moderator "Star six: mute or unmute yourself. Star five: mute or unmute all participants. Star seven: lock or unlock the conference. Star eight: pause or resume the recording. Star nine: remove the last caller to join. Star pound: the number of callers. Star zero: this help."
say en-us recorded "This conference is recorded."
say en-us intro_instructions "Record your welcome message after the beep, then press the pound key."
say en-us intro_choice "Press one to keep this message, or two to record it again."
say en-us intro_saved "Your welcome message has been saved."
say en-us recording_paused "Recording is paused."
say en-us recording_resumed "Recording has resumed."

# --- Numbers 0 to 59, both languages (espeak-ng reads the digits in each language) -----
for n in $(seq 0 59); do
  name="$(printf 'n%02d' "$n")"
  say fr "$name" "$n" "$WORD_PAD"
  say en-us "$name" "$n" "$WORD_PAD"
done

# --- Beep: 1 kHz, 200 ms, 5 ms fades against clicks ------------------------------------
sox -R -D -n -r 8000 -c 1 -e mu-law -t wav "$OUT/.beep.wav.tmp" synth 0.2 sine 1000 vol 0.5 fade 0.005 0.2 0.005
mv -f "$OUT/.beep.wav.tmp" "$OUT/beep.wav"

# --- Entry and exit tones (#5): a 250 ms glide, rising for a join, falling for a leave ----
sox -R -D -n -r 8000 -c 1 -e mu-law -t wav "$OUT/.entry.wav.tmp" synth 0.25 sine 600:900 vol 0.4 fade 0.01 0.25 0.01
sox -R -D -n -r 8000 -c 1 -e mu-law -t wav "$OUT/.exit.wav.tmp" synth 0.25 sine 900:600 vol 0.4 fade 0.01 0.25 0.01
mv -f "$OUT/.entry.wav.tmp" "$OUT/entry.wav"
mv -f "$OUT/.exit.wav.tmp" "$OUT/exit.wav"

count="$(find "$OUT" -name '*.wav' | wc -l)"
size="$(du -sh "$OUT" | cut -f1)"
echo "make-prompts: $count WAV files in ${OUT#"$ROOT"/} ($size)"
