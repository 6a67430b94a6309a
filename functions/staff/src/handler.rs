//! The console's way in. `GET /v1/staff/sign-in` sends the browser to WeChat's QR page;
//! WeChat sends it back to `GET /v1/staff/sign-in/callback` with a code, which becomes a staff
//! session in an HttpOnly cookie. `GET·DELETE /v1/staff/session` show and end it. Operators
//! invite staff (`/v1/staff/invitations`) and manage members (`/v1/staff/members`).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use yunzhao_domain::staff::{
    self, Grant, GrantError, Invitation, InvitationToken, MemberChange, Secret, SignInContext, SignInError, SignedIn,
    StaffAccount, StaffDirectory, StaffStore, UnionId, WeChatWebLogin, WebCode,
};
use yunzhao_domain::{Role, UserId};
use yunzhao_http::staff::{self as cookies, SIGNIN_COOKIE};
use yunzhao_http::{
    ApiError, Code, Principal, StaffGate, json_response, parse_json, path_param, query_param, request_id, respond,
    route_key, unknown_route,
};

/// Where the browser goes and comes back.
pub struct Site {
    /// WeChat's open platform (`https://open.weixin.qq.com`; the fake locally).
    pub open_base: String,
    pub web_appid: String,
    /// The console's origin (`https://console.example.edu.cn`): the callback and the pages.
    pub origin: String,
    pub first_operator: Option<UnionId>,
}

pub struct Deps<W, S> {
    pub wechat: W,
    pub gate: StaffGate<S>,
    pub site: Site,
}

const MAX_LABEL_CHARS: usize = 40;

pub async fn handle<W, S>(deps: &Deps<W, S>, req: Request) -> Response<Body>
where
    W: WeChatWebLogin,
    S: StaffStore + StaffDirectory,
{
    let request_id = request_id(&req);
    let result = match route_key(&req).as_str() {
        "GET /v1/staff/sign-in" => Ok(start(deps, &req)),
        "GET /v1/staff/sign-in/callback" => Ok(callback(deps, &req).await),
        "GET /v1/staff/session" => show_session(deps, &req).await,
        "DELETE /v1/staff/session" => sign_out(deps, &req).await,
        route => operator_route(deps, &req, route).await,
    };
    respond(&request_id, result)
}

async fn operator_route<W, S>(deps: &Deps<W, S>, req: &Request, route: &str) -> Result<Response<Body>, ApiError>
where
    S: StaffStore + StaffDirectory,
{
    let p = deps.gate.authenticate(req).await?;
    p.require(Role::Operator)?;
    match route {
        "POST /v1/staff/invitations" => invite(deps, &p, req).await,
        "GET /v1/staff/invitations" => invitations(deps).await,
        "DELETE /v1/staff/invitations/{invitation_id}" => cancel_invitation(deps, &p, req).await,
        "GET /v1/staff/members" => members(deps).await,
        "PUT /v1/staff/members/{staff_id}" => update_member(deps, &p, req).await,
        "POST /v1/staff/members/{staff_id}/revoke" => revoke(deps, &p, req).await,
        _ => Err(unknown_route()),
    }
}

fn now_ms() -> i64 {
    yunzhao_adapters::now_ms()
}

fn redirect(location: &str, set_cookies: &[String]) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Back to the console's sign-in page, saying why.
fn back_with_error(site: &Site, code: &str) -> Response<Body> {
    redirect(&format!("{}/?signin_error={code}", site.origin), &[cookies::signin_cookie(None)])
}

