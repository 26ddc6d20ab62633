//! The SIP message codec: the edge between bytes on the wire and [`rsip`] messages.
//!
//! `rsip` 0.4 parses and prints SIP messages, but it expects clean input: CRLF line
//! endings, full header names, no folding, and it neither checks Content-Length nor
//! parses typed headers until they are read. This module owns everything between a
//! datagram (or a TCP byte stream) and an `rsip::SipMessage` the transaction layer can
//! trust, as pure functions that never panic:
//!
//! - [`parse`] reads one UDP datagram: leading CRLFs skipped (RFC 3261 §7.5), CRLF or
//!   bare-LF line endings in the header part (the body is never touched), folded header
//!   lines unfolded and whitespace around separators collapsed (§7.3.1, §25.1 `LWS`,
//!   `SWS`), compact header names expanded (§7.3.3, §20; IANA's list), Via lists split
//!   into one Via per header (§7.3.1, equivalent form), the body framed by
//!   Content-Length (§18.3), the mandatory headers (§8.1.1) present, single, and their
//!   typed forms parsed here rather than deep inside a transaction, and CSeq's method
//!   equal to the request's (§8.1.1.5).
//! - [`bad_request`] builds the stateless error response (§8.2.6: Via, From, To with a
//!   tag, Call-ID and CSeq copied) for a request [`parse`] refused, when it can.
//! - [`frame`] cuts the first message out of a TCP stream (§18.3: Content-Length is
//!   mandatory on streams; §7.5 and RFC 5626 §3.5.1: CRLF keep-alives between messages).
//! - [`encode`] prints a message with `rsip`, the body byte for byte, and a
//!   Content-Length that is always the body's true length (§18.3, §20.14).
//!
//! Tested against RFC 4475 (SIP torture tests), sipp's built-in scenarios, and a
//! property test over arbitrary and mutated bytes.

use std::borrow::Cow;

use rsip::headers::ToTypedHeader;
use rsip::{Header, SipMessage, StatusCode};

use super::MAX_MESSAGE_SIZE;
use super::error::SipError;
use super::response::stateless_tag;

/// The request methods `rsip` 0.4 can represent (its `Method` enum). SIP methods are
/// case-sensitive (RFC 3261 §7.1): `invite` is an unknown extension method, not INVITE.
const KNOWN_METHODS: [&str; 14] = [
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// Headers every request and response must carry (RFC 3261 §8.1.1; Max-Forwards is
/// tolerated when absent, as §16.6 and older UAs make it).
const MANDATORY: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];

/// Headers that may appear at most once (RFC 3261 §7.3.1: only comma-list headers may
/// repeat; RFC 4475 §3.1.2.19 expects a 400 when these do).
const SINGLE: [&str; 6] = [
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Content-Length",
];

/// What [`frame`] found at the start of a TCP receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// The buffer starts with this many CR/LF bytes: keep-alives (RFC 5626 §3.5.1
    /// "ping" is CRLFCRLF) or blank lines before a start line (RFC 3261 §7.5). Consume
    /// them and frame again; a node that implements RFC 5626 answers a ping with one
    /// CRLF ("pong"). A ping split across reads comes back as two `KeepAlive`s.
    KeepAlive(usize),
    /// The first this-many bytes are one whole message (start line, headers, empty
    /// line and Content-Length bytes of body): hand them to [`parse`], consume them and
    /// frame again.
    Complete(usize),
    /// A message has started but is not all here yet: read more and frame again.
    Incomplete,
    /// The stream cannot be framed (not SIP, no Content-Length, too large): the byte
    /// stream is out of step for good. Answer [`bad_request`] if it gives a response,
    /// then close the connection.
    Invalid(SipError),
}

