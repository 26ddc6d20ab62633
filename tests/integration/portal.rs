//! The customer portal in a real browser: headless Chromium driven through
//! chromedriver (installed by `make deps-browser` when missing) against the API
//! router, which serves the portal, over the emulator. The French screenshots of the
//! main pages are taken here into `portal/screenshots/`.

use chrono::{Duration, Utc};
use fantoccini::Locator;
use teleconf_domain::CallerRole;
use teleconf_domain::testkit::{unique_e164, unique_email};
use teleconf_tests::api::World;
use teleconf_tests::browser::{Browser, serve};
use teleconf_tests::lambdas::MailLoop;
use teleconf_tests::outbox;

/// A world of accounts and its portal served on loopback, and a browser on it.
async fn portal() -> (World, Browser) {
    let world = World::new().await;
    let base = serve(&world.api).await;
    let browser = Browser::start(&base).await.expect("headless Chromium");
    (world, browser)
}

#[tokio::test]
async fn the_provider_assigns_a_number_the_owner_configures_it_schedules_and_invites_a_listener() {
    let (world, b) = portal().await;

    // The provider assigns the account a number; a bad one comes back with the API's
    // error next to the field, in French.
    b.sign_in(&world.provider.email, &world.provider.password)
        .await
        .unwrap();
    b.open("/portal/provider/accounts").await.unwrap();
    b.click(&format!(
        "a.account-numbers[href$='/accounts/{}/numbers']",
        world.a
    ))
    .await
    .unwrap();
    let number = unique_e164();
    b.fill("f-number", "12").await.unwrap();
    b.click("section.card button[type=submit]").await.unwrap();
    assert!(!b.text("#f-number-error").await.unwrap().is_empty());
    b.fill("f-number", &number.national()).await.unwrap();
    b.click("section.card button[type=submit]").await.unwrap();
    b.client
        .wait()
        .for_element(Locator::Id("assigned-numbers"))
        .await
        .unwrap();
    assert!(
        b.text("#assigned-numbers")
            .await
            .unwrap()
            .contains(&number.national())
    );
    b.sign_out().await.unwrap();

    b.sign_in(&world.owner.email, &world.owner.password)
        .await
        .unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Tableau de bord");
    b.screenshot("tableau-de-bord").await.unwrap();

    // The owner finds it among the account's numbers, cannot add one, and
    // configures it in the seed's access-number form.
    b.open("/portal/numbers").await.unwrap();
    assert!(
        b.text("#numbers")
            .await
            .unwrap()
            .contains(&number.national())
    );
    assert_eq!(b.count("a[href$='/numbers/new']").await.unwrap(), 0);
    b.open(&format!(
        "/portal/numbers/{}/edit",
        number.as_str().replace('+', "%2B")
    ))
    .await
    .unwrap();
    b.fill("f-e911_address", "290-4765 1re Avenue, QUEBEC, QC G1H 2T3")
        .await
        .unwrap();
    b.fill("f-display_name", "Omnivigil").await.unwrap();
    b.screenshot("numero-d-acces").await.unwrap();
    b.click("form.card button[type=submit]").await.unwrap();
    if b.client
        .wait()
        .for_element(Locator::Id("numbers"))
        .await
        .is_err()
    {
        let mut errors = Vec::new();
        for e in b
            .client
            .find_all(Locator::Css(".field-error"))
            .await
            .unwrap()
        {
            errors.push(e.html(false).await.unwrap());
        }
        panic!("the number was not saved: {errors:?}");
    }
    let stored = world
        .api
        .get_ok(
            &format!("/v1/numbers/{}", number.as_str().replace('+', "%2B")),
            &world.owner.token,
        )
        .await;
    assert_eq!(stored["display_name"], "Omnivigil");

    // Schedule a conference for tomorrow, on the account's wall clock.
    b.open("/portal/conferences/new").await.unwrap();
    let day = (Utc::now() + Duration::days(1))
        .with_timezone(&chrono_tz::America::Toronto)
        .date_naive();
    b.fill("f-description", "Réunion mensuelle du portail")
        .await
        .unwrap();
    b.set("f-start-date", &day.to_string()).await.unwrap();
    b.set("f-start-time", "09:30").await.unwrap();
    b.set("f-end-date", &day.to_string()).await.unwrap();
    b.set("f-end-time", "11:00").await.unwrap();
    b.fill("f-codes-participant", "69501").await.unwrap();
    b.fill("f-codes-listener", "83269").await.unwrap();
    b.screenshot("planifier-une-teleconference").await.unwrap();
    b.click("form.card button[type=submit]").await.unwrap();

    // The confirmation screen: the e-mail's text.
    b.client
        .wait()
        .for_element(Locator::Id("confirmation"))
        .await
        .unwrap();
    let confirmation = b.text("#confirmation").await.unwrap();
    assert!(
        confirmation
            .contains("Voici les détails de la téléconférence « Réunion mensuelle du portail »"),
        "{confirmation}"
    );
    assert!(
        confirmation.contains("Code d'accès Participant: 69501"),
        "{confirmation}"
    );
    assert!(
        confirmation.contains("Code d'accès Auditeur: 83269"),
        "{confirmation}"
    );
    assert!(confirmation.contains(&number.national()), "{confirmation}");
    b.screenshot("confirmation").await.unwrap();

    // Invite a listener.
    let listener = unique_email().to_string();
    b.fill("f-invitees-0--email", &listener).await.unwrap();
    b.client
        .find(Locator::Id("f-invitees-0--role"))
        .await
        .unwrap()
        .select_by_value("listener")
        .await
        .unwrap();
    b.click("form[aria-labelledby=invite-title] button[type=submit]")
        .await
        .unwrap();
    b.client
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    assert_eq!(
        b.text("p.notice").await.unwrap(),
        "Invitations envoyées : 1"
    );

    // The mail, in the emulator, sent by the mailer from the table's stream: the
    // listener's code only.
    MailLoop::over_ses(&world.api.stack).await.pump().await;
    let mail = outbox::sent_to(&listener).await.unwrap();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].body.contains("83269"), "{}", mail[0].body);
    assert!(
        !mail[0].body.contains("69501"),
        "a listener gets no participant code"
    );

    b.open("/portal/conferences").await.unwrap();
    b.screenshot("teleconferences").await.unwrap();
    b.open("/portal/users").await.unwrap();
    b.screenshot("utilisateurs").await.unwrap();
    b.open("/portal/invoices").await.unwrap();
    assert!(b.count("#estimate").await.unwrap() == 1);
    b.screenshot("factures").await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn an_operator_finds_no_edit_control_on_another_operators_conference() {
    let (world, b) = portal().await;
    b.sign_in(&world.op2.email, &world.op2.password)
        .await
        .unwrap();
    b.open("/portal/conferences").await.unwrap();
    let theirs = format!("tr[data-conference='{}']", world.conf_op1_id());
    let mine = format!("tr[data-conference='{}']", world.conf_op2_id());
    assert_eq!(
        b.count(&theirs).await.unwrap(),
        1,
        "the whole list is visible"
    );
    assert_eq!(b.count(&format!("{theirs} a.edit")).await.unwrap(), 0);
    assert_eq!(b.count(&format!("{mine} a.edit")).await.unwrap(), 1);
    // Neither on the conference's page…
    b.open(&format!("/portal/conferences/{}", world.conf_op1_id()))
        .await
        .unwrap();
    assert_eq!(b.count("a.edit").await.unwrap(), 0);
    // …and the server refuses the form anyway.
    b.open(&format!("/portal/conferences/{}/edit", world.conf_op1_id()))
        .await
        .unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Accès refusé");
    assert_eq!(b.count("form.card").await.unwrap(), 0);
    b.close().await.unwrap();
}

