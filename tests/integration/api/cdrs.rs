//! CDRs (`/v1/cdrs`): paged, filtered, exported as CSV, limited to what the caller may
//! see.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use chrono_tz::America::Toronto;
use serde_json::Value;
use teleconf_adapters::store::CdrStore;
use teleconf_domain::{CallerRole, LegId, YearMonth};
use teleconf_tests::api::{World, csv_rows, rfc3339};

use super::{error_of, now_secs, toronto_time};

/// The legs of every page, following `next_cursor`.
async fn all_pages(w: &World, token: &str, query: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/v1/cdrs?{query}&limit=1");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = w.api.get_ok(&path, token).await;
        pages += 1;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= 1, "{page}");
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    (items, pages)
}

fn leg_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|l| l["leg_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cdrs_are_paged_filtered_by_conference_and_exported_as_csv() {
    let w = World::new().await;
    let base = now_secs() - Duration::hours(2);
    let l1 = w
        .put_leg(&w.conf_op1, base, 60, CallerRole::Participant)
        .await;
    let l2 = w
        .put_leg(
            &w.conf_op1,
            base + Duration::minutes(1),
            125,
            CallerRole::Listener,
        )
        .await;
    let l3 = w
        .put_leg(
            &w.conf_op2,
            base + Duration::minutes(2),
            30,
            CallerRole::Moderator,
        )
        .await;
    let range = format!(
        "from={}&to={}",
        rfc3339(base - Duration::hours(1)),
        rfc3339(Utc::now() + Duration::minutes(1))
    );

    let (items, pages) = all_pages(&w, &w.owner.token, &range).await;
    assert_eq!(
        leg_ids(&items),
        [&l1, &l2, &l3].map(|l| l.id.to_string()).to_vec()
    );
    assert_eq!(pages, 3);
    let first = &items[0];
    assert_eq!(first["conference_id"], w.conf_op1_id());
    assert_eq!(first["conference_number"], w.conf_op1["conference_number"]);
    assert_eq!(first["dialled"], w.number.as_str());
    assert_eq!(first["role"], "participant");
    assert_eq!(first["duration_s"], 60);
    assert_eq!(items[1]["duration_s"], 125);
    assert_eq!(first["cause"], "caller_hangup");
    assert_eq!(toronto_time(&first["joined_at"]), (base, true));

    // One conference only.
    let (items, _) = all_pages(
        &w,
        &w.owner.token,
        &format!("{range}&conference_id={}", w.conf_op1_id()),
    )
    .await;
    assert_eq!(
        leg_ids(&items),
        [&l1, &l2].map(|l| l.id.to_string()).to_vec()
    );

    // CSV: a header row, then every leg.
    let res = w
        .api
        .get_csv(&format!("/v1/cdrs?{range}"), &w.owner.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        res.content_type().starts_with("text/csv"),
        "{:?}",
        res.headers
    );
    let text = res.text();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{text}");
    let header = &rows[0];
    for column in [
        "leg_id",
        "conference_id",
        "conference_number",
        "dialled",
        "role",
        "joined_at",
        "duration_s",
    ] {
        assert!(header.contains(&column), "no {column} in {header:?}");
    }
    let leg_col = header.iter().position(|c| *c == "leg_id").unwrap();
    let role_col = header.iter().position(|c| *c == "role").unwrap();
    for (row, leg) in rows[1..].iter().zip([&l1, &l2, &l3]) {
        assert_eq!(row.len(), header.len(), "{text}");
        assert_eq!(row[leg_col], leg.id.to_string());
        assert_eq!(
            row[role_col],
            serde_json::to_value(leg.role).unwrap().as_str().unwrap()
        );
    }
}

