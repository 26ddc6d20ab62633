use super::*;
use proptest::prelude::*;

/// baresip 1.0.0's INVITE body, captured on 127.0.0.1 (`/dial` to a UDP listener).
const BARESIP_OFFER: &str = "v=0\r\n\
        o=- 2613775571 1125328013 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        c=IN IP4 127.0.0.1\r\n\
        t=0 0\r\n\
        a=tool:baresip 1.0.0\r\n\
        m=audio 4494 RTP/AVP 0 8 101\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=sendrecv\r\n\
        a=label:1\r\n\
        a=rtcp-rsize\r\n\
        a=ssrc:1979826842 cname:sip:test@127.0.0.1\r\n\
        a=minptime:20\r\n\
        a=ptime:20\r\n";

/// sipp 3.6.1's built-in `uac` scenario INVITE body, captured the same way.
const SIPP_UAC_OFFER: &str = "v=0\r\n\
        o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        c=IN IP4 127.0.0.1\r\n\
        t=0 0\r\n\
        m=audio 6000 RTP/AVP 0\r\n\
        a=rtpmap:0 PCMU/8000\r\n";

const LOCAL: LocalMedia = LocalMedia {
    addr: Ipv4Addr::new(127, 0, 0, 1),
    port: 40000,
    session_id: 4242,
    version: 1,
};

/// A minimal offer around one audio `m=` line and its attributes.
fn audio_offer(connection: &str, media: &str, attributes: &[&str]) -> String {
    let mut body = format!(
        "v=0\r\no=- 7 7 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 {connection}\r\nt=0 0\r\nm=audio {media}\r\n"
    );
    for attribute in attributes {
        body.push_str(&format!("a={attribute}\r\n"));
    }
    body
}

fn answer_to(body: &str) -> Result<(String, Negotiated), SdpError> {
    answer(&parse(body)?, &LOCAL)
}

fn peer() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 5004)
}

#[test]
fn baresip_offer_negotiates_pcmu_with_telephone_event_at_101() {
    let offer = parse(BARESIP_OFFER).unwrap();
    assert_eq!((offer.session_id, offer.version), (2613775571, 1125328013));
    assert_eq!(offer.addr, Ipv4Addr::LOCALHOST);
    assert_eq!(offer.port, 4494);
    let pts: Vec<u8> = offer.formats.iter().map(|f| f.payload_type).collect();
    assert_eq!(pts, [0, 8, 101]);
    assert_eq!(offer.formats[2].fmtp.as_deref(), Some("0-15"));
    assert_eq!(offer.telephone_event, Some(101));
    assert_eq!(offer.ptime_ms, Some(20));
    assert_eq!(offer.direction, Direction::SendRecv);

    let (_, negotiated) = answer(&offer, &LOCAL).unwrap();
    assert_eq!(
        negotiated,
        Negotiated {
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            remote: Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4494)),
            source: Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4494)),
            direction: Direction::SendRecv,
            ptime_ms: 20,
        }
    );
}

#[test]
fn baresip_offer_is_answered_with_this_exact_body() {
    let (body, _) = answer_to(BARESIP_OFFER).unwrap();
    assert_eq!(
        body,
        "v=0\r\n\
             o=- 4242 1 IN IP4 127.0.0.1\r\n\
             s=teleconf\r\n\
             c=IN IP4 127.0.0.1\r\n\
             t=0 0\r\n\
             m=audio 40000 RTP/AVP 0 101\r\n\
             a=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\n\
             a=ptime:20\r\n\
             a=sendrecv\r\n"
    );
}

#[test]
fn sipp_uac_offer_negotiates_pcmu_without_telephone_event() {
    let (body, negotiated) = answer_to(SIPP_UAC_OFFER).unwrap();
    assert_eq!(negotiated.codec, Codec::Pcmu);
    assert_eq!(negotiated.telephone_event, None);
    assert_eq!(
        negotiated.remote,
        Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 6000))
    );
    assert!(body.contains("\r\nm=audio 40000 RTP/AVP 0\r\n"));
    assert!(!body.contains("telephone-event"));
}