#[tokio::test]
async fn the_owner_switches_to_english_and_downloads_the_cdr_csv() {
    let (world, b) = portal().await;
    let leg = world
        .put_leg(
            &world.conf_owner,
            Utc::now() - Duration::minutes(30),
            125,
            CallerRole::Participant,
        )
        .await;
    b.sign_in(&world.owner.email, &world.owner.password)
        .await
        .unwrap();
    b.open("/portal/logs").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Journaux (CDR)");
    assert!(b.text("#totals").await.unwrap().contains("1 appel(s)"));
    b.screenshot("journaux-cdr").await.unwrap();

    b.switch_language("en").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Logs (CDR)");
    assert!(b.text("#totals").await.unwrap().contains("1 call(s)"));

    b.click("#csv").await.unwrap();
    let csv = b.downloaded("cdrs.csv").await.unwrap();
    assert!(csv.starts_with("leg_id,conference_id"), "{csv}");
    assert!(csv.contains(&leg.id.to_string()), "{csv}");

    b.open("/portal").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Dashboard");
    b.close().await.unwrap();
}

#[tokio::test]
async fn the_owner_adds_and_removes_an_ip_phone_and_reads_each_refusal_in_french() {
    let (world, b) = portal().await;
    // Account B's phone, added through the API.
    world
        .api
        .expect(
            axum::http::StatusCode::CREATED,
            axum::http::Method::POST,
            "/v1/ip-phones",
            &world.foreign.token,
            Some(serde_json::json!({ "source": "192.0.2.77" })),
        )
        .await;
    b.sign_in(&world.owner.email, &world.owner.password)
        .await
        .unwrap();
    b.click("nav a[href='/portal/ip-phones']").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Téléphones IP (*44)");
    assert!(b.text("#no-ip-phones").await.is_ok());
    let add = "form[action='/portal/ip-phones'] button[type=submit]";

    // A SIP identity with a port: refused, said in French beside the field.
    b.fill("f-source", "sip:poste12@pbx.example:5060")
        .await
        .unwrap();
    b.click(add).await.unwrap();
    assert_eq!(
        b.text("#f-source-error").await.unwrap(),
        "Une identité SIP s'écrit sans port : sip:utilisateur@hôte."
    );

    b.fill("f-source", "SIP:poste12@PBX.example").await.unwrap();
    b.fill("f-label", "Salle du conseil").await.unwrap();
    b.click(add).await.unwrap();
    let table = b.text("#ip-phones").await.unwrap();
    assert!(table.contains("sip:poste12@pbx.example"), "{table}");
    assert!(table.contains("son identité SIP"), "{table}");
    assert!(table.contains("Salle du conseil"), "{table}");

    // B's phone cannot be A's too.
    b.fill("f-source", "192.0.2.77").await.unwrap();
    b.click(add).await.unwrap();
    assert_eq!(
        b.text("#f-source-error").await.unwrap(),
        "Ce téléphone IP est déjà inscrit, dans ce compte ou dans un autre."
    );

    b.click("#ip-phones button.danger").await.unwrap();
    assert!(b.text("#no-ip-phones").await.is_ok());
    let left = world.api.get_ok("/v1/ip-phones", &world.owner.token).await;
    assert_eq!(left, serde_json::json!([]));

    b.switch_language("en").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "IP phones (*44)");
    b.close().await.unwrap();
}