/// Parses one UDP datagram (or one message cut from a TCP stream by [`frame`]) into a
/// message the transaction layer can trust.
///
/// Accepts CRLF or bare-LF line endings and empty lines before the start line;
/// unfolds folded headers; expands compact header names (`i f t v m l c k s e o r u b
/// x a j d y`); splits comma-separated Vias into one header each; collapses the
/// optional whitespace around `;`, `=` (and `/`, `:` in Via) in address and Via
/// headers so `rsip`'s typed parsers read them. The body is exactly the bytes after
/// the empty line, cut to Content-Length when one is given (RFC 3261 §18.3).
///
/// Requires Via, From, To, Call-ID and CSeq (each single, except Via), their typed
/// forms (and Max-Forwards', when present) to parse, and a request's CSeq method to
/// equal its method. Datagrams over [`MAX_MESSAGE_SIZE`] are refused unread.
pub fn parse(datagram: &[u8]) -> Result<SipMessage, SipError> {
    if datagram.len() > MAX_MESSAGE_SIZE {
        return Err(SipError::TooLarge {
            size: datagram.len(),
        });
    }
    let bytes = skip_crlf(datagram);
    if bytes.is_empty() {
        return Err(SipError::Empty);
    }
    let head = scan_head(bytes, false)?;
    let start = StartLine::parse(head.start)?;
    start.check_supported()?;
    let fields = normalise(head.fields);

    for name in SINGLE {
        if fields.iter().filter(|field| field.is(name)).count() > 1 {
            return Err(SipError::InvalidHeader {
                name,
                detail: "appears more than once".into(),
            });
        }
    }
    let available = bytes.get(head.len..).unwrap_or_default();
    let body = match content_length(&fields)? {
        Some(declared) if declared > available.len() => {
            return Err(SipError::ContentLength {
                declared,
                actual: available.len(),
            });
        }
        Some(declared) => available.get(..declared).unwrap_or_default(),
        None => available,
    };
    for name in MANDATORY {
        if !fields.iter().any(|field| field.is(name)) {
            return Err(SipError::MissingHeader(name));
        }
    }
    check_call_id(&fields)?;
    check_cseq(&fields, &start)?;

    let mut text = Vec::with_capacity(bytes.len() + 64);
    text.extend_from_slice(start.canonical().as_bytes());
    text.extend_from_slice(b"\r\n");
    for field in &fields {
        text.extend_from_slice(field.name.as_bytes());
        text.extend_from_slice(b": ");
        text.extend_from_slice(field.value.as_bytes());
        text.extend_from_slice(b"\r\n");
    }
    text.extend_from_slice(b"\r\n");
    text.extend_from_slice(body);
    let message = SipMessage::try_from(text.as_slice())
        .map_err(|error| SipError::Malformed(clip(&format!("rsip: {error}"))))?;
    check_typed(&message)?;
    Ok(message)
}

/// The stateless response to a request [`parse`] refused (RFC 3261 §8.2.6): status and
/// reason from [`SipError::status`] / [`SipError::reason`] (so 400 for most errors),
/// every Via in order, From, To (with a tag added when it has none), Call-ID and CSeq
/// copied, `Content-Length: 0`.
///
/// The headers are recovered best effort, the way [`parse`] reads them (compact names,
/// bare LF, folding), skipping lines that cannot be read. Returns `None`, and the
/// caller drops the datagram silently, when the bytes are empty, a keep-alive, a
/// response, an ACK (never answered, §17.2.1), not a recognisable request line, or
/// lack any of Via, From, To, Call-ID or CSeq.
///
/// The added To tag is the [`stateless_tag`] of the request's identity, not random: a
/// retransmitted bad request gets the very same response, and a 400 creates no dialog.
pub fn bad_request(datagram: &[u8], error: &SipError) -> Option<Vec<u8>> {
    if matches!(error, SipError::Empty) {
        return None;
    }
    let window = datagram.get(..MAX_MESSAGE_SIZE).unwrap_or(datagram);
    let bytes = skip_crlf(window);
    let head = scan_head(bytes, true).ok()?;
    let StartLine::Request { method, .. } = StartLine::parse(head.start).ok()? else {
        return None;
    };
    if method == "ACK" {
        return None;
    }
    let fields = normalise(head.fields);
    let first = |name: &str| {
        fields
            .iter()
            .find(|field| field.is(name))
            .map(|field| field.value.as_str())
            .filter(|value| !value.is_empty())
    };
    let vias: Vec<&str> = fields
        .iter()
        .filter(|field| field.is("Via") && !field.value.is_empty())
        .map(|field| field.value.as_str())
        .collect();
    let top_via = *vias.first()?;
    let from = first("From")?;
    let to = first("To")?;
    let call_id = first("Call-ID")?;
    let cseq = first("CSeq")?;

    let mut response = format!("SIP/2.0 {} {}\r\n", error.status(), error.reason());
    for via in &vias {
        response.push_str("Via: ");
        response.push_str(via);
        response.push_str("\r\n");
    }
    response.push_str("From: ");
    response.push_str(from);
    response.push_str("\r\nTo: ");
    response.push_str(to);
    if !has_tag(to) {
        response.push_str(";tag=");
        response.push_str(&stateless_tag(call_id, from, cseq, top_via));
    }
    response.push_str("\r\nCall-ID: ");
    response.push_str(call_id);
    response.push_str("\r\nCSeq: ");
    response.push_str(cseq);
    response.push_str("\r\nContent-Length: 0\r\n\r\n");
    Some(response.into_bytes())
}

