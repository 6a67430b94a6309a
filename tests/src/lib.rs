//! The harness the end-to-end tests and the demo share: the local stack's addresses (from
//! the environment `infra/local/stack.sh run` sets), an HTTP client for the API as the
//! mini-program calls it, and the fake WeChat's controls.

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct Stack {
    pub api: String,
    pub wechat: String,
    pub table: String,
    /// The local session signing key (to mint expired or forged tokens in tests).
    pub session_signing_key: String,
    pub functions_log: String,
    /// The unionid whose first QR sign-in makes the deployment's first operator.
    pub first_operator: String,
    invoke: String,
    http: reqwest::Client,
    /// For redirects the tests follow by hand (the staff sign-in's 302s and cookies).
    no_redirect: reqwest::Client,
    db: yunzhao_adapters::dynamo::inspect::Table,
}

/// A response as the mini-program sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error reply.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// What the fake WeChat minted for one `wx.login`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WxCode {
    pub code: String,
    pub openid: String,
    /// What WeChat will hand our backend with the openid; it must never come back out.
    pub session_key: String,
}

/// Someone signed in: a student (bearer `token`) or a staff member in the console
/// (`token` is the session cookie's value, sent with the session's `csrf` token).
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user_id: String,
    /// A student's openid; a staff member's unionid.
    pub openid: String,
    /// Staff only: the CSRF token every state-changing request carries.
    pub csrf: Option<String>,
}

impl Session {
    /// A raw bearer token (forged, expired…) to call with.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self { token: token.into(), user_id: String::new(), openid: String::new(), csrf: None }
    }

    /// The same staff session with another CSRF token (`None`: without one).
    pub fn with_csrf(&self, csrf: Option<&str>) -> Self {
        Self { csrf: Some(csrf.unwrap_or_default().to_owned()), ..self.clone() }
    }
}

/// The WeChat nickname test staff sign in with.
pub const STAFF_NICKNAME: &str = "测试员工";

/// The staff session cookie's name.
pub const STAFF_COOKIE: &str = "__Host-yz_staff";

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .with_context(|| format!("{name} is not set: run through `make test` or `infra/local/stack.sh run …`"))
}