#[test]
fn payload_types_72_to_76_are_never_chosen_as_they_read_as_rtcp() {
    // Found by the node fuzz: PCMU offered on 72 was answered on 72, and our
    // talkspurt starts (marker set) went out as what reads as an RTCP SR.
    let offer = parse(
        &SIPP_UAC_OFFER
            .replace("RTP/AVP 0", "RTP/AVP 72 8 74")
            .replace(
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:72 PCMU/8000\r\na=rtpmap:74 telephone-event/8000",
            ),
    )
    .unwrap();
    let (_, negotiated) = answer(&offer, &LOCAL).unwrap();
    assert_eq!(negotiated.codec, Codec::Pcma);
    assert_eq!(negotiated.payload_type, 8);
    assert_eq!(negotiated.telephone_event, None);
    let only_72 = parse(
        &SIPP_UAC_OFFER
            .replace("RTP/AVP 0", "RTP/AVP 72")
            .replace("rtpmap:0", "rtpmap:72"),
    )
    .unwrap();
    assert_eq!(
        answer(&only_72, &LOCAL).map(|(_, n)| n),
        Err(SdpError::NoCommonCodec)
    );
}

#[test]
fn telephone_event_offered_at_96_is_answered_at_96() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 0 96",
        &["rtpmap:96 telephone-event/8000", "fmtp:96 0-15"],
    );
    let (answer, negotiated) = answer_to(&body).unwrap();
    assert_eq!(negotiated.telephone_event, Some(96));
    assert!(answer.contains("m=audio 40000 RTP/AVP 0 96\r\n"));
    assert!(answer.contains("a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n"));
}

#[test]
fn pcma_offered_before_pcmu_is_chosen_in_the_offerers_order() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 8 0 101",
        &["rtpmap:101 telephone-event/8000"],
    );
    let (answer, negotiated) = answer_to(&body).unwrap();
    assert_eq!(
        (negotiated.codec, negotiated.payload_type),
        (Codec::Pcma, 8)
    );
    assert!(answer.contains("m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"));
}

#[test]
fn g729_and_opus_only_offer_has_no_common_codec() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 18 111 101",
        &[
            "rtpmap:18 G729/8000",
            "rtpmap:111 opus/48000/2",
            "rtpmap:101 telephone-event/8000",
        ],
    );
    assert_eq!(answer_to(&body), Err(SdpError::NoCommonCodec));
}

#[test]
fn g711_at_another_rate_or_in_stereo_is_not_g711_we_take() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 96 97",
        &["rtpmap:96 PCMU/16000", "rtpmap:97 PCMA/8000/2"],
    );
    assert_eq!(answer_to(&body), Err(SdpError::NoCommonCodec));
}

#[test]
fn pcmu_under_a_dynamic_number_is_answered_under_that_number() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 98 101",
        &["rtpmap:98 pcmu/8000", "rtpmap:101 TELEPHONE-EVENT/8000"],
    );
    let (answer, negotiated) = answer_to(&body).unwrap();
    assert_eq!(
        (negotiated.codec, negotiated.payload_type),
        (Codec::Pcmu, 98)
    );
    assert_eq!(negotiated.telephone_event, Some(101));
    assert!(answer.contains("m=audio 40000 RTP/AVP 98 101\r\na=rtpmap:98 PCMU/8000\r\n"));
}

#[test]
fn static_payload_types_need_no_rtpmap() {
    let offer = parse(&audio_offer("198.51.100.7", "5004 RTP/AVP 8 0", &[])).unwrap();
    assert_eq!(offer.formats[0].codec(), Some(Codec::Pcma));
    assert_eq!(offer.formats[1].codec(), Some(Codec::Pcmu));
    assert_eq!(offer.preferred_codec(), Some((Codec::Pcma, 8)));
}

#[test]
fn telephone_event_at_another_rate_is_not_kept() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 0 100 101",
        &[
            "rtpmap:100 telephone-event/48000",
            "rtpmap:101 telephone-event/8000",
        ],
    );
    assert_eq!(answer_to(&body).unwrap().1.telephone_event, Some(101));
}

#[test]
fn sendonly_reoffer_is_hold_answered_recvonly_with_nowhere_to_send() {
    let body = audio_offer(
        "198.51.100.7",
        "5004 RTP/AVP 0 101",
        &["rtpmap:101 telephone-event/8000", "sendonly"],
    );
    let offer = parse(&body).unwrap();
    assert!(offer.is_hold());
    let (answer, negotiated) = answer(&offer, &LOCAL).unwrap();
    assert_eq!(negotiated.direction, Direction::RecvOnly);
    assert_eq!(negotiated.remote, None);
    assert_eq!(
        negotiated.source.map(|s| s.to_string()).as_deref(),
        Some("198.51.100.7:5004"),
        "its music on hold is expected from its address"
    );
    assert!(answer.ends_with("a=recvonly\r\n"));
}

