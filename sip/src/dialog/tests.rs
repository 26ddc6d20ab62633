//! Literal-message tests of the UAS dialog: INVITEs shaped like sipp's `uac` scenario
//! and baresip's, every produced message printed with the codec's `encode` and read
//! back with its `parse` (what we send is what our own codec accepts).

use std::net::Ipv4Addr;

use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Request, Response, SipMessage};

use super::*;
use crate::message::{encode, parse};
use crate::sdp::{self, LocalMedia};
use crate::testkit::{SIPP_SDP, message};

/// sipp's `uac` INVITE, through two record-routing proxies.
fn sipp_invite() -> String {
    message(
        "INVITE sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-p2-77\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0\r\n\
Record-Route: <sip:p2.example.net;lr>\r\n\
Record-Route: <sip:127.0.0.1:5070;transport=udp;lr>\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 69\r\n\
Subject: Performance Test\r\n\
Content-Type: application/sdp\r\n",
        SIPP_SDP,
    )
}

/// baresip's INVITE, straight to us (no proxy), with a bracketed Contact.
fn baresip_invite() -> String {
    message(
        "INVITE sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:40406;branch=z9hG4bKd8c7c9d1a0b2e3f4;rport\r\n\
Contact: <sip:alice-0x55d1@127.0.0.1:40406;transport=udp>\r\n\
Max-Forwards: 70\r\n\
To: <sip:+33100000000@127.0.0.1:5060>\r\n\
From: <sip:alice@127.0.0.1>;tag=6c8a2b7e0f1d4c3a\r\n\
Call-ID: 4f6b1e2d9c8a7b6e\r\n\
CSeq: 22931 INVITE\r\n\
User-Agent: baresip v3.10.1 (x86_64/linux)\r\n\
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\n\
Supported: replaces,norefersub\r\n\
Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    )
}

/// baresip's offer: PCMU, PCMA, telephone-event.
const BARESIP_SDP: &str = "v=0\r\n\
o=- 1403718233 2108764523 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 10000 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

/// A request baresip sends on the dialog `baresip_invite` created (our tag `node1`).
fn baresip_in_dialog(method: &str, cseq: u32, extra: &str, body: &str) -> String {
    message(
        &format!(
            "{method} sip:alice-0x55d1@127.0.0.1:40406 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:40406;branch=z9hG4bK{method}{cseq};rport\r\n\
Contact: <sip:alice-0x55d1@127.0.0.1:40406;transport=udp>\r\n\
Max-Forwards: 70\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
From: <sip:alice@127.0.0.1>;tag=6c8a2b7e0f1d4c3a\r\n\
Call-ID: 4f6b1e2d9c8a7b6e\r\n\
CSeq: {cseq} {method}\r\n\
{extra}"
        ),
        body,
    )
}

/// sipp's request on the dialog `sipp_invite` created (our tag `node1`).
fn sipp_in_dialog(method: &str, cseq: u32) -> String {
    message(
        &format!(
            "{method} sip:conference@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-{cseq}-{method}\r\n\
Route: <sip:127.0.0.1:5070;transport=udp;lr>, <sip:p2.example.net;lr>\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: {cseq} {method}\r\n\
Max-Forwards: 70\r\n"
        ),
        "",
    )
}

fn request(text: &str) -> Request {
    match parse(text.as_bytes()).expect("a valid literal") {
        SipMessage::Request(request) => request,
        SipMessage::Response(_) => panic!("not a request"),
    }
}

/// Prints `response` with our codec and reads it back: the text and the message.
fn sent_response(response: Response) -> (String, Response) {
    let bytes = encode(&response.into());
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    match parse(&bytes) {
        Ok(SipMessage::Response(response)) => (text, response),
        other => panic!("our codec refused what we send: {other:?}\n{text}"),
    }
}

/// Prints `request` with our codec and reads it back: the text and the message.
fn sent_request(request: Request) -> (String, Request) {
    let bytes = encode(&request.into());
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    match parse(&bytes) {
        Ok(SipMessage::Request(request)) => (text, request),
        other => panic!("our codec refused what we send: {other:?}\n{text}"),
    }
}

fn our_contact() -> rsip::Uri {
    rsip::Uri::try_from("sip:conference@127.0.0.1:5060").expect("a URI")
}

fn dialog(invite: &str) -> Dialog {
    Dialog::accept(&request(invite), "node1", &our_contact()).expect("a dialog")
}

/// A dialog of `baresip_invite` whose 200 was ACKed.
fn confirmed_baresip() -> Dialog {
    let mut dialog = dialog(&baresip_invite());
    let ack = baresip_in_dialog("ACK", 22931, "", "");
    assert_eq!(dialog.classify(&request(&ack)), InDialog::Ack { sdp: None });
    assert_eq!(dialog.state(), DialogState::Confirmed);
    dialog
}

/// The response a classification carries, printed and read back.
fn response_of(classified: InDialog) -> (String, Response) {
    match classified {
        InDialog::Bye { response }
        | InDialog::Info { response, .. }
        | InDialog::Options { response }
        | InDialog::Reject { response } => sent_response(response),
        other => panic!("no response to send: {other:?}"),
    }
}

fn values<'a>(message: &'a Response, name: &str) -> Vec<&'a str> {
    message
        .headers
        .iter()
        .filter_map(|header| {
            let text = header.to_string();
            let (header_name, _) = text.split_once(':')?;
            header_name
                .eq_ignore_ascii_case(name)
                .then(|| header_value(header))
        })
        .collect()
}