impl Stack {
    pub async fn from_env() -> anyhow::Result<Self> {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self {
            api: env("API_URL")?,
            wechat: env("FAKE_WECHAT_URL")?,
            table: env("TABLE_NAME")?,
            session_signing_key: env("SESSION_SIGNING_KEY")?,
            functions_log: env("FUNCTIONS_LOG")?,
            first_operator: env("FIRST_OPERATOR_UNIONID")?,
            invoke: env("FUNCTIONS_INVOKE_URL")?,
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build()?,
            no_redirect: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            db: yunzhao_adapters::dynamo::inspect::Table::new(&aws, env("TABLE_NAME")?),
        })
    }

    /// The table seen from outside: items as JSON, and changed by hand.
    pub fn db(&self) -> &yunzhao_adapters::dynamo::inspect::Table {
        &self.db
    }

    /// The same stack reached from another network address: the client binds its side of
    /// every connection to `ip` (any 127.x.y.z is the machine itself), so the API sees
    /// requests from another source, as from another phone.
    pub fn from_source(&self, ip: std::net::IpAddr) -> anyhow::Result<Self> {
        let client = |redirects: bool| {
            let b = reqwest::Client::builder().local_address(ip).timeout(std::time::Duration::from_secs(120));
            if redirects { b } else { b.redirect(reqwest::redirect::Policy::none()) }.build()
        };
        Ok(Self {
            api: self.api.clone(),
            wechat: self.wechat.clone(),
            table: self.table.clone(),
            session_signing_key: self.session_signing_key.clone(),
            functions_log: self.functions_log.clone(),
            first_operator: self.first_operator.clone(),
            invoke: self.invoke.clone(),
            http: client(true)?,
            no_redirect: client(false)?,
            db: self.db.clone(),
        })
    }

    /// `wx.login` on a phone: a fresh code for `openid` (a new random person when `None`).
    pub async fn wx_login(&self, openid: Option<&str>) -> anyhow::Result<WxCode> {
        self.mint_code(json!({ "openid": openid })).await
    }

    /// A code for which WeChat answers `errcode` (`times` times, or always when `None`).
    pub async fn wx_login_failing(&self, errcode: i64, times: Option<u32>) -> anyhow::Result<WxCode> {
        self.mint_code(json!({ "errcode": errcode, "times": times })).await
    }

    async fn mint_code(&self, body: Value) -> anyhow::Result<WxCode> {
        let response = self.http.post(format!("{}/_fake/login-codes", self.wechat)).json(&body).send().await?;
        Ok(response.error_for_status()?.json().await?)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<&Session>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        match auth {
            Some(Session { token, csrf: Some(csrf), .. }) => {
                req = req.header(reqwest::header::COOKIE, format!("{STAFF_COOKIE}={token}"));
                if !csrf.is_empty() {
                    req = req.header("x-csrf-token", csrf);
                }
            }
            Some(s) => req = req.bearer_auth(&s.token),
            None => {}
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let response = req.send().await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(Reply { status, headers, body })
    }

    pub async fn post(&self, path: &str, auth: Option<&Session>, body: &Value) -> anyhow::Result<Reply> {
        self.call(reqwest::Method::POST, path, auth, Some(body)).await
    }

    pub async fn get(&self, path: &str, auth: Option<&Session>) -> anyhow::Result<Reply> {
        self.call(reqwest::Method::GET, path, auth, None).await
    }

    /// Logs a new (or the given) person in through `POST /v1/session`.
    pub async fn log_in(&self, openid: Option<&str>) -> anyhow::Result<Session> {
        let wx = self.wx_login(openid).await?;
        let reply = self.post("/v1/session", None, &json!({ "code": wx.code })).await?;
        if reply.status != StatusCode::OK {
            bail!("login failed: {} {}", reply.status, reply.body);
        }
        Ok(Session {
            token: reply.body["token"].as_str().context("token")?.to_owned(),
            user_id: reply.body["user"]["id"].as_str().context("user id")?.to_owned(),
            openid: wx.openid,
            csrf: None,
        })
    }

    /// A table item by key, as JSON, for printing and asserting.
    pub async fn item(&self, pk: &str, sk: &str) -> anyhow::Result<Option<Value>> {
        Ok(self.db.get(pk, sk).await?)
    }
}

/// A query parameter of a URL (before any `#` fragment).
pub fn url_param(url: &str, name: &str) -> Option<String> {
    let query = url.split('#').next()?.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A valid resident ID number, different for every `n` (region 110105, born 1990–2006).
pub fn id_number(n: u64) -> String {
    let birth = time::Date::from_calendar_date(1990, time::Month::January, 1).expect("date")
        + time::Duration::days((n % 6000) as i64);
    let digits =
        format!("110105{:04}{:02}{:02}{:03}", birth.year(), u8::from(birth.month()), birth.day(), (n / 6000) % 1000);
    let check = yunzhao_domain::id_number::check_char(digits.as_bytes()) as char;
    format!("{digits}{check}")
}

/// A loopback address no other test of this run (or of one in the last hour) sends from.
pub fn unique_source() -> std::net::IpAddr {
    let n = unique();
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        10 + (n % 200) as u8,
        ((n / 200) % 250) as u8,
        2 + ((n / 50_000) % 250) as u8,
    ))
}

/// Notes a roster CSV's personal values (cells past the header with Chinese text, or a
/// phone-like number) in `PERSONAL_DATA_FILE` (default `.local/personal-data.txt`), which
/// `scan-logs` looks for in every log line after the run.
fn remember_personal_data(csv: &[u8]) {
    use std::io::Write;
    let Ok(text) = std::str::from_utf8(csv) else { return };
    let personal = |cell: &str| {
        cell.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            || (cell.len() == 11 && cell.starts_with('1') && cell.bytes().all(|b| b.is_ascii_digit()))
    };
    let cells: Vec<&str> = text
        .lines()
        .skip(1)
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|c| c.chars().count() >= 2 && personal(c))
        .collect();
    let path = std::env::var("PERSONAL_DATA_FILE")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.local/personal-data.txt").to_owned());
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{}", cells.join("\n"));
    }
}

