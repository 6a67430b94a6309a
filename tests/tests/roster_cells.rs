//! What a roster's cells may hold, end to end (issue #12): a value that would run as a formula
//! in the school's Excel, a name hiding a right-to-left override, a cell too large for the
//! store. Each is reported on its line and the other lines are imported; the enrolled counter
//! is the number of entries, even after an import that stopped half-way; and a formula stored
//! before these rules comes out of the export as text.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yunzhao_e2e::{Reply, SchoolSetup, Stack, id_number, unique};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

/// A roster CSV: the header, then one line per row.
fn csv(header: &str, rows: &[String]) -> Vec<u8> {
    let mut out = format!("\u{feff}{header}\n");
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out.into_bytes()
}

/// A CSV field, quoted as Excel would when it holds a comma or a quote.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// (line, code) of each error of an import's report.
fn errors(reply: &Reply) -> Vec<(u64, String)> {
    let errors = reply.body["report"]["errors"].as_array().cloned().unwrap_or_default();
    errors.iter().map(|e| (e["line"].as_u64().unwrap_or(0), e["code"].as_str().unwrap_or("").to_owned())).collect()
}

fn report(reply: &Reply, field: &str) -> u64 {
    reply.body["report"][field].as_u64().unwrap_or(u64::MAX)
}

async fn enrolled(stack: &Stack, setup: &SchoolSetup) -> u64 {
    let c = stack.get(&format!("/v1/admin/campaigns/{}", setup.campaign_id), Some(&setup.admin)).await.expect("get");
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    c.body["progress"]["enrolled"].as_u64().expect("enrolled")
}

/// The campaign's roster entries, straight from the table.
async fn entries(stack: &Stack, campaign_id: &str) -> Vec<Value> {
    stack.db().query(&format!("CAMPAIGN#{campaign_id}"), "ENTRY#").await.expect("entries")
}

#[tokio::test]
async fn a_formula_in_a_department_major_or_class_and_a_hidden_character_in_a_name_are_refused_by_line() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let rows = [
        format!("张三,{},计算机学院,软件工程,软工2101", id_number(unique())),
        format!("李四,{},{},,", id_number(unique()), field("=HYPERLINK(\"http://example.com\",\"点我\")")),
        format!("王五,{},计算机学院,+cmd,", id_number(unique())),
        format!("赵六,{},计算机学院,软件工程,@SUM(1+1)", id_number(unique())),
        format!("钱\u{202E}七,{},计算机学院,,", id_number(unique())),
        format!("孙八\u{200B},{},计算机学院,,", id_number(unique())),
        format!("{},{},计算机学院,,", field("=HYPERLINK(\"http://example.com\",\"点我\")"), id_number(unique())),
        format!("买买提·艾力,{},计算机学院,,", id_number(unique())),
    ];
    let reply = stack
        .import_roster(&setup.admin, &setup.campaign_id, csv("姓名,身份证号,院系,专业,班级", &rows))
        .await
        .expect("import");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        errors(&reply),
        [
            (3, "invalid_department".to_owned()),
            (4, "invalid_major".into()),
            (5, "invalid_class".into()),
            (6, "invalid_name".into()),
            (7, "invalid_name".into()),
            (8, "invalid_name".into()),
        ],
        "{}",
        reply.body
    );
    assert_eq!((report(&reply, "rows"), report(&reply, "created")), (8, 2), "{}", reply.body);
    assert_eq!(enrolled(&stack, &setup).await, 2);
    let names: Vec<String> = entries(&stack, &setup.campaign_id)
        .await
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"张三".to_owned()) && names.contains(&"买买提·艾力".to_owned()), "{names:?}");
}

#[tokio::test]
async fn a_500_kb_cell_is_reported_on_its_line_and_every_other_line_is_imported_and_counted() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let huge = "长".repeat(500 * 1024 / 3); // 500 KB of UTF-8
    // 61 rows as in the incident: the 38th holds the giant 院系, the 50th a giant 备注 (a column
    // the service ignores).
    let rows: Vec<String> = (0..61)
        .map(|k| {
            let department = if k == 37 { huge.as_str() } else { "计算机学院" };
            let note = if k == 49 { huge.as_str() } else { "" };
            format!("学生{},{},{department},{note}", ["甲", "乙", "丙", "丁"][k % 4], id_number(unique()))
        })
        .collect();
    let file = csv("姓名,身份证号,院系,备注", &rows);
    let reply = stack.import_roster(&setup.admin, &setup.campaign_id, file.clone()).await.expect("import");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(errors(&reply), [(39, "cell_too_long".to_owned()), (51, "cell_too_long".into())], "{}", reply.body);
    assert_eq!((report(&reply, "rows"), report(&reply, "created")), (61, 59), "{}", reply.body);
    assert_eq!(enrolled(&stack, &setup).await, 59);
    assert_eq!(entries(&stack, &setup.campaign_id).await.len(), 59);

    // The same file again: nothing changes, nothing more is counted.
    let again = stack.import_roster(&setup.admin, &setup.campaign_id, file).await.expect("import again");
    assert_eq!((again.status, report(&again, "unchanged"), report(&again, "created")), (StatusCode::OK, 59, 0));
    assert_eq!(enrolled(&stack, &setup).await, 59);
}