#[test]
fn zero_address_reoffer_is_hold_answered_recvonly_with_nowhere_to_send() {
    let offer = parse(&audio_offer("0.0.0.0", "5004 RTP/AVP 0", &[])).unwrap();
    assert!(offer.is_hold());
    let (answer, negotiated) = answer(&offer, &LOCAL).unwrap();
    assert_eq!(negotiated.direction, Direction::RecvOnly);
    assert_eq!(negotiated.remote, None);
    assert_eq!(negotiated.source, None);
    assert!(answer.contains("c=IN IP4 127.0.0.1\r\n"));
    assert!(answer.ends_with("a=recvonly\r\n"));
}

#[test]
fn unhold_reoffer_brings_sendrecv_back() {
    let held = audio_offer("198.51.100.7", "5004 RTP/AVP 0", &["sendonly"]);
    let resumed = audio_offer("198.51.100.7", "5004 RTP/AVP 0", &["sendrecv"]);
    assert_eq!(answer_to(&held).unwrap().1.direction, Direction::RecvOnly);
    let (_, negotiated) = answer_to(&resumed).unwrap();
    assert_eq!(negotiated.direction, Direction::SendRecv);
    assert_eq!(negotiated.remote, Some(peer()));
}

#[test]
fn reoffer_with_only_pcma_switches_the_codec() {
    let first = answer_to(&audio_offer("198.51.100.7", "5004 RTP/AVP 0 8", &[]))
        .unwrap()
        .1;
    let second = answer_to(&audio_offer("198.51.100.7", "5004 RTP/AVP 8", &[]))
        .unwrap()
        .1;
    assert_eq!(first.codec, Codec::Pcmu);
    assert_eq!(second.codec, Codec::Pcma);
}

#[test]
fn recvonly_offer_is_answered_sendonly_and_inactive_with_inactive() {
    let recvonly = audio_offer("198.51.100.7", "5004 RTP/AVP 0", &["recvonly"]);
    let (answer, negotiated) = answer_to(&recvonly).unwrap();
    assert_eq!(negotiated.direction, Direction::SendOnly);
    assert_eq!(negotiated.remote, Some(peer()));
    assert!(answer.ends_with("a=sendonly\r\n"));

    let inactive = audio_offer("198.51.100.7", "5004 RTP/AVP 0", &["inactive"]);
    let (answer, negotiated) = answer_to(&inactive).unwrap();
    assert_eq!(negotiated.direction, Direction::Inactive);
    assert_eq!(negotiated.remote, None);
    assert!(answer.ends_with("a=inactive\r\n"));
}

#[test]
fn session_level_direction_applies_unless_the_media_says_otherwise() {
    let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
            a=sendonly\r\nm=audio 5004 RTP/AVP 0\r\n";
    assert_eq!(parse(body).unwrap().direction, Direction::SendOnly);
    let overridden = format!("{body}a=sendrecv\r\n");
    assert_eq!(parse(&overridden).unwrap().direction, Direction::SendRecv);
}

#[test]
fn audio_with_port_zero_is_not_usable() {
    let body = audio_offer("198.51.100.7", "0 RTP/AVP 0", &[]);
    assert_eq!(parse(&body), Err(SdpError::NoAudio));
}

#[test]
fn video_before_audio_is_rejected_with_port_zero_in_the_same_place() {
    let body = "v=0\r\n\
            o=- 5 5 IN IP4 192.0.2.10\r\n\
            s=call\r\n\
            c=IN IP4 192.0.2.10\r\n\
            t=0 0\r\n\
            m=video 5006 RTP/AVP 96\r\n\
            a=rtpmap:96 H264/90000\r\n\
            m=audio 5004 RTP/AVP 8 0\r\n\
            c=IN IP4 192.0.2.11\r\n";
    let offer = parse(body).unwrap();
    assert_eq!(
        offer.addr,
        Ipv4Addr::new(192, 0, 2, 11),
        "media-level c= wins"
    );
    let (answer, negotiated) = answer(&offer, &LOCAL).unwrap();
    assert_eq!(negotiated.codec, Codec::Pcma);
    assert_eq!(
        negotiated.remote,
        Some(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 11), 5004))
    );
    assert!(answer.contains(
        "t=0 0\r\n\
             m=video 0 RTP/AVP 96\r\n\
             m=audio 40000 RTP/AVP 8\r\n"
    ));
}