fn header_value(header: &Header) -> &str {
    match header {
        Header::Contact(h) => h.value(),
        Header::RecordRoute(h) => h.value(),
        Header::Route(h) => h.value(),
        Header::To(h) => h.value(),
        Header::Allow(h) => h.value(),
        Header::ContentType(h) => h.value(),
        Header::RetryAfter(h) => h.value(),
        Header::Accept(h) => h.value(),
        Header::Other(_, value) => value,
        _ => "",
    }
}

fn local_media() -> LocalMedia {
    LocalMedia {
        addr: Ipv4Addr::LOCALHOST,
        port: 20000,
        session_id: 7,
        version: 1,
    }
}

#[test]
fn a_dialog_is_created_from_the_invite_and_our_to_tag() {
    let dialog = dialog(&baresip_invite());

    assert_eq!(dialog.call_id(), "4f6b1e2d9c8a7b6e");
    assert_eq!(dialog.local_tag(), "node1");
    assert_eq!(dialog.remote_tag(), "6c8a2b7e0f1d4c3a");
    assert_eq!(
        dialog.remote_target().to_string(),
        // rsip prints transport values upper-case; they compare case-insensitively
        // (RFC 3261 §19.1.4).
        "sip:alice-0x55d1@127.0.0.1:40406;transport=UDP"
    );
    assert_eq!(dialog.route_set().count(), 0);
    assert_eq!(dialog.remote_seq(), 22931);
    assert_eq!(dialog.state(), DialogState::Early);
}

