//! Responses a UAS builds from a request (RFC 3261 §8.2.6): [`response_to`], the
//! headers every response copies, and [`stateless_tag`], the To tag of a response
//! sent outside any transaction or dialog.

use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Request, Response, StatusCode};

/// A response to `request` (RFC 3261 §8.2.6): every Via in order, From, To (with
/// `to_tag` added when given and the To has no tag yet), Call-ID and CSeq copied; no
/// body. The TU adds Contact, Allow, a body and so on.
pub fn response_to(request: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut headers = rsip::Headers::default();
    for header in request.headers.iter() {
        match header {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(header.clone());
            }
            Header::To(to) => {
                // An unreadable tag counts as present: never add a second one.
                let has_tag = to.tag().map_or(true, |tag| tag.is_some());
                let to = match to_tag {
                    Some(tag) if !has_tag => {
                        rsip::headers::To::new(format!("{};tag={tag}", to.value()))
                    }
                    _ => to.clone(),
                };
                headers.push(Header::To(to));
            }
            _ => {}
        }
    }
    headers.push(Header::ContentLength(rsip::headers::ContentLength::from(
        0u32,
    )));
    Response {
        status_code: StatusCode::from(status),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// `response` with `Retry-After: secs` (RFC 3261 §20.33): when the request may
/// be tried again (a 503 of a node past its capacity, a 500 to a re-INVITE that
/// crossed another).
pub fn with_retry_after(mut response: Response, secs: u64) -> Response {
    response
        .headers
        .push(Header::RetryAfter(rsip::headers::RetryAfter::new(
            secs.to_string(),
        )));
    response
}

/// The To tag of a stateless response (a 400 for a message the codec refused, a
/// 403, 404, 481 or 503 outside any call, the 200 to an OPTIONS keep-alive): a
/// 64-bit FNV-1a hash of the request's Call-ID, From, CSeq and top Via, in hex. Not
/// random: a retransmitted request gets the very same response (RFC 3261 §8.2.6.2
/// asks only that the tag be the same for the same request), and no dialog is made.
pub fn stateless_tag(call_id: &str, from: &str, cseq: &str, top_via: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [call_id, from, cseq, top_via] {
        for &byte in part.as_bytes().iter().chain(&[0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// A stateless response to `request`: [`response_to`] with the [`stateless_tag`]
/// of its Call-ID, From, CSeq and top Via (each empty when unreadable).
pub fn stateless_response(request: &Request, status: u16) -> Response {
    let value = |header: Result<String, rsip::Error>| header.unwrap_or_default();
    let tag = stateless_tag(
        &value(request.call_id_header().map(|h| h.value().to_string())),
        &value(request.from_header().map(|h| h.value().to_string())),
        &value(request.cseq_header().map(|h| h.value().to_string())),
        &value(request.via_header().map(|h| h.value().to_string())),
    );
    response_to(request, status, Some(&tag))
}

#[cfg(test)]
mod tests {
    use rsip::SipMessage;

    use super::*;
    use crate::message::parse;
    use crate::testkit::{SIPP_INVITE_HEAD, message};

    fn request(text: &str) -> Request {
        match parse(text.as_bytes()).expect("a valid literal") {
            SipMessage::Request(request) => request,
            SipMessage::Response(_) => panic!("not a request"),
        }
    }

    fn to_tag(response: &Response) -> Option<String> {
        let to = response.to_header().expect("a To");
        to.tag()
            .expect("readable")
            .map(|tag| tag.value().to_string())
    }

    #[test]
    fn a_retransmitted_request_gets_the_same_stateless_tag_and_another_request_another() {
        let invite = request(&message(SIPP_INVITE_HEAD, ""));
        let first = stateless_response(&invite, 404);
        let again = stateless_response(&invite, 404);
        let tag = to_tag(&first).expect("a tag added");
        assert_eq!(tag.len(), 16);
        assert_eq!(to_tag(&again), Some(tag.clone()));
        let other = request(&message(
            &SIPP_INVITE_HEAD.replace("CSeq: 1 INVITE", "CSeq: 2 INVITE"),
            "",
        ));
        assert_ne!(to_tag(&stateless_response(&other, 404)), Some(tag));
    }

    #[test]
    fn a_stateless_response_keeps_a_to_tag_the_request_has() {
        let in_dialog = request(&message(
            &SIPP_INVITE_HEAD.replace(
                "To: <sip:+33100000000@127.0.0.1:5060>",
                "To: <sip:+33100000000@127.0.0.1:5060>;tag=theirs",
            ),
            "",
        ));
        let response = stateless_response(&in_dialog, 481);
        assert_eq!(response.status_code.code(), 481);
        assert_eq!(to_tag(&response).as_deref(), Some("theirs"));
    }
}