/// Finds the first message in a TCP receive buffer (RFC 3261 §18.3).
///
/// Leading CR/LF bytes come back first as [`Framing::KeepAlive`], so a
/// [`Framing::Complete`] length always starts at a start line. The header section
/// ends at the first empty line (CRLF or bare LF); its Content-Length (full or
/// compact, possibly folded) is mandatory on a stream: missing, unreadable or
/// contradictory → [`Framing::Invalid`]. A first line that is not text, or not a SIP
/// request or status line, is invalid as soon as it is seen; a header section or
/// message over [`MAX_MESSAGE_SIZE`] is invalid rather than buffered forever. The
/// rest of the message is only checked later, by [`parse`].
///
/// Each call scans from the start of `stream`; with the 64 KiB cap that bounds the
/// work of a message trickling in.
pub fn frame(stream: &[u8]) -> Framing {
    let keep_alive = stream
        .iter()
        .take_while(|&&byte| byte == b'\r' || byte == b'\n')
        .count();
    if keep_alive > 0 {
        return Framing::KeepAlive(keep_alive);
    }
    if stream.is_empty() {
        return Framing::Incomplete;
    }
    let window = stream.get(..MAX_MESSAGE_SIZE).unwrap_or(stream);
    let Some(first_end) = window.iter().position(|&byte| byte == b'\n') else {
        // The first line is still arriving: refuse binary garbage now.
        let partial = window.strip_suffix(b"\r").unwrap_or(window);
        if partial.iter().any(|&byte| is_control(byte)) {
            return Framing::Invalid(SipError::Malformed(
                "control characters in the start line".into(),
            ));
        }
        if stream.len() > MAX_MESSAGE_SIZE {
            return Framing::Invalid(SipError::TooLarge { size: stream.len() });
        }
        return Framing::Incomplete;
    };
    let first_line = window.get(..first_end).unwrap_or_default();
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    if let Err(error) = start_text(first_line).and_then(|line| {
        if looks_like_start_line(line) {
            Ok(())
        } else {
            Err(SipError::Malformed("not a SIP start line".into()))
        }
    }) {
        return Framing::Invalid(error);
    }
    let head = match scan_head(window, true) {
        Ok(head) => head,
        Err(error) => return Framing::Invalid(error),
    };
    if !head.terminated {
        if stream.len() > MAX_MESSAGE_SIZE {
            return Framing::Invalid(SipError::TooLarge { size: stream.len() });
        }
        return Framing::Incomplete;
    }
    let lengths: Vec<&Field> = head
        .fields
        .iter()
        .filter(|field| field.is("Content-Length"))
        .collect();
    let declared = match lengths.as_slice() {
        [] => return Framing::Invalid(SipError::MissingHeader("Content-Length")),
        [field, rest @ ..] => {
            let declared = match length_value(&field.value) {
                Ok(declared) => declared,
                Err(error) => return Framing::Invalid(error),
            };
            if rest
                .iter()
                .any(|other| length_value(&other.value) != Ok(declared))
            {
                return Framing::Invalid(SipError::InvalidHeader {
                    name: "Content-Length",
                    detail: "contradictory values".into(),
                });
            }
            declared
        }
    };
    let total = head.len.saturating_add(declared);
    if total > MAX_MESSAGE_SIZE {
        return Framing::Invalid(SipError::TooLarge { size: total });
    }
    if stream.len() < total {
        Framing::Incomplete
    } else {
        Framing::Complete(total)
    }
}