#[test]
fn the_200_carries_our_tag_contact_and_the_record_route() {
    let invite = request(&sipp_invite());
    let dialog = dialog(&sipp_invite());
    let (answer, _) =
        sdp::answer(&sdp::parse(SIPP_SDP).expect("sipp's SDP"), &local_media()).expect("an answer");

    let (text, ok) = sent_response(dialog.answer(&invite, 200, Some(&answer)));

    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(
        text.contains("To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Contact: <sip:conference@127.0.0.1:5060>\r\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "Record-Route: <sip:p2.example.net;lr>\r\n\
Record-Route: <sip:127.0.0.1:5070;transport=udp;lr>\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"));
    assert!(text.contains("Content-Type: application/sdp\r\n"));
    assert_eq!(
        ok.headers
            .iter()
            .filter(|header| matches!(header, Header::Via(_)))
            .count(),
        2
    );
    assert_eq!(ok.body, answer.as_bytes());
    assert_eq!(
        ok.to_header()
            .expect("To")
            .tag()
            .expect("a tag")
            .map(|tag| tag.value().to_owned()),
        Some("node1".to_owned())
    );

    // A provisional response creates the early dialog too; a 100 does not.
    let (ringing, _) = sent_response(dialog.answer(&invite, 180, None));
    assert!(ringing.contains(";tag=node1\r\n") && ringing.contains("Contact: "));
    assert!(!ringing.contains("Content-Type"), "{ringing}");
    let (trying, _) = sent_response(dialog.answer(&invite, 100, None));
    assert!(!trying.contains("tag=node1") && !trying.contains("Contact"));
    // A refusal carries our tag but neither Contact nor Record-Route.
    let (refused, _) = sent_response(dialog.answer(&invite, 488, None));
    assert!(refused.starts_with("SIP/2.0 488 "), "{refused}");
    assert!(refused.contains(";tag=node1\r\n"));
    assert!(!refused.contains("Contact") && !refused.contains("Record-Route"));
}

#[test]
fn the_route_set_comes_from_record_route_in_order() {
    let dialog = dialog(&sipp_invite());
    let routes: Vec<&str> = dialog.route_set().collect();
    assert_eq!(
        routes,
        [
            "sip:p2.example.net;lr",
            "sip:127.0.0.1:5070;transport=udp;lr"
        ]
    );

    // The same two proxies in one comma-separated header: same route set.
    let folded = sipp_invite().replace(
        "Record-Route: <sip:p2.example.net;lr>\r\nRecord-Route: ",
        "Record-Route: <sip:p2.example.net;lr>, ",
    );
    let folded = super::tests::dialog(&folded);
    assert_eq!(folded.route_set().collect::<Vec<_>>(), routes);
}

#[test]
fn a_bye_from_the_caller_ends_the_dialog_with_200() {
    let mut dialog = confirmed_baresip();
    let bye = baresip_in_dialog("BYE", 22932, "", "");

    let (text, _) = response_of(dialog.classify(&request(&bye)));

    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(text.contains("CSeq: 22932 BYE\r\n"), "{text}");
    assert!(text.contains(";tag=node1\r\n"), "{text}");
    assert_eq!(dialog.state(), DialogState::Terminated);

    // Anything after that finds no dialog.
    let info = baresip_in_dialog("INFO", 22933, "", "");
    let (text, _) = response_of(dialog.classify(&request(&info)));
    assert!(text.starts_with("SIP/2.0 481 "), "{text}");
}

#[test]
fn our_bye_goes_to_the_remote_target_through_the_route_set_with_a_higher_cseq() {
    let mut dialog = dialog(&sipp_invite());
    assert_eq!(
        dialog.classify(&request(&sipp_in_dialog("ACK", 1))),
        InDialog::Ack { sdp: None }
    );

    let (text, bye) = sent_request(dialog.bye("127.0.0.1:5060", "z9hG4bK-node-bye-1"));

    assert!(
        text.starts_with("BYE sip:sipp@127.0.0.1:5061 SIP/2.0\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-node-bye-1\r\n"),
        "{text}"
    );
    assert!(text.contains("Max-Forwards: 70\r\n"), "{text}");
    assert!(
        text.contains(
            "Route: <sip:p2.example.net;lr>\r\n\
Route: <sip:127.0.0.1:5070;transport=udp;lr>\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("From: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("To: <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n"),
        "{text}"
    );
    assert!(text.contains("Call-ID: 1-4242@127.0.0.1\r\n"), "{text}");
    // Our CSeq space starts empty (RFC 3261 §12.1.1): our first request is 1.
    assert!(text.contains("CSeq: 1 BYE\r\n"), "{text}");
    assert!(text.contains("Content-Length: 0\r\n"), "{text}");
    assert_eq!(bye.method, rsip::Method::Bye);
    assert_eq!(dialog.state(), DialogState::Terminated);

    // A second one (say the first timed out) gets a higher CSeq.
    let (again, _) = sent_request(dialog.bye("127.0.0.1:5060", "z9hG4bK-node-bye-2"));
    assert!(again.contains("CSeq: 2 BYE\r\n"), "{again}");
}

#[test]
fn a_strict_router_takes_the_request_uri_and_the_remote_target_goes_last() {
    let strict = sipp_invite().replace(
        "Record-Route: <sip:p2.example.net;lr>",
        "Record-Route: <sip:p2.example.net;transport=udp>",
    );
    let mut dialog = dialog(&strict);

    let (text, _) = sent_request(dialog.bye("127.0.0.1:5060", "z9hG4bK-node-bye-1"));

    assert!(
        text.starts_with(
            // rsip prints the transport value upper-case (equal, RFC 3261 §19.1.4).
            "BYE sip:p2.example.net;transport=UDP SIP/2.0\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Route: <sip:127.0.0.1:5070;transport=udp;lr>\r\n\
Route: <sip:sipp@127.0.0.1:5061>\r\n"
        ),
        "{text}"
    );
}

#[test]
fn a_reinvite_for_hold_is_classified_for_an_sdp_answer() {
    let mut dialog = confirmed_baresip();
    let hold_sdp = BARESIP_SDP
        .replace("2108764523", "2108764524")
        .replace("a=sendrecv", "a=sendonly");
    let reinvite = request(&baresip_in_dialog(
        "INVITE",
        22932,
        "Content-Type: application/sdp\r\n",
        &hold_sdp,
    ));

    let InDialog::ReInvite { sdp: Some(offer) } = dialog.classify(&reinvite) else {
        panic!("not a re-INVITE with an offer");
    };
    assert!(offer.contains("a=sendonly\r\n"), "{offer}");

    let (answer, negotiated) =
        sdp::answer(&sdp::parse(&offer).expect("the hold offer"), &local_media())
            .expect("an answer");
    assert_eq!(negotiated.remote, None, "on hold: send nothing");
    let (text, ok) = sent_response(dialog.answer_reinvite(&reinvite, 200, Some(&answer)));
    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(text.contains("CSeq: 22932 INVITE\r\n"), "{text}");
    assert!(text.contains("Contact: <sip:conference@127.0.0.1:5060>\r\n"));
    assert!(String::from_utf8_lossy(&ok.body).contains("a=recvonly"));

    let ack = baresip_in_dialog("ACK", 22932, "", "");
    assert_eq!(dialog.classify(&request(&ack)), InDialog::Ack { sdp: None });
    // A repeated ACK (our 200 was retransmitted) is nothing new.
    assert_eq!(dialog.classify(&request(&ack)), InDialog::Absorbed);
    assert_eq!(dialog.state(), DialogState::Confirmed);

    // Unhold: the next re-INVITE is welcome again.
    let unhold = baresip_in_dialog(
        "INVITE",
        22933,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    assert!(matches!(
        dialog.classify(&request(&unhold)),
        InDialog::ReInvite { sdp: Some(_) }
    ));
}

/// RFC 3261 §14.2: "A UAS that receives a second INVITE before it sends the final
/// response to a first INVITE with a lower CSeq sequence number on the same dialog
/// MUST return a 500 (Server Internal Error) response to the second INVITE and MUST
/// include a Retry-After header field with a randomly chosen value of between 0 and 10
/// seconds." (491 is for glare; see the next test.)
#[test]
fn a_second_reinvite_while_one_is_pending_gets_500_with_retry_after() {
    let mut dialog = confirmed_baresip();
    let first = request(&baresip_in_dialog(
        "INVITE",
        22932,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    ));
    assert!(matches!(dialog.classify(&first), InDialog::ReInvite { .. }));

    let second = baresip_in_dialog(
        "INVITE",
        22933,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    let (text, response) = response_of(dialog.classify(&request(&second)));
    assert!(
        text.starts_with("SIP/2.0 500 Server Internal Error\r\n"),
        "{text}"
    );
    let retry_after: u64 = values(&response, "Retry-After")
        .first()
        .expect("a Retry-After")
        .parse()
        .expect("seconds");
    assert!(retry_after <= 10);

    // Once the first is answered, a new one is taken.
    dialog.answer_reinvite(&first, 488, None);
    let third = baresip_in_dialog(
        "INVITE",
        22934,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    assert!(matches!(
        dialog.classify(&request(&third)),
        InDialog::ReInvite { .. }
    ));
}

#[test]
fn a_reinvite_while_our_offer_awaits_its_ack_gets_491() {
    let mut dialog = confirmed_baresip();
    // An offerless re-INVITE: our 200 carries the offer, the ACK will answer it.
    let offerless = request(&baresip_in_dialog("INVITE", 22932, "", ""));
    assert_eq!(
        dialog.classify(&offerless),
        InDialog::ReInvite { sdp: None }
    );
    let offer = sdp::offer(&local_media());
    sent_response(dialog.answer_reinvite(&offerless, 200, Some(&offer)));

    let crossing = baresip_in_dialog(
        "INVITE",
        22933,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    let (text, _) = response_of(dialog.classify(&request(&crossing)));
    assert!(text.starts_with("SIP/2.0 491 "), "{text}");

    let ack = baresip_in_dialog(
        "ACK",
        22932,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    assert_eq!(
        dialog.classify(&request(&ack)),
        InDialog::Ack {
            sdp: Some(BARESIP_SDP.to_owned())
        }
    );
}

#[test]
fn an_offerless_invite_gets_its_answer_in_the_ack() {
    let offerless = baresip_invite()
        .replace("Content-Type: application/sdp\r\n", "")
        .replace(
            &format!("Content-Length: {}\r\n\r\n{BARESIP_SDP}", BARESIP_SDP.len()),
            "Content-Length: 0\r\n\r\n",
        );
    let invite = request(&offerless);
    let mut dialog = dialog(&offerless);
    let offer = sdp::offer(&local_media());
    let (text, _) = sent_response(dialog.answer(&invite, 200, Some(&offer)));
    assert!(text.contains("Content-Type: application/sdp\r\n"), "{text}");

    let ack = baresip_in_dialog(
        "ACK",
        22931,
        "Content-Type: application/sdp\r\n",
        BARESIP_SDP,
    );
    let InDialog::Ack { sdp: Some(answer) } = dialog.classify(&request(&ack)) else {
        panic!("no answer in the ACK");
    };
    let answer = sdp::parse(&answer).expect("baresip's answer");
    assert!(sdp::accept_answer(&sdp::SUPPORTED_CODECS, &answer).is_ok());
    assert_eq!(dialog.state(), DialogState::Confirmed);
}

#[test]
fn a_request_with_a_lower_cseq_gets_500() {
    let mut dialog = confirmed_baresip();
    let info = baresip_in_dialog("INFO", 22940, "", "");
    assert!(matches!(
        dialog.classify(&request(&info)),
        InDialog::Info { .. }
    ));

    for seq in [22935, 22940] {
        let late = baresip_in_dialog("INFO", seq, "", "");
        let (text, _) = response_of(dialog.classify(&request(&late)));
        assert!(
            text.starts_with("SIP/2.0 500 Server Internal Error\r\n"),
            "{text}"
        );
        assert!(text.contains(&format!("CSeq: {seq} INFO\r\n")), "{text}");
    }
    assert_eq!(dialog.remote_seq(), 22940);
    assert_eq!(dialog.state(), DialogState::Confirmed);
}

#[test]
fn an_info_in_the_dialog_gets_200_and_hands_up_its_body() {
    let mut dialog = confirmed_baresip();
    let body = "Signal=5\r\nDuration=160\r\n";
    let info = baresip_in_dialog(
        "INFO",
        22932,
        "Content-Type: application/dtmf-relay\r\n",
        body,
    );

    let InDialog::Info {
        content_type,
        body: received,
        response,
    } = dialog.classify(&request(&info))
    else {
        panic!("not an INFO");
    };
    assert_eq!(content_type.as_deref(), Some("application/dtmf-relay"));
    assert_eq!(received, body.as_bytes());
    let (text, _) = sent_response(response);
    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(text.contains("CSeq: 22932 INFO\r\n"), "{text}");
}

#[test]
fn an_options_in_the_dialog_gets_200_with_allow_and_other_methods_get_501() {
    let mut dialog = confirmed_baresip();
    let options = baresip_in_dialog("OPTIONS", 22932, "", "");
    let (text, _) = response_of(dialog.classify(&request(&options)));
    assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
    assert!(text.contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"));
    assert!(text.contains("Accept: application/sdp\r\n"), "{text}");

    let update = baresip_in_dialog("UPDATE", 22933, "", "");
    let (text, _) = response_of(dialog.classify(&request(&update)));
    assert!(
        text.starts_with("SIP/2.0 501 Not Implemented\r\n"),
        "{text}"
    );
    assert!(text.contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"));
}

#[test]
fn a_request_of_another_dialog_does_not_match() {
    let dialog = dialog(&baresip_invite());
    let ours = baresip_in_dialog("BYE", 22932, "", "");
    assert!(dialog.matches(&request(&ours)));

    let other_call = ours.replace("Call-ID: 4f6b1e2d9c8a7b6e", "Call-ID: 9a9a9a9a");
    let other_local_tag = ours.replace("tag=node1", "tag=node2");
    let other_remote_tag = ours.replace("tag=6c8a2b7e0f1d4c3a", "tag=ffff");
    let no_to_tag = ours.replace(";tag=node1", "");
    for other in [other_call, other_local_tag, other_remote_tag, no_to_tag] {
        assert!(!dialog.matches(&request(&other)), "{other}");
    }
}

#[test]
fn an_invite_without_contact_cannot_create_a_dialog() {
    let no_contact = sipp_invite().replace("Contact: sip:sipp@127.0.0.1:5061\r\n", "");
    assert_eq!(
        Dialog::accept(&request(&no_contact), "node1", &our_contact()),
        Err(DialogError::MissingContact)
    );

    let no_tag = sipp_invite().replace(";tag=4242SIPpTag001", "");
    assert_eq!(
        Dialog::accept(&request(&no_tag), "node1", &our_contact()),
        Err(DialogError::MissingTag)
    );
}

#[test]
fn an_invite_whose_from_to_contact_or_record_route_is_no_sip_uri_cannot_create_a_dialog() {
    // Found by the node fuzz: `Contact: ! sip:sipp@...` reads as a URI with no
    // scheme, and our BYE to it went out as `BYE ! sip:sipp@... SIP/2.0`; `From:
    // sipp <si5061>` made its To `<si5061>>`.
    for contact in [
        "! sip:sipp@127.0.0.1:5061",
        "<! sip:sipp@127.0.0.1:5061>",
        "sipp:5061",
        "tel:+15145550100",
    ] {
        let invite = sipp_invite().replace(
            "Contact: sip:sipp@127.0.0.1:5061",
            &format!("Contact: {contact}"),
        );
        assert!(
            matches!(
                Dialog::accept(&request(&invite), "node1", &our_contact()),
                Err(DialogError::Malformed(_))
            ),
            "{contact}"
        );
    }
    for (good, bad) in [
        ("<sip:p2.example.net;lr>", "<! sip:p2.example.net;lr>"),
        (
            "From: sipp <sip:sipp@127.0.0.1:5061>",
            "From: sipp <si5061>",
        ),
        ("To: <sip:+33100000000@", "To: <! sip:+33100000000@"),
    ] {
        let invite = sipp_invite().replace(good, bad);
        assert!(
            matches!(
                Dialog::accept(&request(&invite), "node1", &our_contact()),
                Err(DialogError::Malformed(_))
            ),
            "{bad}"
        );
    }
    // The usual forms still make one.
    let bracketed = sipp_invite().replace(
        "Contact: sip:sipp@127.0.0.1:5061",
        "Contact: \"sipp\" <sips:sipp@127.0.0.1:5061;transport=tls>",
    );
    assert!(Dialog::accept(&request(&bracketed), "node1", &our_contact()).is_ok());
}