#[test]
fn a_second_audio_stream_is_rejected_and_the_first_one_answered() {
    let body = format!(
        "{}m=audio 6000 RTP/AVP 8\r\n",
        audio_offer("198.51.100.7", "5004 RTP/AVP 0", &[])
    );
    let (answer, negotiated) = answer_to(&body).unwrap();
    assert_eq!(negotiated.codec, Codec::Pcmu);
    assert!(answer.ends_with("a=sendrecv\r\nm=audio 0 RTP/AVP 8\r\n"));
}

#[test]
fn srtp_audio_is_skipped_for_a_plain_rtp_alternative() {
    let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
            m=audio 5010 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n\
            m=audio 5004 RTP/AVP 0\r\n";
    let (answer, negotiated) = answer_to(body).unwrap();
    assert_eq!(negotiated.remote.map(|r| r.port()), Some(5004));
    assert!(answer.contains("m=audio 0 RTP/SAVP 0\r\nm=audio 40000 RTP/AVP 0\r\n"));
}

#[test]
fn srtp_only_audio_is_unsupported() {
    let body = audio_offer("198.51.100.7", "5004 RTP/SAVP 0", &[]);
    assert!(matches!(parse(&body), Err(SdpError::Unsupported(m)) if m.contains("RTP/SAVP")));
}

#[test]
fn lf_only_body_reads_like_crlf() {
    let lf = BARESIP_OFFER.replace("\r\n", "\n");
    assert_eq!(parse(&lf), parse(BARESIP_OFFER));
    assert_eq!(answer_to(&lf), answer_to(BARESIP_OFFER));
}

#[test]
fn unknown_lines_and_attributes_are_ignored() {
    let body = format!(
        "{}b=AS:64\r\nx=whatever\r\na=rtcp:4495\r\na=weird:101 PCMA/8000\r\n",
        SIPP_UAC_OFFER
    );
    assert_eq!(answer_to(&body).unwrap().1.codec, Codec::Pcmu);
}

#[test]
fn ipv6_multicast_and_host_names_are_unsupported() {
    for connection in [
        "IN IP6 ::1",
        "IN IP4 224.2.1.1/127",
        "IN IP4 239.1.1.1",
        "IN IP4 host.example.com",
    ] {
        let body = SIPP_UAC_OFFER.replace("c=IN IP4 127.0.0.1", &format!("c={connection}"));
        assert!(
            matches!(parse(&body), Err(SdpError::Unsupported(_))),
            "{connection}: {:?}",
            parse(&body)
        );
    }
}

#[test]
fn broken_bodies_are_malformed() {
    for body in [
        "",
        "\r\n",
        "hello",
        "o=- 1 1 IN IP4 127.0.0.1\r\nv=0\r\n",
        "v=0\r\nm=audio 5004 RTP/AVP 0\r\n",
        "v=0\r\no=- x 1 IN IP4 127.0.0.1\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 5004\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 5004 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nthis is not sdp\r\n",
    ] {
        assert!(
            matches!(parse(body), Err(SdpError::Malformed(_))),
            "{body:?}: {:?}",
            parse(body)
        );
    }
    assert!(matches!(
        parse("v=1\r\n"),
        Err(SdpError::Unsupported(m)) if m.contains("version")
    ));
}

#[test]
fn error_messages_quote_a_short_single_line_excerpt() {
    let line = format!("nonsense {}", "x".repeat(500));
    let Err(SdpError::Malformed(message)) = parse(&format!("v=0\n{line}\n")) else {
        panic!("expected Malformed");
    };
    assert!(message.starts_with("line 2: not <type>=<value>: \"nonsense xxx"));
    assert!(message.len() < 120, "{message}");
}

#[test]
fn our_offer_lists_pcmu_pcma_and_telephone_event_at_101() {
    assert_eq!(
        offer(&LOCAL),
        "v=0\r\n\
             o=- 4242 1 IN IP4 127.0.0.1\r\n\
             s=teleconf\r\n\
             c=IN IP4 127.0.0.1\r\n\
             t=0 0\r\n\
             m=audio 40000 RTP/AVP 0 8 101\r\n\
             a=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\n\
             a=ptime:20\r\n\
             a=sendrecv\r\n"
    );
}