#[tokio::test]
async fn signing_out_of_the_portal_ends_the_session_wherever_its_cookie_was_copied() {
    let (world, b) = portal().await;
    b.sign_in(&world.op1.email, &world.op1.password)
        .await
        .unwrap();
    let cookie = b.client.get_named_cookie("tc_session").await.unwrap();
    let token = cookie.value().to_string();
    world.api.get_ok("/v1/me", &token).await;

    b.sign_out().await.unwrap();
    // The token the cookie held is refused by the API…
    let (status, body, _) = world
        .api
        .call(axum::http::Method::GET, "/v1/me", Some(&token), None)
        .await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED, "{body}");
    // …and the cookie put back opens nothing: the sign-in page.
    b.client.add_cookie(cookie).await.unwrap();
    b.open("/portal/conferences").await.unwrap();
    b.client
        .wait()
        .for_element(Locator::Id("f-email"))
        .await
        .unwrap();
    assert_eq!(b.count("nav").await.unwrap(), 0);
    b.close().await.unwrap();
}

#[tokio::test]
async fn the_provider_admin_adds_a_finance_user_who_finds_the_monthly_exports() {
    let (world, b) = portal().await;
    b.sign_in(&world.provider.email, &world.provider.password)
        .await
        .unwrap();
    b.open("/portal/users").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Utilisateurs et droits");
    // The provider's roles, not an account's.
    let roles: Vec<String> = {
        let mut values = Vec::new();
        for option in b
            .client
            .find_all(Locator::Css("#f-role option"))
            .await
            .unwrap()
        {
            values.push(option.attr("value").await.unwrap().unwrap_or_default());
        }
        values
    };
    assert_eq!(roles, ["provider_admin", "finance"]);
    let email = unique_email().to_string();
    b.fill("f-name", "Fanny Finance").await.unwrap();
    b.fill("f-email", &email).await.unwrap();
    b.fill("f-password", "correct horse battery staple")
        .await
        .unwrap();
    b.click("section.card button[type=submit]").await.unwrap();
    b.client
        .wait()
        .for_element(Locator::Id("users"))
        .await
        .unwrap();
    assert!(b.text("#users").await.unwrap().contains(&email));
    b.sign_out().await.unwrap();

    b.sign_in(&email, "correct horse battery staple")
        .await
        .unwrap();
    b.open("/portal/provider/exports").await.unwrap();
    assert_eq!(b.text("h1").await.unwrap(), "Exportations mensuelles");
    assert!(b.count("nav a[href$='/provider/exports']").await.unwrap() == 1);
    assert!(b.count("nav a[href$='/users']").await.unwrap() == 0);
    b.close().await.unwrap();
}