/// Prints a message for the wire with `rsip`: CRLF line endings, the body byte for
/// byte (not through a lossy UTF-8 conversion), and exactly one Content-Length, equal
/// to the body's length (it replaces the first one present, or is appended). A
/// response's reason phrase is the RFC 3261 §21 phrase for known codes (`rsip` would
/// print the enum name, e.g. `486 BusyHere`). Header values are printed as they are:
/// values built by the caller must not contain line breaks.
pub fn encode(message: &SipMessage) -> Vec<u8> {
    let (start, headers, body) = match message {
        SipMessage::Request(request) => (
            format!("{} {} {}", request.method, request.uri, request.version),
            &request.headers,
            &request.body,
        ),
        SipMessage::Response(response) => (
            format!(
                "{} {} {}",
                response.version,
                response.status_code.code(),
                reason_phrase(&response.status_code)
            ),
            &response.headers,
            &response.body,
        ),
    };
    let mut out = Vec::with_capacity(start.len() + 64 * 12 + body.len());
    out.extend_from_slice(start.as_bytes());
    out.extend_from_slice(b"\r\n");
    let length = format!("Content-Length: {}\r\n", body.len());
    let mut length_written = false;
    for header in headers.iter() {
        let is_length = match header {
            Header::ContentLength(_) => true,
            Header::Other(name, _) => {
                name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l")
            }
            _ => false,
        };
        if is_length {
            if !length_written {
                out.extend_from_slice(length.as_bytes());
                length_written = true;
            }
            continue;
        }
        out.extend_from_slice(header.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !length_written {
        out.extend_from_slice(length.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

// ---------------------------------------------------------------------------------
// Header section scanning (shared by parse, bad_request and frame).
// ---------------------------------------------------------------------------------

/// One header field: its full name (compact forms expanded, other names as written)
/// and its value, unfolded and trimmed.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    value: String,
}

impl Field {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A start line and the header fields after it.
#[derive(Debug)]
struct Head<'a> {
    start: &'a str,
    fields: Vec<Field>,
    /// Bytes of the start line and header section, the empty line included.
    len: usize,
    /// Whether the empty line ending the header section was found.
    terminated: bool,
}

/// Splits the start line and header fields off `bytes` (which starts at the start
/// line). Strict: any unreadable line, or no empty line, is an error. Lenient (for
/// recovery and framing): unreadable header lines and their continuations are
/// skipped, and a missing empty line is reported in [`Head::terminated`]; only an
/// unreadable start line is an error.
fn scan_head(bytes: &[u8], lenient: bool) -> Result<Head<'_>, SipError> {
    let (first, mut pos, has_newline) = next_line(bytes, 0);
    if !has_newline && !lenient {
        return Err(SipError::Malformed("no end of the start line".into()));
    }
    let start = start_text(first)?;
    let mut fields: Vec<Field> = Vec::new();
    let mut skipping = false;
    let mut terminated = false;
    while pos < bytes.len() {
        let (line, next, has_newline) = next_line(bytes, pos);
        pos = next;
        if line.is_empty() && has_newline {
            terminated = true;
            break;
        }
        let text = match line_text(line) {
            Ok(text) => text,
            Err(error) if !lenient => return Err(error),
            Err(_) => {
                skipping = true;
                continue;
            }
        };
        if text.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some(field) if !skipping => {
                    let more = text.trim_matches([' ', '\t']);
                    if !more.is_empty() {
                        field
                            .value
                            .truncate(field.value.trim_end_matches([' ', '\t']).len());
                        if !field.value.is_empty() {
                            field.value.push(' ');
                        }
                        field.value.push_str(more);
                    }
                }
                _ if lenient => {}
                _ => {
                    return Err(SipError::Malformed(
                        "continuation line without a header before it".into(),
                    ));
                }
            }
            continue;
        }
        match split_field(&text) {
            Ok(field) => {
                skipping = false;
                fields.push(field);
            }
            Err(error) if !lenient => return Err(error),
            Err(_) => skipping = true,
        }
    }
    if !terminated && !lenient {
        return Err(SipError::Malformed(
            "header section not ended by an empty line".into(),
        ));
    }
    for field in &mut fields {
        let trimmed = field.value.trim_matches([' ', '\t']);
        if trimmed.len() != field.value.len() {
            field.value = trimmed.to_owned();
        }
    }
    Ok(Head {
        start,
        fields,
        len: pos,
        terminated,
    })
}

/// The line starting at `pos`: its bytes without the line ending (LF or CRLF), where
/// the next line starts, and whether a line ending was found.
fn next_line(bytes: &[u8], pos: usize) -> (&[u8], usize, bool) {
    let rest = bytes.get(pos..).unwrap_or_default();
    match rest.iter().position(|&byte| byte == b'\n') {
        Some(end) => {
            let line = rest.get(..end).unwrap_or_default();
            (
                line.strip_suffix(b"\r").unwrap_or(line),
                pos + end + 1,
                true,
            )
        }
        None => (rest, bytes.len(), false),
    }
}

/// A header line as text, with no control character but HTAB. RFC 3261 §7.3 wants
/// UTF-8; a line that is not UTF-8 is read as ISO-8859-1 instead of being refused
/// (older PBXs send Latin-1 display names, e.g. `"Fr\xe9d\xe9ric"`), so it arrives
/// as the same characters in UTF-8.
fn line_text(line: &[u8]) -> Result<Cow<'_, str>, SipError> {
    if line.iter().any(|&byte| is_control(byte)) {
        return Err(SipError::Malformed(
            "control characters in a header line".into(),
        ));
    }
    Ok(match std::str::from_utf8(line) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(line.iter().map(|&byte| char::from(byte)).collect()),
    })
}