#[tokio::test]
async fn a_counter_left_short_by_an_import_stopped_half_way_is_right_after_a_re_import() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let rows: Vec<String> =
        ["张三", "李四", "王五", "赵六", "钱七"].iter().map(|name| format!("{name},{}", id_number(unique()))).collect();
    let file = csv("姓名,身份证号", &rows);
    let first = stack.import_roster(&setup.admin, &setup.campaign_id, file.clone()).await.expect("import");
    assert_eq!((first.status, report(&first, "created")), (StatusCode::OK, 5), "{}", first.body);
    assert_eq!(enrolled(&stack, &setup).await, 5);

    // What an import that stopped on row 3 left before the fix: five entries, two counted.
    let short = json!({"enrolled": 2});
    let profile = format!("CAMPAIGN#{}", setup.campaign_id);
    stack.db().set(&profile, "PROFILE", short.as_object().expect("fields")).await.expect("a short counter");
    assert_eq!(enrolled(&stack, &setup).await, 2);

    let again = stack.import_roster(&setup.admin, &setup.campaign_id, file).await.expect("re-import");
    assert_eq!((again.status, report(&again, "unchanged")), (StatusCode::OK, 5), "{}", again.body);
    assert_eq!(enrolled(&stack, &setup).await, 5, "the rows it calls unchanged are counted");
}

/// The cells of a CSV (quotes as the csv crate writes them).
fn cells(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![vec![String::new()]];
    let (mut quoted, mut chars) = (false, text.trim_start_matches('\u{feff}').chars().peekable());
    while let Some(c) = chars.next() {
        let row = rows.last_mut().expect("a row");
        let cell = row.last_mut().expect("a cell");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(String::new()),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            ('\n', false) => rows.push(vec![String::new()]),
            (c, _) => cell.push(c),
        }
    }
    rows.retain(|r| r != &[String::new()]);
    rows
}

#[tokio::test]
async fn a_formula_stored_before_these_rules_comes_out_of_the_export_as_text() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let id = id_number(unique());
    let rows = [format!("张三,{id},计算机学院,软件工程,软工2101")];
    let reply = stack
        .import_roster(&setup.admin, &setup.campaign_id, csv("姓名,身份证号,院系,专业,班级", &rows))
        .await
        .expect("import");
    assert_eq!((reply.status, report(&reply, "created")), (StatusCode::OK, 1), "{}", reply.body);

    // As an import before the rules would have stored them.
    let link = "=HYPERLINK(\"http://example.com/x\",\"点我\")";
    let entry = entries(&stack, &setup.campaign_id).await.pop().expect("the entry");
    let formulas = json!({"name": link, "department": "@SUM(1+1)", "major": "+cmd|' /C calc'!A0", "class": "-2+3"});
    let (pk, sk) = (entry["PK"].as_str().expect("PK"), entry["SK"].as_str().expect("SK"));
    stack.db().set(pk, sk, formulas.as_object().expect("fields")).await.expect("a formula stored");

    let export: Value = stack.export(&setup.admin, &setup.campaign_id, false).await.expect("export");
    let bytes = stack.download(export["download_url"].as_str().expect("link")).await.expect("download");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive");
    let mut missing = String::new();
    zip.by_name("missing.csv").expect("missing.csv").read_to_string(&mut missing).expect("UTF-8");
    let mut manifest = String::new();
    zip.by_name("manifest.csv").expect("manifest.csv").read_to_string(&mut manifest).expect("UTF-8");
    let (missing, manifest) = (cells(&missing), cells(&manifest));
    for cell in missing.iter().chain(&manifest).flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell Excel would run: {cell:?}");
    }
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert_eq!(
        missing[1][..6],
        [format!("'{link}"), id, String::new(), "'@SUM(1+1)".into(), "'+cmd|' /C calc'!A0".into(), "'-2+3".into()],
        "{missing:?}"
    );
}