/// Sends the browser to WeChat's QR page with a fresh `state` bound to this browser by a
/// cookie (and the invitation, if the link carried one).
fn start<W, S>(deps: &Deps<W, S>, req: &Request) -> Response<Body> {
    let site = &deps.site;
    let invitation = match query_param(req, "invitation").map(|t| InvitationToken::parse(&t)) {
        Some(Err(_)) => return back_with_error(site, "invitation_invalid"),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let state = Secret::random();
    let cookie_value = match &invitation {
        Some(t) => format!("{}.{}", state.as_str(), t.render()),
        None => state.as_str().to_owned(),
    };
    let callback = format!("{}/v1/staff/sign-in/callback", site.origin);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", &site.web_appid)
        .append_pair("redirect_uri", &callback)
        .append_pair("response_type", "code")
        .append_pair("scope", "snsapi_login")
        .append_pair("state", state.as_str())
        .finish();
    let location = format!("{}/connect/qrconnect?{query}#wechat_redirect", site.open_base);
    redirect(&location, &[cookies::signin_cookie(Some(&cookie_value))])
}

/// WeChat's redirect back: the state must be this browser's, the code becomes a session.
async fn callback<W, S>(deps: &Deps<W, S>, req: &Request) -> Response<Body>
where
    W: WeChatWebLogin,
    S: StaffStore,
{
    let site = &deps.site;
    let stored = cookies::cookie(req, SIGNIN_COOKIE).unwrap_or_default();
    let (state, invitation) = match stored.split_once('.') {
        Some((s, inv)) => (s.to_owned(), InvitationToken::parse(inv).ok()),
        None => (stored.clone(), None),
    };
    let returned = query_param(req, "state").unwrap_or_default();
    let state_ok = Secret::parse(&state).is_ok_and(|s| s.matches(&returned));
    if !state_ok {
        tracing::info!(outcome = "bad_state", "staff sign-in refused");
        return back_with_error(site, "invalid_signin_state");
    }
    // WeChat comes back without a code when the person declined on their phone.
    let Some(code) = query_param(req, "code") else { return back_with_error(site, "signin_cancelled") };
    let Some(code) = WebCode::parse(&code) else { return back_with_error(site, "invalid_signin_code") };
    let cx = SignInContext {
        invitation: invitation.as_ref(),
        first_operator: site.first_operator.as_ref(),
        policy: deps.gate.policy,
        now_ms: now_ms(),
    };
    let signed = staff::sign_in(&deps.wechat, &deps.gate.store, &code, cx).await;
    signed_in(deps, signed, invitation.is_some())
}

/// Into the console with the session cookie, or back to its sign-in page with why not.
fn signed_in<W, S>(deps: &Deps<W, S>, signed: Result<SignedIn, SignInError>, invited: bool) -> Response<Body> {
    match signed {
        Ok(signed) => {
            let a = &signed.account;
            tracing::info!(staff_id = %a.id, roles = ?a.roles, invited, outcome = "signed_in", "staff sign-in");
            let max_age = deps.gate.policy.lifetime.as_secs() as i64;
            redirect(
                &format!("{}/", deps.site.origin),
                &[cookies::session_cookie(Some(&signed.token), max_age), cookies::signin_cookie(None)],
            )
        }
        Err(e) => {
            let code = sign_in_error_code(&e);
            if matches!(e, SignInError::Misconfigured(_) | SignInError::NoUnionId | SignInError::Store(_)) {
                tracing::error!(error = %e, outcome = code, "staff sign-in failed");
            } else {
                tracing::info!(outcome = code, "staff sign-in refused");
            }
            back_with_error(&deps.site, code)
        }
    }
}

fn sign_in_error_code(e: &SignInError) -> &'static str {
    match e {
        SignInError::InvalidCode => "invalid_signin_code",
        SignInError::CodeUsed => "signin_code_used",
        SignInError::CodeExpired => "signin_code_expired",
        SignInError::InvitationInvalid => "invitation_invalid",
        SignInError::NotStaff => "not_staff",
        SignInError::Revoked => "staff_revoked",
        SignInError::AlreadyStaff => "already_staff",
        SignInError::Unavailable(_)
        | SignInError::Misconfigured(_)
        | SignInError::NoUnionId
        | SignInError::Store(_) => "wechat_unavailable",
    }
}

fn rfc3339(ms: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

fn member_view(a: &StaffAccount) -> Value {
    json!({
        "id": a.id, "name": a.name, "roles": a.roles, "school_ids": a.school_ids, "status": a.status,
        "created_at": rfc3339(a.created_at_ms), "last_sign_in_at": a.last_sign_in_at_ms.map(rfc3339),
    })
}

async fn show_session<W, S: StaffStore>(deps: &Deps<W, S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let (_, caller) = deps.gate.caller(req).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "staff": member_view(&caller.account),
            "csrf_token": caller.session.csrf_token,
            "expires_at": rfc3339(caller.session.expires_at_ms),
            "idle_timeout_seconds": deps.gate.policy.idle.as_secs(),
        }),
    ))
}