/// The start line as text: ASCII in practice (method, URI, version, status), so it
/// must be UTF-8 with no control character at all.
fn start_text(line: &[u8]) -> Result<&str, SipError> {
    if line.iter().any(|&byte| byte < 0x20 || byte == 0x7f) {
        return Err(SipError::Malformed(
            "control characters in the start line".into(),
        ));
    }
    std::str::from_utf8(line).map_err(|_| SipError::Malformed("start line is not UTF-8".into()))
}

fn is_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7f
}

/// `name HCOLON value` (RFC 3261 §7.3.1: whitespace allowed before the colon).
fn split_field(text: &str) -> Result<Field, SipError> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| SipError::Malformed("header line without a colon".into()))?;
    let name = name.trim_end_matches([' ', '\t']);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(SipError::Malformed(clip(&format!(
            "bad header name {name:?}"
        ))));
    }
    let name = expand_compact(name).map_or_else(|| name.to_owned(), str::to_owned);
    Ok(Field {
        name,
        value: value.trim_start_matches([' ', '\t']).to_owned(),
    })
}

/// RFC 3261 §25.1 `token` characters.
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&byte)
}

/// The full name of a compact header name (RFC 3261 §7.3.3 and the IANA SIP
/// parameters registry), case-insensitively.
fn expand_compact(name: &str) -> Option<&'static str> {
    let [letter] = name.as_bytes() else {
        return None;
    };
    Some(match letter.to_ascii_lowercase() {
        b'a' => "Accept-Contact",
        b'b' => "Referred-By",
        b'c' => "Content-Type",
        b'd' => "Request-Disposition",
        b'e' => "Content-Encoding",
        b'f' => "From",
        b'i' => "Call-ID",
        b'j' => "Reject-Contact",
        b'k' => "Supported",
        b'l' => "Content-Length",
        b'm' => "Contact",
        b'o' => "Event",
        b'r' => "Refer-To",
        b's' => "Subject",
        b't' => "To",
        b'u' => "Allow-Events",
        b'v' => "Via",
        b'x' => "Session-Expires",
        b'y' => "Identity",
        _ => return None,
    })
}