#[tokio::test]
async fn the_cdr_csv_opens_in_a_spreadsheet_with_numbers_as_text_and_no_formula() {
    let w = World::new().await;
    let joined = now_secs() - Duration::hours(1);
    let dialled = w
        .put_leg(&w.conf_op1, joined, 61, CallerRole::Participant)
        .await;
    // A caller ID is what the caller's side sent: anything at all.
    let mut formula = dialled.clone();
    formula.id = LegId::new();
    formula.joined_at = joined + Duration::minutes(1);
    formula.caller_id = "=HYPERLINK(\"http://evil.example\",\"facture\")".into();
    w.api.stack.store.put_leg(&formula).await.unwrap();

    let res = w
        .api
        .get_csv(
            &format!("/v1/cdrs?from={}", rfc3339(joined - Duration::minutes(1))),
            &w.owner.token,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let rows = csv_rows(&res.body);
    assert_eq!(rows.len(), 2);
    // E.164 numbers are text (a leading ' keeps the +), the formula is shown, not run,
    // and the numbers stay numbers.
    assert_eq!(rows[0]["dialled"], format!("'{}", w.number));
    assert_eq!(rows[0]["caller_id"], "'+15145550100");
    assert_eq!(
        rows[1]["caller_id"],
        "'=HYPERLINK(\"http://evil.example\",\"facture\")"
    );
    assert_eq!(rows[0]["duration_s"], "61");
    assert_eq!(
        rows[0]["conference_number"],
        w.conf_op1["conference_number"]
    );
    // The JSON is the data as it is.
    let json = w
        .api
        .get_ok(
            &format!("/v1/cdrs?from={}", rfc3339(joined - Duration::minutes(1))),
            &w.owner.token,
        )
        .await;
    assert_eq!(json["items"][0]["dialled"], w.number.as_str());
}

#[tokio::test]
async fn an_operator_sees_only_the_cdrs_of_the_conferences_they_created() {
    let w = World::new().await;
    let base = now_secs() - Duration::hours(2);
    let mine = w
        .put_leg(&w.conf_op1, base, 60, CallerRole::Participant)
        .await;
    let theirs = w
        .put_leg(
            &w.conf_op2,
            base + Duration::minutes(1),
            60,
            CallerRole::Participant,
        )
        .await;
    let range = format!(
        "from={}&to={}",
        rfc3339(base - Duration::hours(1)),
        rfc3339(Utc::now() + Duration::minutes(1))
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.op1.token)
        .await;
    assert_eq!(
        leg_ids(page["items"].as_array().unwrap()),
        vec![mine.id.to_string()]
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.op2.token)
        .await;
    assert_eq!(
        leg_ids(page["items"].as_array().unwrap()),
        vec![theirs.id.to_string()]
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.admin.token)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_cdr_range_longer_than_the_limit_is_refused_not_cut_short() {
    let w = World::new().await;
    let joined = now_secs() - Duration::hours(1);
    let leg = w
        .put_leg(&w.conf_op1, joined, 60, CallerRole::Participant)
        .await;
    // From the first day of the month 13 months before the leg's: 14 calendar months.
    let mut month = YearMonth::new(leg.month.year() - 1, leg.month.month()).unwrap();
    month = YearMonth::new(
        if month.month() == 1 {
            month.year() - 1
        } else {
            month.year()
        },
        if month.month() == 1 {
            12
        } else {
            month.month() - 1
        },
    )
    .unwrap();
    let from = month.start_in(Toronto);
    let path = format!(
        "/v1/cdrs?from={}&to={}",
        rfc3339(from),
        rfc3339(joined + Duration::minutes(5))
    );
    let (status, body, _) = w
        .api
        .call(Method::GET, &path, Some(&w.owner.token), None)
        .await;
    match status {
        StatusCode::BAD_REQUEST => assert_eq!(error_of(&body)["field"], "from"),
        StatusCode::OK => assert_eq!(
            leg_ids(body["items"].as_array().unwrap()),
            vec![leg.id.to_string()],
            "a 14-month range answered 200 without the legs of its last month"
        ),
        other => panic!("{other}: {body}"),
    }
}
