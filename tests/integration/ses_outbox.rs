//! The SES adapter (`teleconf_adapters::mail`) on the emulator: a mail sent is read
//! back from the emulator's SES outbox. The mailer function on the table's stream is
//! `mailer`.

use teleconf_domain::mail::OutgoingMail;

use teleconf_adapters::mail::Mailer;
use teleconf_tests::outbox;
use teleconf_tests::stack::Stack;

#[tokio::test]
async fn a_sent_mail_reaches_the_emulators_outbox() {
    let stack = Stack::new().await;
    let to = format!("invitee-{}@client.example", uuid::Uuid::new_v4().simple());
    let mail = OutgoingMail {
        to: to.parse().unwrap(),
        subject: "Détails de la téléconférence « Réunion mensuelle »".into(),
        text: "Bonjour,\n\nNuméro Téléconférence: 3832257".into(),
        html: "<p>Bonjour,</p><p>Numéro Téléconférence: <b>3832257</b></p>".into(),
        attachments: Vec::new(),
    };
    stack.mailer.send(&mail).await.unwrap();

    let received = outbox::sent_to(&to).await.unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].source, "conferences@teleconf.example");
    assert_eq!(received[0].subject, mail.subject);
    assert!(
        received[0].body.contains("3832257"),
        "{:?}",
        received[0].body
    );
}

#[tokio::test]
async fn an_unverified_sender_is_refused_as_on_aws() {
    let stack = Stack::new().await;
    let stranger = teleconf_adapters::mail::SesMailer::new(
        stack.clients.ses.clone(),
        "nobody@unverified.example".parse().unwrap(),
    );
    let mail = OutgoingMail {
        to: "someone@client.example".parse().unwrap(),
        subject: "x".into(),
        text: "x".into(),
        html: "x".into(),
        attachments: Vec::new(),
    };
    assert!(stranger.send(&mail).await.is_err());
}