/// Headers whose values are name-addr / addr-spec lists with parameters.
const ADDRESS_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Contact",
    "Route",
    "Record-Route",
    "Reply-To",
    "Refer-To",
    "Referred-By",
];

/// Rewrites fields into the forms `rsip`'s typed parsers read: one Via per header,
/// the optional whitespace around separators dropped in Via and address headers, and
/// whitespace runs collapsed in the numeric and identifier headers.
fn normalise(fields: Vec<Field>) -> Vec<Field> {
    let mut out = Vec::with_capacity(fields.len() + 2);
    for field in fields {
        if field.is("Via") {
            let mut any = false;
            for item in split_outside_quotes(&field.value, ',') {
                let value = collapse_whitespace(item, &[';', '=', '/', ':', ',']);
                if !value.is_empty() {
                    any = true;
                    out.push(Field {
                        name: field.name.clone(),
                        value,
                    });
                }
            }
            if !any {
                out.push(Field {
                    name: field.name,
                    value: String::new(),
                });
            }
        } else if ADDRESS_HEADERS.iter().any(|name| field.is(name)) {
            out.push(Field {
                value: collapse_whitespace(&field.value, &[';', '=']),
                name: field.name,
            });
        } else if ["CSeq", "Call-ID", "Content-Length", "Max-Forwards"]
            .iter()
            .any(|name| field.is(name))
        {
            out.push(Field {
                value: collapse_whitespace(&field.value, &[]),
                name: field.name,
            });
        } else {
            out.push(field);
        }
    }
    out
}

/// Tracks whether a header value's characters are inside a quoted string (RFC 3261
/// §25.1 `quoted-string`, with `\` escapes): the one rule the scanners below share.
#[derive(Debug, Default, Clone, Copy)]
struct Quotes {
    quoted: bool,
    escaped: bool,
}

impl Quotes {
    /// Feeds `c`; true when `c` belongs to a quoted string (its opening and closing
    /// quotes included).
    fn feed(&mut self, c: char) -> bool {
        if self.quoted {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.quoted = false;
            }
            return true;
        }
        if c == '"' {
            self.quoted = true;
            return true;
        }
        false
    }
}