#[test]
fn our_offer_then_the_answer_in_the_ack_negotiates() {
    // What baresip answers to an offer of 0 8 101: its first choice and the event type.
    let ack_body = "v=0\r\n\
            o=- 3 4 IN IP4 127.0.0.1\r\n\
            s=-\r\n\
            c=IN IP4 127.0.0.1\r\n\
            t=0 0\r\n\
            m=audio 4494 RTP/AVP 8 101\r\n\
            a=rtpmap:8 PCMA/8000\r\n\
            a=rtpmap:101 telephone-event/8000\r\n\
            a=fmtp:101 0-15\r\n\
            a=sendrecv\r\n";
    let _ = offer(&LOCAL);
    let negotiated = accept_answer(&SUPPORTED_CODECS, &parse(ack_body).unwrap()).unwrap();
    assert_eq!(
        negotiated,
        Negotiated {
            codec: Codec::Pcma,
            payload_type: 8,
            telephone_event: Some(101),
            remote: Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4494)),
            source: Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4494)),
            direction: Direction::SendRecv,
            ptime_ms: 20,
        }
    );
}

#[test]
fn our_own_offer_read_back_as_an_answer_gives_pcmu_and_101() {
    let ours = parse(&offer(&LOCAL)).unwrap();
    let negotiated = accept_answer(&SUPPORTED_CODECS, &ours).unwrap();
    assert_eq!(
        (negotiated.codec, negotiated.telephone_event),
        (Codec::Pcmu, Some(101))
    );
}

#[test]
fn an_answer_without_our_codecs_or_with_audio_rejected_fails() {
    let g729 = audio_offer("198.51.100.7", "5004 RTP/AVP 18", &["rtpmap:18 G729/8000"]);
    assert_eq!(
        accept_answer(&SUPPORTED_CODECS, &parse(&g729).unwrap()),
        Err(SdpError::NoCommonCodec)
    );
    let only_pcmu = parse(&audio_offer("198.51.100.7", "5004 RTP/AVP 8", &[])).unwrap();
    assert_eq!(
        accept_answer(&[Codec::Pcmu], &only_pcmu),
        Err(SdpError::NoCommonCodec)
    );
    let rejected = audio_offer("198.51.100.7", "0 RTP/AVP 0", &[]);
    assert_eq!(parse(&rejected), Err(SdpError::NoAudio));
}

#[test]
fn an_answer_marked_recvonly_lets_us_send_only() {
    let body = audio_offer("198.51.100.7", "5004 RTP/AVP 0", &["recvonly"]);
    let negotiated = accept_answer(&SUPPORTED_CODECS, &parse(&body).unwrap()).unwrap();
    assert_eq!(negotiated.direction, Direction::SendOnly);
    assert_eq!(negotiated.remote, Some(peer()));
}

#[test]
fn the_answer_echoes_the_offered_timing_line() {
    let body = SIPP_UAC_OFFER.replace("t=0 0", "t=3034423619 3042462419");
    let (answer, _) = answer_to(&body).unwrap();
    assert!(answer.contains("\r\nt=3034423619 3042462419\r\n"));
}

#[test]
fn local_port_zero_is_refused_rather_than_rejecting_the_call() {
    let local = LocalMedia { port: 0, ..LOCAL };
    assert!(matches!(
        answer(&parse(SIPP_UAC_OFFER).unwrap(), &local),
        Err(SdpError::Unsupported(_))
    ));
}

// ---- properties --------------------------------------------------------------

/// Checks an answer against the offer it answers: it re-parses, keeps one `m=` line
/// per offered one with the audio in the same place, and says what `negotiated` says.
fn check_answer(offer: &Offer, body: &str, negotiated: &Negotiated) -> Result<(), TestCaseError> {
    let reread = parse(body).map_err(|e| TestCaseError::fail(format!("{e}: {body:?}")))?;
    prop_assert_eq!(
        reread.preferred_codec(),
        Some((negotiated.codec, negotiated.payload_type))
    );
    prop_assert_eq!(
        reread.formats.len(),
        1 + usize::from(negotiated.telephone_event.is_some())
    );
    prop_assert_eq!(reread.telephone_event, negotiated.telephone_event);
    prop_assert_eq!(reread.direction, negotiated.direction);
    prop_assert_eq!(reread.ptime_ms, Some(PTIME_MS));
    prop_assert_eq!((reread.addr, reread.port), (LOCAL.addr, LOCAL.port));
    prop_assert_eq!(reread.streams.len(), offer.streams.len().max(1));
    prop_assert_eq!(reread.audio_index, offer.audio_index);
    prop_assert_eq!(reread.timing, offer.timing);
    Ok(())
}