/// A number no other test in this run uses.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1000;
    base.wrapping_mul(7919).wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed) * 104_729) % 5_000_000
}

/// The `name=value` of a `Set-Cookie` for `name` in a response.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

impl Stack {
    /// The console's QR sign-in as a browser goes through it: `/v1/staff/sign-in` (through an
    /// invitation link when given) → WeChat's QR page, where `unionid` scans and confirms →
    /// the callback, which sets the session cookie; then the session's CSRF token.
    pub async fn staff_sign_in(&self, unionid: &str, invitation_link: Option<&str>) -> anyhow::Result<Session> {
        let token = invitation_link.and_then(|l| l.split_once("invitation=")).map(|(_, t)| t.to_owned());
        let mut start = self.no_redirect.get(format!("{}/v1/staff/sign-in", self.api));
        if let Some(t) = &token {
            start = start.query(&[("invitation", t)]);
        }
        let started = start.send().await?;
        let to = started.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let state = url_param(to, "state").with_context(|| format!("no state in {to:?}"))?;
        let signin = set_cookie(started.headers(), "__Host-yz_signin").context("sign-in state cookie")?;
        let code: Value =
            self.fake("/_fake/web-codes", json!({ "unionid": unionid, "nickname": STAFF_NICKNAME })).await?;
        let back = self
            .no_redirect
            .get(format!("{}/v1/staff/sign-in/callback", self.api))
            .query(&[("code", code["code"].as_str().unwrap_or_default()), ("state", state.as_str())])
            .header(reqwest::header::COOKIE, signin)
            .send()
            .await?;
        let landed = back.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let Some(cookie) = set_cookie(back.headers(), STAFF_COOKIE) else { bail!("sign-in refused: {landed}") };
        let token = cookie.split_once('=').map(|(_, v)| v.to_owned()).unwrap_or_default();
        let session = Session { token, user_id: String::new(), openid: unionid.to_owned(), csrf: Some(String::new()) };
        let me = self.get("/v1/staff/session", Some(&session)).await?;
        if me.status != StatusCode::OK {
            bail!("staff session: {} {}", me.status, me.body);
        }
        Ok(Session {
            user_id: me.body["staff"]["id"].as_str().context("staff id")?.to_owned(),
            csrf: Some(me.body["csrf_token"].as_str().context("csrf")?.to_owned()),
            ..session
        })
    }

    /// The deployment's first operator (the configured unionid), signed in to the console.
    pub async fn bootstrap_operator(&self) -> anyhow::Result<Session> {
        self.staff_sign_in(&self.first_operator.clone(), None).await
    }

    /// An invitation link for `roles` in `schools`, made by `operator`.
    pub async fn invite(&self, operator: &Session, roles: &[&str], schools: &[&str]) -> anyhow::Result<String> {
        let body = json!({ "roles": roles, "school_ids": schools, "label": "测试" });
        let reply = self.post("/v1/staff/invitations", Some(operator), &body).await?;
        if reply.status != StatusCode::CREATED {
            bail!("invite {roles:?}: {} {}", reply.status, reply.body);
        }
        Ok(reply.body["invitation"]["link"].as_str().context("link")?.to_owned())
    }

    /// A new person invited by `operator` as `roles` of `schools`, signed in through the link.
    pub async fn staff(&self, operator: &Session, roles: &[&str], schools: &[&str]) -> anyhow::Result<Session> {
        let link = self.invite(operator, roles, schools).await?;
        self.staff_sign_in(&format!("staff_{}", unique()), Some(&link)).await
    }