/// Splits on `separator` outside double-quoted strings and `<...>`.
fn split_outside_quotes(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut from = 0;
    let mut quotes = Quotes::default();
    let mut angle = false;
    for (index, c) in value.char_indices() {
        if !angle && quotes.feed(c) {
            continue;
        }
        match c {
            '<' => angle = true,
            '>' => angle = false,
            c if c == separator && !angle => {
                parts.push(value.get(from..index).unwrap_or_default());
                from = index + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(value.get(from..).unwrap_or_default());
    parts
}

/// Outside quoted strings and `<...>`: drops whitespace next to a separator (RFC 3261
/// §25.1 `SEMI`, `EQUAL`, `SLASH`, `COLON` allow it) and collapses other whitespace
/// runs to one space; trims both ends. Idempotent.
fn collapse_whitespace(value: &str, separators: &[char]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut quotes = Quotes::default();
    let mut angle = false;
    let mut pending_space = false;
    for c in value.chars() {
        if quotes.quoted {
            quotes.feed(c);
            out.push(c);
            continue;
        }
        if angle {
            out.push(c);
            if c == '>' {
                angle = false;
            }
            continue;
        }
        if c == ' ' || c == '\t' {
            pending_space = true;
            continue;
        }
        if pending_space {
            pending_space = false;
            let after_separator = out.chars().last().is_none_or(|p| separators.contains(&p));
            if !after_separator && !separators.contains(&c) {
                out.push(' ');
            }
        }
        if !quotes.feed(c) && c == '<' {
            angle = true;
        }
        out.push(c);
    }
    out
}

/// The Content-Length value, if any: digits only, at most once (checked by the caller
/// for parse).
fn content_length(fields: &[Field]) -> Result<Option<usize>, SipError> {
    fields
        .iter()
        .find(|field| field.is("Content-Length"))
        .map(|field| length_value(&field.value))
        .transpose()
}

fn length_value(value: &str) -> Result<usize, SipError> {
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(SipError::InvalidHeader {
            name: "Content-Length",
            detail: clip(&format!("not a number: {value:?}")),
        });
    }
    value.parse().map_err(|_| SipError::InvalidHeader {
        name: "Content-Length",
        detail: "out of range".into(),
    })
}

// ---------------------------------------------------------------------------------
// Start line and semantic checks.
// ---------------------------------------------------------------------------------

/// RFC 3261 §7.1 Request-Line / §7.2 Status-Line, single spaces as the grammar says.
#[derive(Debug)]
enum StartLine<'a> {
    Request {
        method: &'a str,
        uri: &'a str,
        version: &'a str,
    },
    Response {
        version: &'a str,
        code: u16,
        reason: &'a str,
    },
}

impl<'a> StartLine<'a> {
    fn parse(line: &'a str) -> Result<Self, SipError> {
        let malformed = |what: &str| SipError::Malformed(clip(&format!("{what}: {line:?}")));
        if starts_with_sip(line) {
            let (version, rest) = line
                .split_once(' ')
                .ok_or_else(|| malformed("bad status line"))?;
            let (code, reason) = rest
                .split_once(' ')
                .ok_or_else(|| malformed("bad status line"))?;
            let code = (code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| code.parse::<u16>().ok())
                .flatten()
                .filter(|code| (100..=699).contains(code))
                .ok_or_else(|| malformed("bad status code"))?;
            if !is_version(version) {
                return Err(malformed("bad SIP version"));
            }
            Ok(Self::Response {
                version,
                code,
                reason,
            })
        } else {
            let mut parts = line.split(' ');
            let (Some(method), Some(uri), Some(version), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(malformed("bad request line"));
            };
            if method.is_empty() || !method.bytes().all(is_token) || uri.is_empty() {
                return Err(malformed("bad request line"));
            }
            if !is_version(version) {
                return Err(malformed("bad SIP version"));
            }
            Ok(Self::Request {
                method,
                uri,
                version,
            })
        }
    }

    fn check_supported(&self) -> Result<(), SipError> {
        let version = match self {
            Self::Request { version, .. } | Self::Response { version, .. } => version,
        };
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err(SipError::UnsupportedVersion(clip(version)));
        }
        if let Self::Request { method, .. } = self {
            if !KNOWN_METHODS.contains(method) {
                return Err(SipError::UnknownMethod(clip(method)));
            }
        }
        Ok(())
    }

    fn canonical(&self) -> String {
        match self {
            Self::Request { method, uri, .. } => format!("{method} {uri} SIP/2.0"),
            Self::Response { code, reason, .. } => format!("SIP/2.0 {code} {reason}"),
        }
    }
}

fn starts_with_sip(line: &str) -> bool {
    line.as_bytes()
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"SIP/"))
}