/// Answers `body` if it can, and checks any answer made.
fn answer_and_check(body: &str) -> Result<(), TestCaseError> {
    if let Ok(offer) = parse(body) {
        if let Ok((answer, negotiated)) = answer(&offer, &LOCAL) {
            check_answer(&offer, &answer, &negotiated)?;
        }
        let _ = accept_answer(&SUPPORTED_CODECS, &offer);
    }
    Ok(())
}

/// A small edit of a body: cut a span, insert text, or repeat a line.
#[derive(Debug, Clone)]
enum Mutation {
    Cut(usize, usize),
    Insert(usize, String),
    RepeatLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Mutation::Cut(at, len)),
        (
            any::<usize>(),
            prop_oneof![
                "[ -~]{0,12}",
                Just("\r\n".to_owned()),
                Just("\n".to_owned()),
                Just("=".to_owned()),
                Just(" 0".to_owned()),
                Just("99999999999999999999999".to_owned()),
                Just("\r\nm=audio 0 RTP/AVP 0\r\n".to_owned()),
                Just("\r\na=rtpmap:0 G729/8000\r\n".to_owned()),
                Just("\r\nc=IN IP4 0.0.0.0\r\n".to_owned()),
                Just("é".to_owned()),
                any::<String>(),
            ]
        )
            .prop_map(|(at, text)| Mutation::Insert(at, text)),
        any::<usize>().prop_map(Mutation::RepeatLine),
    ]
}