    /// A new person made admin of `school_id` by `operator`, signed in to the console.
    pub async fn school_admin(&self, operator: &Session, school_id: &str) -> anyhow::Result<Session> {
        self.staff(operator, &["school_admin"], &[school_id]).await
    }

    /// A new school, created by `operator`.
    pub async fn create_school(&self, operator: &Session, name: &str) -> anyhow::Result<String> {
        let reply = self.post("/v1/admin/schools", Some(operator), &json!({ "name": name })).await?;
        if reply.status != StatusCode::CREATED {
            bail!("create school: {} {}", reply.status, reply.body);
        }
        Ok(reply.body["school"]["id"].as_str().context("school id")?.to_owned())
    }

    /// A campaign open now (for a week) in `identity_mode`, created by `admin`.
    pub async fn open_campaign(&self, admin: &Session, school_id: &str, identity_mode: &str) -> anyhow::Result<String> {
        let now = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
        let fmt =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let body = json!({
            "school_id": school_id, "name": "2026 届毕业生图像采集", "kind": "graduation", "preset": "chsi",
            "opens_at": fmt(now - time::Duration::hours(1)), "closes_at": fmt(now + time::Duration::days(7)),
            "price_fen": 3000, "identity_mode": identity_mode,
        });
        let reply = self.post("/v1/admin/campaigns", Some(admin), &body).await?;
        if reply.status != StatusCode::CREATED {
            bail!("create campaign: {} {}", reply.status, reply.body);
        }
        Ok(reply.body["campaign"]["id"].as_str().context("campaign id")?.to_owned())
    }

    /// Uploads a roster file through the presigned POST (as the console does) and imports it;
    /// the import's reply. The personal data in a CSV (names, phones, addresses: every cell
    /// with Chinese text or a phone number) is noted for the log scan.
    pub async fn import_roster(&self, admin: &Session, campaign_id: &str, file: Vec<u8>) -> anyhow::Result<Reply> {
        remember_personal_data(&file);
        let link =
            self.post(&format!("/v1/admin/campaigns/{campaign_id}/roster-uploads"), Some(admin), &json!({})).await?;
        if link.status != StatusCode::CREATED {
            bail!("roster upload link: {} {}", link.status, link.body);
        }
        let status = self.upload_form(&link.body["upload"], file, "application/octet-stream").await?;
        if !status.is_success() {
            bail!("S3 refused the roster upload: {status}");
        }
        let import_id = link.body["import_id"].as_str().context("import id")?;
        self.post(&format!("/v1/admin/campaigns/{campaign_id}/roster-imports/{import_id}"), Some(admin), &json!({}))
            .await
    }
}

/// An operator, a school with its admin, and an open campaign.
pub struct SchoolSetup {
    pub operator: Session,
    pub admin: Session,
    pub school_id: String,
    pub campaign_id: String,
}

impl Stack {
    pub async fn school_with_campaign(&self, identity_mode: &str) -> anyhow::Result<SchoolSetup> {
        let operator = self.bootstrap_operator().await?;
        let school_id = self.create_school(&operator, "测试大学").await?;
        let admin = self.school_admin(&operator, &school_id).await?;
        let campaign_id = self.open_campaign(&admin, &school_id, identity_mode).await?;
        Ok(SchoolSetup { operator, admin, school_id, campaign_id })
    }

    /// A new student on the campaign's roster (name + ID number mode), logged in and verified.
    pub async fn verified_student(&self, setup: &SchoolSetup) -> anyhow::Result<Session> {
        let id = id_number(unique());
        let roster = format!("\u{feff}姓名,身份证号\n张三,{id}\n").into_bytes();
        let import = self.import_roster(&setup.admin, &setup.campaign_id, roster).await?;
        if import.status != StatusCode::OK {
            bail!("import: {} {}", import.status, import.body);
        }
        let student = self.log_in(None).await?;
        let body = json!({"campaign_id": setup.campaign_id, "name": "张三", "id_number": id});
        let verified = self.post("/v1/identity/verify", Some(&student), &body).await?;
        if verified.status != StatusCode::OK {
            bail!("verify: {} {}", verified.status, verified.body);
        }
        Ok(student)
    }