/// `"SIP" "/" 1*DIGIT "." 1*DIGIT` (case-insensitive literal).
fn is_version(version: &str) -> bool {
    if !starts_with_sip(version) {
        return false;
    }
    let digits = version.get(4..).unwrap_or_default();
    let Some((major, minor)) = digits.split_once('.') else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Cheap test for [`frame`]: the first line names a SIP version where a request or
/// status line would.
fn looks_like_start_line(line: &str) -> bool {
    starts_with_sip(line)
        || line
            .rsplit_once(' ')
            .is_some_and(|(_, version)| is_version(version))
}

/// Call-ID is `word ["@" word]` (RFC 3261 §25.1): not empty, no whitespace.
fn check_call_id(fields: &[Field]) -> Result<(), SipError> {
    for field in fields.iter().filter(|field| field.is("Call-ID")) {
        if field.value.is_empty() || field.value.contains([' ', '\t']) {
            return Err(SipError::InvalidHeader {
                name: "Call-ID",
                detail: clip(&format!("not a word: {:?}", field.value)),
            });
        }
    }
    Ok(())
}

/// CSeq is `1*DIGIT LWS Method`; in a request the method is the request's, exactly
/// (methods are case-sensitive).
fn check_cseq(fields: &[Field], start: &StartLine<'_>) -> Result<(), SipError> {
    let Some(field) = fields.iter().find(|field| field.is("CSeq")) else {
        return Ok(());
    };
    let invalid = || SipError::InvalidHeader {
        name: "CSeq",
        detail: clip(&format!("not `number method`: {:?}", field.value)),
    };
    let (number, method) = field.value.split_once(' ').ok_or_else(invalid)?;
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(invalid());
    }
    if let StartLine::Request {
        method: request, ..
    } = start
    {
        if method != *request {
            return Err(SipError::CSeqMismatch {
                method: clip(request),
                cseq: clip(method),
            });
        }
    }
    Ok(())
}

/// Forces `rsip`'s lazy typed parsing of the headers the transaction and dialog
/// layers read, so a bad one is refused here.
fn check_typed(message: &SipMessage) -> Result<(), SipError> {
    fn invalid(name: &'static str, error: rsip::Error) -> SipError {
        SipError::InvalidHeader {
            name,
            detail: clip(&error.to_string()),
        }
    }
    let headers = match message {
        SipMessage::Request(request) => &request.headers,
        SipMessage::Response(response) => &response.headers,
    };
    for header in headers.iter() {
        match header {
            Header::Via(via) => {
                via.typed().map_err(|error| invalid("Via", error))?;
            }
            Header::From(from) => {
                from.typed().map_err(|error| invalid("From", error))?;
            }
            Header::To(to) => {
                to.typed().map_err(|error| invalid("To", error))?;
            }
            Header::CSeq(cseq) => {
                cseq.typed().map_err(|error| invalid("CSeq", error))?;
            }
            Header::MaxForwards(max_forwards) => {
                max_forwards
                    .num()
                    .map_err(|error| invalid("Max-Forwards", error))?;
            }
            Header::ContentLength(length) => {
                length
                    .length()
                    .map_err(|error| invalid("Content-Length", error))?;
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------

fn skip_crlf(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .take_while(|&&byte| byte == b'\r' || byte == b'\n')
        .count();
    bytes.get(skip..).unwrap_or_default()
}

/// Whether an address header value (name-addr or addr-spec, RFC 3261 §20.39) carries
/// a `tag` header parameter.
fn has_tag(value: &str) -> bool {
    // name-addr: the header parameters follow the closing '>' (outside quotes);
    // addr-spec: they follow the URI's first ';'.
    let mut quotes = Quotes::default();
    let mut close = None;
    for (index, c) in value.char_indices() {
        if !quotes.feed(c) && c == '>' {
            close = Some(index);
        }
    }
    let params = match close {
        Some(index) => value.get(index + 1..).unwrap_or_default(),
        None => value.split_once(';').map_or("", |(_, params)| params),
    };
    split_outside_quotes(params, ';').iter().any(|param| {
        let name = param.split_once('=').map_or(*param, |(name, _)| name);
        name.trim_matches([' ', '\t']).eq_ignore_ascii_case("tag")
    })
}

/// Error details stay log-sized (and never carry a whole datagram).
fn clip(text: &str) -> String {
    const LIMIT: usize = 120;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

/// The RFC 3261 §21 (and RFC 3265/4028/6665) reason phrase for a status code.
fn reason_phrase(status: &StatusCode) -> String {
    let phrase = match status.code() {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        199 => "Early Dialog Terminated",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        580 => "Precondition Failure",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => {
            let text = match status {
                StatusCode::Other(_, reason) => reason.clone(),
                known => known
                    .to_string()
                    .split_once(' ')
                    .map_or_else(String::new, |(_, name)| name.to_owned()),
            };
            return text.chars().filter(|c| !c.is_control()).collect();
        }
    };
    phrase.to_owned()
}

#[cfg(test)]
mod tests;