fn mutate(body: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = body.chars().collect();
    for mutation in mutations {
        let len = chars.len().max(1);
        match mutation {
            Mutation::Cut(at, n) => {
                let start = at % len;
                let end = (start + n).min(chars.len());
                if start < end {
                    chars.drain(start..end);
                }
            }
            Mutation::Insert(at, text) => {
                let at = (at % (chars.len() + 1)).min(chars.len());
                chars.splice(at..at, text.chars());
            }
            Mutation::RepeatLine(n) => {
                let text: String = chars.iter().collect();
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let pick = lines[n % lines.len()].to_owned();
                    let mut out = text.clone();
                    out.push_str(&pick);
                    chars = out.chars().collect();
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// One generated payload type: number and optional rtpmap value.
fn payload() -> impl Strategy<Value = (u8, Option<&'static str>)> {
    let named = prop::sample::select(vec![
        "PCMU/8000",
        "pcma/8000",
        "PCMA/8000/1",
        "telephone-event/8000",
        "telephone-event/48000",
        "opus/48000/2",
        "PCMU/16000",
        "PCMA/8000/2",
        "G729/8000",
        "iLBC/8000",
    ]);
    prop_oneof![
        prop::sample::select(vec![0u8, 8, 3, 9, 18]).prop_map(|pt| (pt, None)),
        (prop::sample::select(vec![0u8, 8, 18]), named.clone()).prop_map(|(pt, n)| (pt, Some(n))),
        (96u8..=127, named).prop_map(|(pt, n)| (pt, Some(n))),
    ]
}

fn direction() -> impl Strategy<Value = Option<Direction>> {
    prop::option::of(prop::sample::select(vec![
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ]))
}

/// Streams that may come before or after the audio and must be rejected.
fn other_stream() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "m=video 5006 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
        "m=audio 0 RTP/AVP 0\r\n",
        "m=audio 5008 RTP/SAVP 0\r\n",
        "m=application 5010 UDP/BFCP *\r\n",
        "m=image 0 udptl t38\r\n",
    ])
}

#[derive(Debug, Clone)]
struct Generated {
    body: String,
    formats: Vec<(u8, Option<&'static str>)>,
    addr: Ipv4Addr,
    direction: Direction,
}

prop_compose! {
    fn generated_offer()(
        formats in prop::collection::vec(payload(), 0..8),
        session_direction in direction(),
        media_direction in direction(),
        addr in prop::sample::select(vec![
            Ipv4Addr::new(198, 51, 100, 7),
            Ipv4Addr::UNSPECIFIED,
        ]),
        media_level_connection in any::<bool>(),
        before in prop::collection::vec(other_stream(), 0..3),
        after in prop::collection::vec(other_stream(), 0..3),
        lf_only in any::<bool>(),
        ptime in prop::option::of(prop::sample::select(vec!["20", "30", "20.0", "0", "x"])),
    ) -> Generated {
        let mut unique: Vec<(u8, Option<&'static str>)> = Vec::new();
        for (pt, name) in formats {
            if unique.iter().all(|(seen, _)| *seen != pt) {
                unique.push((pt, name));
            }
        }
        let mut body = String::from("v=0\r\no=- 11 22 IN IP4 198.51.100.7\r\ns=-\r\n");
        if !media_level_connection {
            body.push_str(&format!("c=IN IP4 {addr}\r\n"));
        }
        body.push_str("t=0 0\r\n");
        if let Some(d) = session_direction {
            body.push_str(&format!("a={}\r\n", d.attribute()));
        }
        for stream in &before {
            body.push_str(stream);
            if media_level_connection {
                body.push_str("c=IN IP4 203.0.113.9\r\n");
            }
        }
        let pts: Vec<String> = unique.iter().map(|(pt, _)| pt.to_string()).collect();
        body.push_str(&format!("m=audio 5004 RTP/AVP {}\r\n", pts.join(" ")));
        if media_level_connection {
            body.push_str(&format!("c=IN IP4 {addr}\r\n"));
        }
        for (pt, name) in &unique {
            if let Some(name) = name {
                body.push_str(&format!("a=rtpmap:{pt} {name}\r\n"));
            }
        }
        if let Some(ptime) = ptime {
            body.push_str(&format!("a=ptime:{ptime}\r\n"));
        }
        if let Some(d) = media_direction {
            body.push_str(&format!("a={}\r\n", d.attribute()));
        }
        for stream in &after {
            body.push_str(stream);
            if media_level_connection {
                body.push_str("c=IN IP4 203.0.113.9\r\n");
            }
        }
        if lf_only {
            body = body.replace("\r\n", "\n");
        }
        Generated {
            body,
            formats: unique,
            addr,
            direction: media_direction.or(session_direction).unwrap_or_default(),
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        answer_and_check(&text)?;
    }

    #[test]
    fn sdp_shaped_text_never_panics(
        text in "v=0\r?\n([a-z=]=[ -~]{0,40}\r?\n){0,12}",
    ) {
        answer_and_check(&text)?;
    }

    #[test]
    fn mutated_real_offers_never_panic_and_answers_reread(
        base in prop::sample::select(vec![BARESIP_OFFER, SIPP_UAC_OFFER]),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        answer_and_check(&mutate(base, &mutations))?;
    }

    #[test]
    fn generated_offers_are_answered_by_the_rfc_3264_rules(generated in generated_offer()) {
        let offer = parse(&generated.body)
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", generated.body)))?;
        // Oracle: the offerer's first G.711 at 8 kHz mono, by rtpmap or static number.
        let expected = generated.formats.iter().find_map(|(pt, name)| {
            let codec = match name {
                None => Codec::from_static(*pt),
                Some(n) if n.eq_ignore_ascii_case("PCMU/8000") => Some(Codec::Pcmu),
                Some(n) if n.eq_ignore_ascii_case("PCMA/8000")
                    || n.eq_ignore_ascii_case("PCMA/8000/1") => Some(Codec::Pcma),
                Some(_) => None,
            };
            codec.map(|c| (c, *pt))
        });
        let expected_te = generated
            .formats
            .iter()
            .find(|(_, name)| *name == Some("telephone-event/8000"))
            .map(|(pt, _)| *pt);
        match answer(&offer, &LOCAL) {
            Err(error) => {
                prop_assert_eq!(error, SdpError::NoCommonCodec);
                prop_assert_eq!(expected, None);
            }
            Ok((body, negotiated)) => {
                prop_assert_eq!(Some((negotiated.codec, negotiated.payload_type)), expected);
                prop_assert_eq!(negotiated.telephone_event, expected_te);
                let theirs = match (generated.addr.is_unspecified(), generated.direction) {
                    (false, d) => d,
                    (true, Direction::SendRecv | Direction::SendOnly) => Direction::SendOnly,
                    (true, _) => Direction::Inactive,
                };
                prop_assert_eq!(negotiated.direction, theirs.reversed());
                let sends = negotiated.direction.sends();
                prop_assert_eq!(negotiated.remote.is_some(), sends);
                check_answer(&offer, &body, &negotiated)?;
            }
        }
    }
}