    async fn fake(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.http.post(format!("{}{path}", self.wechat)).json(&body).send().await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// The student completes the payment in WeChat; WeChat Pay notifies unless `notify` is false.
    pub async fn wx_pay(&self, out_trade_no: &str, notify: bool) -> anyhow::Result<Value> {
        self.fake(&format!("/_fake/pay/transactions/{out_trade_no}/pay"), json!({ "notify": notify })).await
    }

    /// Has WeChat Pay (re)send notifications: `{"times","concurrent","tamper","amount","notify_url"}`.
    pub async fn wx_notify(&self, out_trade_no: &str, options: Value) -> anyhow::Result<Vec<Value>> {
        let v = self.fake(&format!("/_fake/pay/transactions/{out_trade_no}/notify"), options).await?;
        Ok(v["deliveries"].as_array().cloned().unwrap_or_default())
    }

    /// The trade state WeChat Pay holds for an order.
    pub async fn wx_trade_state(&self, out_trade_no: &str) -> anyhow::Result<String> {
        let v: Value = self
            .http
            .get(format!("{}/_fake/pay/transactions/{out_trade_no}", self.wechat))
            .send()
            .await?
            .json()
            .await?;
        Ok(v["trade_state"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends a presigned POST form as wx.uploadFile does (fields, then the `file` part).
    pub async fn upload_form(&self, upload: &Value, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<StatusCode> {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in upload["fields"].as_object().context("fields")? {
            let value =
                if k == "Content-Type" { content_type.to_owned() } else { v.as_str().unwrap_or_default().to_owned() };
            form = form.text(k.clone(), value);
        }
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo").mime_str(content_type)?);
        Ok(self.http.post(upload["url"].as_str().context("url")?).multipart(form).send().await?.status())
    }

    /// The order's state as stored, read directly (no reconciliation on the way).
    pub async fn stored_order_state(&self, out_trade_no: &str) -> anyhow::Result<String> {
        let item =
            self.item(&yunzhao_adapters::dynamo::keys::order(out_trade_no), "ORDER").await?.context("order item")?;
        Ok(item["state"].as_str().unwrap_or_default().to_owned())
    }

    /// Items of an order's partition whose sort key starts with `prefix` (`PAYMENT#`, `HIST#`).
    pub async fn order_items(&self, out_trade_no: &str, prefix: &str) -> anyhow::Result<Vec<Value>> {
        Ok(self.db.query(&yunzhao_adapters::dynamo::keys::order(out_trade_no), prefix).await?)
    }

    /// Anomaly kinds recorded for an order number.
    pub async fn anomalies(&self, out_trade_no: &str) -> anyhow::Result<Vec<String>> {
        let all = self.db.query("ANOMALY", "").await?;
        let of_order = all.iter().filter(|i| i["out_trade_no"] == out_trade_no);
        Ok(of_order.filter_map(|i| i["kind"].as_str().map(str::to_owned)).collect())
    }

    /// A campaign with an explicit window (RFC 3339 or `2022-04-05 24:00`), created by `admin`.
    pub async fn campaign_with_window(
        &self,
        admin: &Session,
        school_id: &str,
        opens: &str,
        closes: &str,
    ) -> anyhow::Result<String> {
        let body = json!({
            "school_id": school_id, "name": "窗口测试", "kind": "graduation", "preset": "chsi",
            "opens_at": opens, "closes_at": closes, "price_fen": 3000, "identity_mode": "name_id_number",
        });
        let reply = self.post("/v1/admin/campaigns", Some(admin), &body).await?;
        if reply.status != StatusCode::CREATED {
            bail!("create campaign: {} {}", reply.status, reply.body);
        }
        Ok(reply.body["campaign"]["id"].as_str().context("campaign id")?.to_owned())
    }
}

/// The astronaut portrait `make models` fetched (a real photo, 512×512 PNG).
pub fn astronaut() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/astronaut.png");
    std::fs::read(path).expect("models/astronaut.png (run `make models`)")
}

impl Stack {
    /// The student's order in the campaign, paid through WeChat Pay with its notification.
    /// A new order of the student's in the campaign, not paid yet; its number.
    pub async fn unpaid_order(&self, student: &Session, campaign_id: &str) -> anyhow::Result<String> {
        let created = self.post("/v1/orders", Some(student), &json!({"campaign_id": campaign_id})).await?;
        let no = created.body["order"]["order_id"].as_str().with_context(|| format!("order: {}", created.body))?;
        Ok(no.to_owned())
    }

    pub async fn paid_order(&self, student: &Session, campaign_id: &str) -> anyhow::Result<String> {
        let no = self.unpaid_order(student, campaign_id).await?;
        self.wx_pay(&no, true).await?;
        Ok(no)
    }

    /// Opens an upload attempt and posts the photo as wx.uploadFile does; the attempt number.
    pub async fn upload_photo(&self, student: &Session, no: &str, photo: Vec<u8>) -> anyhow::Result<u64> {
        let opened = self.post(&format!("/v1/orders/{no}/uploads"), Some(student), &json!({})).await?;
        if opened.status != StatusCode::CREATED {
            bail!("upload refused: {} {}", opened.status, opened.body);
        }
        let status = self.upload_form(&opened.body["upload"], photo, "image/png").await?;
        if !status.is_success() {
            bail!("S3 refused the upload: {status}");
        }
        opened.body["attempt"].as_u64().context("attempt")
    }

    /// Polls the student's view of the order until it is in `want` (up to `secs` seconds).
    pub async fn wait_for_state(&self, student: &Session, no: &str, want: &str, secs: u64) -> anyhow::Result<Value> {
        let mut last = Value::Null;
        for _ in 0..secs * 2 {
            let r = self.get(&format!("/v1/orders/{no}"), Some(student)).await?;
            if r.body["order"]["state"] == want {
                return Ok(r.body);
            }
            last = r.body;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        bail!("order {no} never became {want}: {last}")
    }

    /// Changes settings of a campaign as its admin does in the console: the campaign as it is,
    /// with `changes` (e.g. `{"allow_withdraw": true}`); the campaign as saved.
    pub async fn update_campaign(&self, setup: &SchoolSetup, changes: Value) -> anyhow::Result<Value> {
        let path = format!("/v1/admin/campaigns/{}", setup.campaign_id);
        let c = self.get(&path, Some(&setup.admin)).await?.body["campaign"].clone();
        let mut input = json!({"name": c["name"], "kind": c["kind"], "spec": c["spec"], "opens_at": c["opens_at"],
            "closes_at": c["closes_at"], "price_fen": c["price_fen"], "identity_mode": c["identity_mode"],
            "require_id_card_photos": c["require_id_card_photos"], "allow_withdraw": c["allow_withdraw"],
            "free_checks": c["free_checks"]});
        for (k, v) in changes.as_object().context("changes")? {
            input[k] = v.clone();
        }
        let r = self.call(reqwest::Method::PUT, &path, Some(&setup.admin), Some(&input)).await?;
        if r.status != StatusCode::OK {
            bail!("updating the campaign: {} {}", r.status, r.body);
        }
        Ok(r.body["campaign"].clone())
    }

    /// The student looks at the standard photo and submits it for review (上传等待审核): waits
    /// until the upload is standardized (it passed the checks), submits it, and returns the
    /// order as the student then sees it, in review.
    pub async fn submit_photo(&self, student: &Session, no: &str, secs: u64) -> anyhow::Result<Value> {
        self.wait_for_state(student, no, "standardized", secs).await?;
        let r = self.post(&format!("/v1/orders/{no}/submit"), Some(student), &json!({})).await?;
        if r.status != StatusCode::OK || r.body["order"]["state"] != "in_review" {
            bail!("submitting {no}: {} {}", r.status, r.body);
        }
        self.wait_for_state(student, no, "in_review", 5).await
    }

    /// Invokes a function directly, as EventBridge or another AWS service would.
    pub async fn invoke(&self, function: &str, payload: &Value) -> anyhow::Result<Value> {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.invoke);
        let response = self.http.post(url).json(payload).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("invoke {function}: {status} {body}");
        }
        Ok(body)
    }

    /// The deadline job as EventBridge runs it, for the scheduled `time`.
    pub async fn run_deadline_job(&self, at: time::OffsetDateTime) -> anyhow::Result<Value> {
        let time = at.format(&time::format_description::well_known::Rfc3339)?;
        let event = json!({
            "version": "0", "id": format!("test-{}", unique()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000", "time": time, "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:000000000000:rule/test"], "detail": {}
        });
        self.invoke("close-deadlines", &event).await
    }

    /// Claims the next task of the campaign as `reviewer` and decides it; the decision's reply.
    pub async fn review_next(&self, reviewer: &Session, campaign_id: &str, decision: &Value) -> anyhow::Result<Reply> {
        let claimed =
            self.post(&format!("/v1/review/campaigns/{campaign_id}/claims"), Some(reviewer), &json!({})).await?;
        if claimed.status != StatusCode::OK {
            bail!("claim: {} {}", claimed.status, claimed.body);
        }
        let task = claimed.body["task_id"].as_str().context("task id")?;
        self.post(&format!("/v1/review/campaigns/{campaign_id}/tasks/{task}/decision"), Some(reviewer), decision).await
    }

    /// Asks for an export as `admin` and waits until it is built; the export with its link.
    pub async fn export(&self, admin: &Session, campaign_id: &str, incremental: bool) -> anyhow::Result<Value> {
        let asked = self
            .post(
                &format!("/v1/admin/campaigns/{campaign_id}/exports"),
                Some(admin),
                &json!({"incremental": incremental}),
            )
            .await?;
        if asked.status != StatusCode::ACCEPTED {
            bail!("export request: {} {}", asked.status, asked.body);
        }
        let id = asked.body["export"]["export_id"].as_str().context("export id")?.to_owned();
        self.wait_for_export(admin, campaign_id, &id).await
    }

    pub async fn wait_for_export(&self, admin: &Session, campaign_id: &str, export_id: &str) -> anyhow::Result<Value> {
        let mut last = Value::Null;
        for _ in 0..120 {
            let r = self.get(&format!("/v1/admin/campaigns/{campaign_id}/exports/{export_id}"), Some(admin)).await?;
            if r.body["export"]["status"] == "ready" {
                return Ok(r.body);
            }
            last = r.body;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        bail!("export {export_id} never became ready: {last}")
    }

    /// Downloads a URL (a presigned link).
    pub async fn download(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.http.get(url).send().await?.error_for_status()?.bytes().await?.to_vec())
    }
}

/// A student of a roster: logged in and verified against their line.
pub struct Student {
    pub session: Session,
    pub name: String,
    pub id_number: String,
    /// 学号, unique in the campaign.
    pub student_no: String,
}

impl Stack {
    /// Imports a roster of `n` new people into the campaign and has `verify`
    /// of them log in and verify, concurrently; the verified ones, then the others' lines.
    pub async fn roster_students(
        &self,
        setup: &SchoolSetup,
        n: usize,
        verify: usize,
    ) -> anyhow::Result<(Vec<Student>, Vec<(String, String)>)> {
        const FAMILY: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
        const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "婷"];
        let people: Vec<(String, String)> = (0..n)
            .map(|k| (format!("{}{}{}", FAMILY[k % 8], GIVEN[(k / 8) % 8], GIVEN[(k / 64) % 8]), id_number(unique())))
            .collect();
        let student_no = |k: usize| format!("2026{k:05}");
        let mut csv = String::from("\u{feff}姓名,身份证号,学号\n");
        for (k, (name, id)) in people.iter().enumerate() {
            csv.push_str(&format!("{name},{id},{}\n", student_no(k)));
        }
        let import = self.import_roster(&setup.admin, &setup.campaign_id, csv.into_bytes()).await?;
        if import.status != StatusCode::OK || import.body["report"]["errors"].as_array().is_some_and(|e| !e.is_empty())
        {
            bail!("import: {} {}", import.status, import.body);
        }
        let verified =
            futures::future::try_join_all(people[..verify].iter().enumerate().map(|(k, (name, id))| async move {
                let session = self.log_in(None).await?;
                let body = json!({"campaign_id": setup.campaign_id, "name": name, "id_number": id});
                let r = self.post("/v1/identity/verify", Some(&session), &body).await?;
                if r.status != StatusCode::OK {
                    bail!("verify: {} {}", r.status, r.body);
                }
                Ok(Student { session, name: name.clone(), id_number: id.clone(), student_no: student_no(k) })
            }))
            .await?;
        Ok((verified, people[verify..].to_vec()))
    }
}

/// The data the console's browser tests (and a person trying the console after `make demo`)
/// work on: two schools, each with an open campaign and photos waiting in review, and
/// one-time invitation links for each staff role.
pub mod seed {
    use super::*;

    /// `n` verified students of the campaign, each with a paid order whose photo is in review.
    async fn students_in_review(stack: &Stack, setup: &SchoolSetup, n: usize) -> anyhow::Result<Vec<Value>> {
        let (students, _) = stack.roster_students(setup, n, n).await?;
        let mut out = Vec::new();
        for s in &students {
            let no = stack.paid_order(&s.session, &setup.campaign_id).await?;
            stack.upload_photo(&s.session, &no, astronaut()).await?;
            let view = stack.submit_photo(&s.session, &no, 180).await?;
            out.push(json!({
                "token": s.session.token, "order_id": no, "name": s.name, "student_no": s.student_no,
                "transaction_id": view["order"]["transaction_id"],
            }));
        }
        Ok(out)
    }

    pub async fn console(stack: &Stack, in_review_a: usize) -> anyhow::Result<Value> {
        let operator = stack.bootstrap_operator().await?;
        let mut schools = serde_json::Map::new();
        let mut campaigns = serde_json::Map::new();
        let mut students = serde_json::Map::new();
        let mut setups = Vec::new();
        for (key, name, n) in [("a", "云照示范大学", in_review_a), ("b", "另一所大学", 1)] {
            let school_id = stack.create_school(&operator, name).await?;
            let admin = stack.school_admin(&operator, &school_id).await?;
            let campaign_id = stack.open_campaign(&admin, &school_id, "name_id_number").await?;
            let setup = SchoolSetup { operator: operator.clone(), admin, school_id, campaign_id };
            students.insert(key.into(), json!(students_in_review(stack, &setup, n).await?));
            schools.insert(key.into(), json!({"id": setup.school_id, "name": name}));
            campaigns.insert(key.into(), json!({"id": setup.campaign_id, "name": "2026 届毕业生图像采集"}));
            setups.push(setup);
        }
        let (a, b) = (&setups[0].school_id, &setups[1].school_id);
        let invitations = json!({
            "reviewer_a": stack.invite(&operator, &["reviewer"], &[a]).await?,
            "reviewer_a2": stack.invite(&operator, &["reviewer"], &[a]).await?,
            "reviewer_b": stack.invite(&operator, &["reviewer"], &[b]).await?,
            "school_admin_a": stack.invite(&operator, &["school_admin"], &[a]).await?,
            "customer_service": stack.invite(&operator, &["customer_service"], &[]).await?,
        });
        Ok(json!({
            "api": stack.api, "wechat": stack.wechat,
            "operator": {"unionid": stack.first_operator},
            "schools": schools, "campaigns": campaigns, "invitations": invitations, "students": students,
        }))
    }
}