async fn sign_out<W, S: StaffStore>(deps: &Deps<W, S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let (p, _) = deps.gate.caller(req).await?;
    let token = cookies::cookie(req, cookies::SESSION_COOKIE).and_then(|t| Secret::parse(&t).ok());
    if let Some(token) = token {
        deps.gate.store.delete_session(&token).await.map_err(ApiError::store)?;
    }
    tracing::info!(staff_id = %p.user_id, outcome = "signed_out", "staff sign-out");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(v) = HeaderValue::from_str(&cookies::session_cookie(None, 0)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct GrantBody {
    roles: Vec<Role>,
    #[serde(default)]
    school_ids: Vec<String>,
    #[serde(default)]
    label: Option<String>,
}

fn grant_error(e: GrantError) -> ApiError {
    let zh = match e {
        GrantError::NoRole => "请至少选择一个员工角色。",
        GrantError::StudentRole => "学生不是员工角色。",
        GrantError::SchoolsRequired => "审核员和学校管理员需要指定所属学校。",
        GrantError::OneSchoolForAdmin => "学校管理员只能对应一所学校。",
        GrantError::SchoolsNotApplicable => "客服和运营人员可查看所有学校，无需指定学校。",
        GrantError::BadSchoolId => "学校编号格式不正确。",
    };
    ApiError::coded(Code::InvalidGrant, e.to_string(), zh)
}

async fn checked_grant<S: StaffDirectory>(
    store: &S,
    roles: Vec<Role>,
    schools: Vec<String>,
) -> Result<Grant, ApiError> {
    let grant = Grant::new(roles, schools).map_err(grant_error)?;
    let unknown = store.unknown_schools(&grant.school_ids).await.map_err(ApiError::store)?;
    if !unknown.is_empty() {
        return Err(ApiError::coded(
            Code::SchoolNotFound,
            format!("No such school: {}.", unknown.join(", ")),
            format!("学校不存在：{}。", unknown.join("、")),
        ));
    }
    Ok(grant)
}

fn invitation_view(i: &Invitation, now: i64) -> Value {
    json!({
        "id": i.id, "roles": i.grant.roles, "school_ids": i.grant.school_ids, "label": i.label,
        "invited_by": i.invited_by, "created_at": rfc3339(i.created_at_ms), "expires_at": rfc3339(i.expires_at_ms),
        "status": i.status(now), "used_by": i.used_by, "used_at": i.used_at_ms.map(rfc3339),
    })
}

async fn invite<W, S: StaffDirectory>(
    deps: &Deps<W, S>,
    p: &Principal,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body: GrantBody = parse_json(req)?;
    let label = body.label.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(ApiError::invalid_request("The label is limited to 40 characters.", "备注名最多 40 个字符。"));
    }
    let grant = checked_grant(&deps.gate.store, body.roles, body.school_ids).await?;
    let now = now_ms();
    let invitation = Invitation::new(grant, label, p.user_id.clone(), now);
    let secret = Secret::random();
    deps.gate.store.put_invitation(&invitation, &secret).await.map_err(ApiError::store)?;
    let token = InvitationToken { id: invitation.id.clone(), secret };
    let link = format!("{}/v1/staff/sign-in?invitation={}", deps.site.origin, token.render());
    tracing::info!(invitation_id = invitation.id, roles = ?invitation.grant.roles, by = %p.user_id, "staff invited");
    let mut view = invitation_view(&invitation, now);
    view["link"] = json!(link);
    Ok(json_response(StatusCode::CREATED, &json!({ "invitation": view })))
}

async fn invitations<W, S: StaffDirectory>(deps: &Deps<W, S>) -> Result<Response<Body>, ApiError> {
    let now = now_ms();
    let all = deps.gate.store.invitations().await.map_err(ApiError::store)?;
    let views: Vec<Value> = all.iter().map(|i| invitation_view(i, now)).collect();
    Ok(json_response(StatusCode::OK, &json!({ "invitations": views })))
}

async fn cancel_invitation<W, S: StaffDirectory>(
    deps: &Deps<W, S>,
    p: &Principal,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let id = path_param(req, "invitation_id")?;
    if !deps.gate.store.cancel_invitation(&id, now_ms()).await.map_err(ApiError::store)? {
        return Err(ApiError::from(Code::InvitationNotPending));
    }
    tracing::info!(invitation_id = id, by = %p.user_id, "invitation cancelled");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

async fn members<W, S: StaffDirectory>(deps: &Deps<W, S>) -> Result<Response<Body>, ApiError> {
    let all = deps.gate.store.members().await.map_err(ApiError::store)?;
    let views: Vec<Value> = all.iter().map(member_view).collect();
    Ok(json_response(StatusCode::OK, &json!({ "members": views })))
}

fn member_not_found() -> ApiError {
    ApiError::from(Code::StaffNotFound)
}

async fn member<S: StaffStore>(store: &S, req: &Request) -> Result<StaffAccount, ApiError> {
    let id = UserId::parse(&path_param(req, "staff_id")?).map_err(|_| member_not_found())?;
    store.get(&id).await.map_err(ApiError::store)?.ok_or_else(member_not_found)
}

async fn update_member<W, S>(deps: &Deps<W, S>, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError>
where
    S: StaffStore + StaffDirectory,
{
    let existing = member(&deps.gate.store, req).await?;
    let body: GrantBody = parse_json(req)?;
    let grant = checked_grant(&deps.gate.store, body.roles, body.school_ids).await?;
    if existing.id == p.user_id && !grant.roles.contains(&Role::Operator) {
        return Err(cannot_demote_self());
    }
    let updated = deps
        .gate
        .store
        .update_member(&existing.id, &MemberChange::Grant(grant))
        .await
        .map_err(ApiError::store)?
        .ok_or_else(member_not_found)?;
    tracing::info!(staff_id = %updated.id, roles = ?updated.roles, by = %p.user_id, "staff grant changed");
    Ok(json_response(StatusCode::OK, &json!({ "member": member_view(&updated) })))
}

fn cannot_demote_self() -> ApiError {
    ApiError::from(Code::CannotChangeOwnOperatorRole)
}

async fn revoke<W, S>(deps: &Deps<W, S>, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError>
where
    S: StaffStore + StaffDirectory,
{
    let existing = member(&deps.gate.store, req).await?;
    if existing.id == p.user_id {
        return Err(cannot_demote_self());
    }
    let updated = deps
        .gate
        .store
        .update_member(&existing.id, &MemberChange::Revoke { at_ms: now_ms() })
        .await
        .map_err(ApiError::store)?
        .ok_or_else(member_not_found)?;
    tracing::info!(staff_id = %updated.id, by = %p.user_id, "staff revoked");
    Ok(json_response(StatusCode::OK, &json!({ "member": member_view(&updated) })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use yunzhao_domain::staff::WebIdentity;
    use yunzhao_domain::staff::memory::{MemoryStaff, policy_for_tests};

    /// WeChat's website login as the tests script it: each code answers once.
    struct FakeWeb(Mutex<HashMap<String, String>>);

    impl WeChatWebLogin for FakeWeb {
        async fn exchange(&self, code: &WebCode) -> Result<WebIdentity, SignInError> {
            let unionid = self.0.lock().expect("lock").remove(code.as_str()).ok_or(SignInError::CodeUsed)?;
            Ok(WebIdentity {
                openid: "oWeb0001".into(),
                unionid: Some(UnionId::parse(&unionid).expect("unionid")),
                nickname: String::new(),
            })
        }
    }

    fn deps(codes: &[(&str, &str)]) -> Deps<FakeWeb, MemoryStaff> {
        let store = MemoryStaff { schools: vec!["s_a".into()], ..MemoryStaff::default() };
        Deps {
            wechat: FakeWeb(Mutex::new(codes.iter().map(|(c, u)| ((*c).to_owned(), (*u).to_owned())).collect())),
            gate: StaffGate::new(store, policy_for_tests()),
            site: Site {
                open_base: "https://open.example".into(),
                web_appid: "wxweb".into(),
                origin: "https://console.example".into(),
                first_operator: Some(UnionId::parse("first_operator").expect("unionid")),
            },
        }
    }

    struct Call<'a> {
        route: &'a str,
        query: &'a [(&'a str, &'a str)],
        path: &'a [(&'a str, &'a str)],
        cookies: Vec<String>,
        csrf: Option<String>,
        body: Option<Value>,
    }

    impl<'a> Call<'a> {
        fn new(route: &'a str) -> Self {
            Self { route, query: &[], path: &[], cookies: vec![], csrf: None, body: None }
        }
    }

    fn request(c: Call<'_>) -> Request {
        let (method, path) = c.route.split_once(' ').expect("route key");
        let mut b = lambda_http::http::Request::builder().method(method).uri(path);
        if !c.cookies.is_empty() {
            b = b.header("cookie", c.cookies.join("; "));
        }
        if let Some(t) = &c.csrf {
            b = b.header("x-csrf-token", t);
        }
        let body = c.body.map_or(Body::Empty, |v| Body::from(v.to_string()));
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.route_key = Some(c.route.to_owned());
        let to_map = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        b.body(body)
            .expect("request")
            .with_request_context(RequestContext::ApiGatewayV2(ctx))
            .with_query_string_parameters(to_map(c.query))
            .with_path_parameters(to_map(c.path))
    }

    fn set_cookies(r: &Response<Body>) -> Vec<String> {
        r.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }

    /// The `name=value` part of the Set-Cookie for `name`.
    fn cookie_pair(r: &Response<Body>, name: &str) -> String {
        set_cookies(r)
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .unwrap_or_default()
    }

    fn location(r: &Response<Body>) -> String {
        r.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    fn json_of(r: &Response<Body>) -> Value {
        serde_json::from_slice(r.body().as_ref()).unwrap_or(Value::Null)
    }

    /// The whole QR round trip for `code` (optionally through an invitation link's token);
    /// the callback's response.
    async fn sign_in_with(d: &Deps<FakeWeb, MemoryStaff>, code: &str, invitation: Option<&str>) -> Response<Body> {
        let q: Vec<(&str, &str)> = invitation.map(|i| vec![("invitation", i)]).unwrap_or_default();
        let start = handle(d, request(Call { query: &q, ..Call::new("GET /v1/staff/sign-in") })).await;
        assert_eq!(start.status(), StatusCode::FOUND);
        let to = location(&start);
        assert!(to.starts_with("https://open.example/connect/qrconnect?appid=wxweb&"), "{to}");
        assert!(to.contains("scope=snsapi_login") && to.ends_with("#wechat_redirect"), "{to}");
        let state = to.split("state=").nth(1).and_then(|s| s.split('#').next()).expect("state").to_owned();
        let q = [("code", code), ("state", state.as_str())];
        let back = Call {
            query: &q,
            cookies: vec![cookie_pair(&start, SIGNIN_COOKIE)],
            ..Call::new("GET /v1/staff/sign-in/callback")
        };
        handle(d, request(back)).await
    }

    async fn session_of(d: &Deps<FakeWeb, MemoryStaff>, callback: &Response<Body>) -> (String, Value) {
        let cookie = cookie_pair(callback, cookies::SESSION_COOKIE);
        let r = handle(d, request(Call { cookies: vec![cookie.clone()], ..Call::new("GET /v1/staff/session") })).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", json_of(&r));
        (cookie, json_of(&r))
    }

    #[tokio::test]
    async fn the_first_operator_signs_in_by_qr_and_gets_an_http_only_session() {
        let d = deps(&[("c1", "first_operator")]);
        let back = sign_in_with(&d, "c1", None).await;
        assert_eq!((back.status(), location(&back)), (StatusCode::FOUND, "https://console.example/".to_owned()));
        assert!(set_cookies(&back).iter().any(|c| c.starts_with("__Host-yz_staff=") && c.contains("HttpOnly")));
        let (_, session) = session_of(&d, &back).await;
        assert_eq!(session["staff"]["roles"], json!(["operator"]));
        assert!(session["csrf_token"].as_str().is_some_and(|t| t.len() == 64));
    }

    #[tokio::test]
    async fn a_callback_whose_state_is_not_this_browsers_is_refused() {
        let d = deps(&[("c1", "first_operator")]);
        let forged = "0".repeat(64);
        let q = [("code", "c1"), ("state", forged.as_str())];
        let r = handle(&d, request(Call { query: &q, ..Call::new("GET /v1/staff/sign-in/callback") })).await;
        assert_eq!(location(&r), "https://console.example/?signin_error=invalid_signin_state");
        assert!(d.gate.store.sessions.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn a_stranger_is_told_they_are_not_staff() {
        let d = deps(&[("c1", "somebody_else")]);
        let back = sign_in_with(&d, "c1", None).await;
        assert_eq!(location(&back), "https://console.example/?signin_error=not_staff");
    }

    #[tokio::test]
    async fn an_operator_invites_a_reviewer_whose_sign_in_gets_the_school_and_uses_the_link_up() {
        let d = deps(&[("c1", "first_operator"), ("c2", "new_reviewer"), ("c3", "late_comer")]);
        let (op, session) = session_of(&d, &sign_in_with(&d, "c1", None).await).await;
        let csrf = session["csrf_token"].as_str().map(str::to_owned);
        let body = json!({"roles": ["reviewer"], "school_ids": ["s_a"], "label": "王老师"});
        let call =
            Call { cookies: vec![op.clone()], csrf, body: Some(body), ..Call::new("POST /v1/staff/invitations") };
        let created = handle(&d, request(call)).await;
        assert_eq!(created.status(), StatusCode::CREATED, "{}", json_of(&created));
        let link = json_of(&created)["invitation"]["link"].as_str().expect("link").to_owned();
        let token = link.split("invitation=").nth(1).expect("token").to_owned();

        let (_, reviewer) = session_of(&d, &sign_in_with(&d, "c2", Some(&token)).await).await;
        assert_eq!(
            (reviewer["staff"]["roles"].clone(), reviewer["staff"]["school_ids"].clone()),
            (json!(["reviewer"]), json!(["s_a"]))
        );
        let again = sign_in_with(&d, "c3", Some(&token)).await;
        assert_eq!(location(&again), "https://console.example/?signin_error=invitation_invalid");
    }

    #[tokio::test]
    async fn invitations_need_the_csrf_token_and_valid_schools() {
        let d = deps(&[("c1", "first_operator")]);
        let (op, session) = session_of(&d, &sign_in_with(&d, "c1", None).await).await;
        let body = json!({"roles": ["reviewer"], "school_ids": ["s_a"]});
        let no_csrf = Call { cookies: vec![op.clone()], body: Some(body), ..Call::new("POST /v1/staff/invitations") };
        let r = handle(&d, request(no_csrf)).await;
        assert_eq!((r.status(), json_of(&r)["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("csrf_failed")));
        let csrf = session["csrf_token"].as_str().map(str::to_owned);
        let body = json!({"roles": ["reviewer"], "school_ids": ["s_nowhere"]});
        let bad = Call { cookies: vec![op], csrf, body: Some(body), ..Call::new("POST /v1/staff/invitations") };
        assert_eq!(json_of(&handle(&d, request(bad)).await)["error"]["code"], "school_not_found");
    }

    #[tokio::test]
    async fn a_revoked_member_is_refused_at_their_next_request_and_sign_out_ends_a_session() {
        let d = deps(&[("c1", "first_operator"), ("c2", "new_reviewer")]);
        let (op, session) = session_of(&d, &sign_in_with(&d, "c1", None).await).await;
        let csrf = session["csrf_token"].as_str().map(str::to_owned);
        let body = json!({"roles": ["reviewer"], "school_ids": ["s_a"]});
        let call = Call {
            cookies: vec![op.clone()],
            csrf: csrf.clone(),
            body: Some(body),
            ..Call::new("POST /v1/staff/invitations")
        };
        let link = json_of(&handle(&d, request(call)).await)["invitation"]["link"].as_str().expect("link").to_owned();
        let token = link.split("invitation=").nth(1).expect("token").to_owned();
        let (reviewer, r_session) = session_of(&d, &sign_in_with(&d, "c2", Some(&token)).await).await;
        let id = r_session["staff"]["id"].as_str().expect("id").to_owned();

        let path = [("staff_id", id.as_str())];
        let revoke = Call {
            path: &path,
            cookies: vec![op.clone()],
            csrf: csrf.clone(),
            ..Call::new("POST /v1/staff/members/{staff_id}/revoke")
        };
        assert_eq!(json_of(&handle(&d, request(revoke)).await)["member"]["status"], "revoked");
        let r = handle(&d, request(Call { cookies: vec![reviewer], ..Call::new("GET /v1/staff/session") })).await;
        assert_eq!(
            (r.status(), json_of(&r)["error"]["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("session_revoked"))
        );

        let out = Call { cookies: vec![op.clone()], csrf, ..Call::new("DELETE /v1/staff/session") };
        assert_eq!(handle(&d, request(out)).await.status(), StatusCode::NO_CONTENT);
        let r = handle(&d, request(Call { cookies: vec![op], ..Call::new("GET /v1/staff/session") })).await;
        assert_eq!(json_of(&r)["error"]["code"], "not_signed_in");
    }

    #[tokio::test]
    async fn students_and_other_staff_cannot_manage_staff() {
        let d = deps(&[]);
        let r = handle(&d, request(Call::new("GET /v1/staff/members"))).await;
        assert_eq!(
            (r.status(), json_of(&r)["error"]["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("not_signed_in"))
        );
        let bearer = lambda_http::http::Request::builder()
            .method("GET")
            .uri("/v1/staff/members")
            .header("authorization", "Bearer x");
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.route_key = Some("GET /v1/staff/members".into());
        let req = bearer.body(Body::Empty).expect("request").with_request_context(RequestContext::ApiGatewayV2(ctx));
        assert_eq!(json_of(&handle(&d, req).await)["error"]["code"], "not_signed_in");
    }
}
