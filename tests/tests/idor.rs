//! The IDOR matrix (security issue #12, "keep proving it"): every operation `infra/openapi.yaml`
//! documents × every kind of caller, each probe pointed at *another party's* resources: another
//! student's order, another school's campaign, review task, export and roster import. Who may
//! call an operation is read from the spec (`security` and `x-roles`), so a new route is in the
//! matrix the day it is documented, and a route that does not say who may call it fails here.
//!
//! What each probe must answer (and nothing, anywhere, is a 5xx):
//! - the wrong credential for the route (none; a student's token on a staff route; a staff
//!   session on a student route): 401;
//! - a staff role the operation is not for: 403;
//! - a role it is for, scoped to school A (reviewer, school admin) or to oneself (a student):
//!   another party's resource in the path is 404; school A's campaign with another school's
//!   task, export or import under it is 404 or 409; another party's id in the query or body
//!   only is a 4xx; what does succeed (the caller's own data) names none of the other party's ids;
//! - customer service and operators, who serve every school, on what they are for: neither
//!   401 nor 403;
//! - public operations: anything but a 5xx.
//!
//! The refusals run first; then the other party's orders, campaign, queues, bindings and staff
//! are checked unchanged; the callers who serve every school come last (they may change them).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use yunzhao_e2e::{Reply, SchoolSetup, Session, Stack, astronaut, id_number, unique, unique_source};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/openapi.yaml");
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];
const STAFF_ROLES: [&str; 4] = ["reviewer", "school_admin", "customer_service", "operator"];

/// The credential an operation takes (its `security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Public,
    /// The mini-program's bearer token (`session`).
    Student,
    /// The console's cookie session (`staffSession`).
    Staff,
}

struct Param {
    name: String,
    /// `path`, `query` or `header`.
    location: String,
    required: bool,
    schema: Value,
}

struct Operation {
    method: Method,
    path: String,
    scheme: Scheme,
    /// Its `x-roles`: who may call it.
    roles: Vec<String>,
    params: Vec<Param>,
    /// The JSON schema of its request body.
    body: Option<Value>,
}

impl Operation {
    fn path_params(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.location == "path")
    }
}

static NULL: Value = Value::Null;

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec, spec.pointer(r.trim_start_matches('#')).unwrap_or(&NULL)),
        None => v,
    }
}

/// Every operation of the spec, or what is wrong with the way they say who may call them.
fn operations(spec: &Value) -> Result<Vec<Operation>, Vec<String>> {
    let (mut ops, mut problems) = (Vec::new(), Vec::new());
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        let shared = item["parameters"].as_array().into_iter().flatten();
        for (method, op) in item.as_object().into_iter().flatten().filter(|(m, _)| METHODS.contains(&m.as_str())) {
            let key = format!("{} {path}", method.to_uppercase());
            let security = op.get("security").unwrap_or(&spec["security"]);
            let schemes: Vec<&str> = security
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|requirement| requirement.keys().map(String::as_str))
                .collect();
            let scheme = match schemes.as_slice() {
                [] => Scheme::Public,
                ["session"] => Scheme::Student,
                ["staffSession"] => Scheme::Staff,
                other => {
                    problems.push(format!("{key}: security {other:?} is neither none, `session` nor `staffSession`"));
                    continue;
                }
            };
            let Some(roles) = op.get("x-roles").and_then(Value::as_array) else {
                problems.push(format!(
                    "{key} has no `x-roles`: a new route must say who may call it ([] public, [student], \
                     or some of {STAFF_ROLES:?})"
                ));
                continue;
            };
            let roles: Vec<String> = roles.iter().filter_map(Value::as_str).map(str::to_owned).collect();
            let fits = match scheme {
                Scheme::Public => roles.is_empty(),
                Scheme::Student => roles == ["student"],
                // Operators may do everything staff can.
                Scheme::Staff => {
                    roles.iter().any(|r| r == "operator") && roles.iter().all(|r| STAFF_ROLES.contains(&r.as_str()))
                }
            };
            if !fits {
                problems.push(format!(
                    "{key}: x-roles {roles:?} do not fit its security ({scheme:?}): public routes take [], \
                     student routes [student], staff routes operator and any others of {STAFF_ROLES:?}"
                ));
                continue;
            }
            let params = shared
                .clone()
                .chain(op["parameters"].as_array().into_iter().flatten())
                .map(|p| resolve(spec, p))
                .map(|p| Param {
                    name: p["name"].as_str().unwrap_or_default().to_owned(),
                    location: p["in"].as_str().unwrap_or_default().to_owned(),
                    required: p["required"].as_bool().unwrap_or(false),
                    schema: p["schema"].clone(),
                })
                .collect();
            let body = op
                .get("requestBody")
                .map(|b| resolve(spec, resolve(spec, b)["content"]["application/json"].get("schema").unwrap_or(&NULL)))
                .filter(|s| !s.is_null())
                .cloned();
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            ops.push(Operation { method, path: path.clone(), scheme, roles, params, body });
        }
    }
    if problems.is_empty() { Ok(ops) } else { Err(problems) }
}

/// The ids a caller's probes are filled with, by the name of the parameter or body field
/// (`school_ids` is the school's id in a list).
#[derive(Clone, Default)]
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn of(pairs: &[(&'static str, &str)]) -> Self {
        Self(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    fn with(&self, pairs: &[(&'static str, &str)]) -> Self {
        let mut out = self.clone();
        out.0.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
        out
    }

    fn value(&self, name: &str) -> Option<Value> {
        match name {
            "school_ids" => self.0.get("school_id").map(|s| json!([s])),
            _ => self.0.get(name).map(|s| json!(s)),
        }
    }

    fn values(&self) -> impl Iterator<Item = &String> {
        self.0.values()
    }
}

/// A minimal valid value for a schema: required properties (and any property that names a
/// resource, filled with `ids`), the example, the first of an enum, the least number allowed.
fn example(spec: &Value, schema: &Value, name: Option<&str>, ids: &Ids) -> Value {
    if let Some(v) = name.and_then(|n| ids.value(n)) {
        return v;
    }
    let schema = resolve(spec, schema);
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(o) = example(spec, part, None, ids) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    if let Some(properties) = schema["properties"].as_object() {
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut out = Map::new();
        for (k, s) in properties {
            if required.contains(&k.as_str()) || ids.value(k).is_some() {
                out.insert(k.clone(), example(spec, s, Some(k), ids));
            }
        }
        return Value::Object(out);
    }
    match schema["type"].as_str() {
        Some("object") => json!({}),
        Some("array") if schema["minItems"].as_u64().unwrap_or(0) > 0 => {
            json!([example(spec, &schema["items"], None, ids)])
        }
        Some("array") => json!([]),
        Some("integer" | "number") => json!(schema["minimum"].as_i64().unwrap_or(1)),
        Some("boolean") => json!(false),
        _ if name == Some("id_number") => json!(id_number(unique())),
        _ => json!("测试"),
    }
}

/// What a probe must be answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 401: the wrong credential for the route.
    Unauthorized,
    /// 403: a role the operation is not for.
    Forbidden,
    /// 404: another party's resource in the path.
    NotFound,
    /// 404 or 409: the caller's own campaign with another party's task, export or import under it.
    NotYours,
    /// A 4xx: another party's id in the query or the body.
    Refused,
    /// The caller's own data: neither 401 nor 403, and none of another party's ids.
    Own,
    /// A caller who serves every school, on what it is for: neither 401 nor 403.
    Served,
    /// A public operation: anything but a 5xx.
    Public,
}

impl Expect {
    fn holds(self, status: StatusCode) -> bool {
        let s = status.as_u16();
        s < 500
            && match self {
                Expect::Unauthorized => s == 401,
                Expect::Forbidden => s == 403,
                Expect::NotFound => s == 404,
                Expect::NotYours => s == 404 || s == 409,
                Expect::Refused => (400..500).contains(&s) && s != 401,
                Expect::Own | Expect::Served => s != 401 && s != 403,
                Expect::Public => true,
            }
    }

    fn refusal(self) -> bool {
        matches!(self, Expect::Unauthorized | Expect::Forbidden | Expect::NotFound | Expect::NotYours | Expect::Refused)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Student,
    Staff,
}

struct Caller {
    name: &'static str,
    kind: Kind,
    roles: &'static [&'static str],
    session: Option<Session>,
    /// Another party's resources: what the probes are filled with.
    theirs: Ids,
    /// The caller's own, for the first parameter of a nested path.
    own: Ids,
    /// Ids that must never be in an answer that succeeds (unless the caller serves every school).
    secrets: Vec<String>,
}

impl Caller {
    fn serves_all_schools(&self) -> bool {
        self.roles.iter().any(|r| *r == "operator" || *r == "customer_service")
    }

    fn expect(&self, op: &Operation, names_theirs: bool) -> Expect {
        match (op.scheme, self.kind) {
            (Scheme::Public, _) => Expect::Public,
            (Scheme::Student, Kind::Student) | (Scheme::Staff, Kind::Staff) => {
                if !self.roles.iter().any(|r| op.roles.iter().any(|o| o == r)) {
                    Expect::Forbidden
                } else if self.serves_all_schools() {
                    Expect::Served
                } else if op.path_params().next().is_some() {
                    Expect::NotFound
                } else if names_theirs {
                    Expect::Refused
                } else {
                    Expect::Own
                }
            }
            _ => Expect::Unauthorized,
        }
    }
}

struct Probe {
    op: usize,
    caller: usize,
    url: String,
    body: Option<Value>,
    expect: Expect,
}

/// The operation's URL and body filled from `ids` (the first path parameter from `first`
/// when given), and whether its query or body names one of those ids.
fn request(
    spec: &Value,
    op: &Operation,
    ids: &Ids,
    first: Option<&Ids>,
    made_up: &mut BTreeSet<String>,
) -> (String, Option<Value>, bool) {
    let mut url = op.path.clone();
    for (i, p) in op.path_params().enumerate() {
        let from = if i == 0 { first.unwrap_or(ids) } else { ids };
        let value = match from.value(&p.name).as_ref().and_then(Value::as_str) {
            Some(v) => v.to_owned(),
            None => {
                made_up.insert(p.name.clone());
                format!("x{:031}", unique())
            }
        };
        url = url.replace(&format!("{{{}}}", p.name), &value);
    }
    let mut names_theirs = false;
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for p in op.params.iter().filter(|p| p.location == "query") {
        let known = ids.value(&p.name).is_some();
        if known || p.required {
            names_theirs |= known;
            let v = example(spec, &p.schema, Some(&p.name), ids);
            query.append_pair(&p.name, v.as_str().map_or_else(|| v.to_string(), str::to_owned).as_str());
            any = true;
        }
    }
    if any {
        url = format!("{url}?{}", query.finish());
    }
    let body = match &op.body {
        Some(schema) => {
            let b = example(spec, schema, None, ids);
            names_theirs |= b.as_object().is_some_and(|o| o.keys().any(|k| ids.value(k).is_some()));
            Some(b)
        }
        None if op.method == Method::GET => None,
        None => Some(json!({})),
    };
    (url, body, names_theirs)
}

/// Two schools with their staff and students, built for this test alone.
struct World {
    a: SchoolSetup,
    b: SchoolSetup,
    operator: Session,
    reviewer_a: Session,
    reviewer_b: Session,
    service: Session,
    /// A staff member of school B that the member routes aim at (operators may change them).
    member: Session,
    invitation_id: String,
    a1: Session,
    a2: Session,
    b1: Session,
    order_a1: String,
    order_a2: String,
    order_b1: String,
    task_a1: String,
    task_b1: String,
    export_b: String,
    import_b: String,
}

async fn in_review(stack: &Stack, student: &Session, campaign_id: &str) -> anyhow::Result<String> {
    let no = stack.paid_order(student, campaign_id).await?;
    stack.upload_photo(student, &no, astronaut()).await?;
    stack.submit_photo(student, &no, 180).await?;
    Ok(no)
}

async fn task_of(stack: &Stack, order: &str) -> anyhow::Result<String> {
    let item = stack.item(&format!("ORDER#{order}"), "ORDER").await?.context("order item")?;
    Ok(item["review_task_id"].as_str().context("review task")?.to_owned())
}

async fn world(stack: &Stack) -> anyhow::Result<World> {
    let (a, b) =
        tokio::try_join!(stack.school_with_campaign("name_id_number"), stack.school_with_campaign("name_id_number"))?;
    let boot = &a.operator;
    let operator = stack.staff(boot, &["operator"], &[]).await?;
    let reviewer_a = stack.staff(boot, &["reviewer"], &[&a.school_id]).await?;
    let reviewer_b = stack.staff(boot, &["reviewer"], &[&b.school_id]).await?;
    let service = stack.staff(boot, &["customer_service"], &[]).await?;
    let member = stack.staff(boot, &["reviewer"], &[&b.school_id]).await?;
    let body = json!({"roles": ["reviewer"], "school_ids": [b.school_id], "label": "IDOR"});
    let invited = stack.post("/v1/staff/invitations", Some(boot), &body).await?;
    let invitation_id = invited.body["invitation"]["id"].as_str().context("invitation id")?.to_owned();
    let a1 = stack.verified_student(&a).await?;
    let a2 = stack.verified_student(&a).await?;
    let b1 = stack.verified_student(&b).await?;
    let roster = format!("\u{feff}姓名,身份证号\n李四,{}\n", id_number(unique()));
    let import = stack.import_roster(&b.admin, &b.campaign_id, roster.into_bytes()).await?;
    let import_b = import.body["import_id"].as_str().with_context(|| format!("import: {}", import.body))?.to_owned();
    let (order_a1, order_b1) =
        tokio::try_join!(in_review(stack, &a1, &a.campaign_id), in_review(stack, &b1, &b.campaign_id))?;
    let created = stack.post("/v1/orders", Some(&a2), &json!({"campaign_id": a.campaign_id})).await?;
    let order_a2 = created.body["order"]["order_id"].as_str().with_context(|| format!("order: {}", created.body))?;
    let exported =
        stack.post(&format!("/v1/admin/campaigns/{}/exports", b.campaign_id), Some(&b.admin), &json!({})).await?;
    let export_b =
        exported.body["export"]["export_id"].as_str().with_context(|| format!("export: {}", exported.body))?;
    Ok(World {
        task_a1: task_of(stack, &order_a1).await?,
        task_b1: task_of(stack, &order_b1).await?,
        order_a2: order_a2.to_owned(),
        export_b: export_b.to_owned(),
        a,
        b,
        operator,
        reviewer_a,
        reviewer_b,
        service,
        member,
        invitation_id,
        a1,
        a2,
        b1,
        order_a1,
        order_b1,
        import_b,
    })
}

/// The six kinds of caller, each pointed at another party's resources.
fn callers(w: &World) -> Vec<Caller> {
    let school_b = Ids::of(&[
        ("campaign_id", &w.b.campaign_id),
        ("school_id", &w.b.school_id),
        ("order_id", &w.order_b1),
        ("user_id", &w.b1.user_id),
        ("task_id", &w.task_b1),
        ("export_id", &w.export_b),
        ("import_id", &w.import_b),
        ("invitation_id", &w.invitation_id),
        ("staff_id", &w.member.user_id),
    ]);
    let other_student =
        school_b.with(&[("order_id", &w.order_a1), ("user_id", &w.a1.user_id), ("task_id", &w.task_a1)]);
    let own_a = Ids::of(&[("campaign_id", &w.a.campaign_id), ("school_id", &w.a.school_id)]);
    let own_student = own_a.with(&[("order_id", &w.order_a2), ("user_id", &w.a2.user_id)]);
    let b_secrets: Vec<String> = school_b.values().cloned().collect();
    let student_secrets: Vec<String> = b_secrets.iter().chain(other_student.values()).cloned().collect();
    let everything: Vec<String> = student_secrets.iter().chain(own_student.values()).cloned().collect();
    let staff = |name: &'static str, roles: &'static [&'static str], session: &Session| Caller {
        name,
        kind: Kind::Staff,
        roles,
        session: Some(session.clone()),
        theirs: school_b.clone(),
        own: own_a.clone(),
        secrets: b_secrets.clone(),
    };
    vec![
        Caller {
            name: "anonymous",
            kind: Kind::Anonymous,
            roles: &[],
            session: None,
            theirs: school_b.clone(),
            own: Ids::default(),
            secrets: everything,
        },
        Caller {
            name: "student of A",
            kind: Kind::Student,
            roles: &["student"],
            session: Some(w.a2.clone()),
            theirs: other_student,
            own: own_student,
            secrets: student_secrets,
        },
        staff("reviewer of A", &["reviewer"], &w.reviewer_a),
        staff("school admin of A", &["school_admin"], &w.a.admin),
        staff("customer service", &["customer_service"], &w.service),
        staff("operator", &["operator"], &w.operator),
    ]
}

/// What the other parties hold: their orders, school B's campaign, both review queues, the
/// students' bindings, the staff member and the invitation.
async fn snapshot(stack: &Stack, w: &World) -> anyhow::Result<BTreeMap<&'static str, Value>> {
    let boot = &w.a.operator;
    let queue = |r: Reply| json!([r.status.as_u16(), r.body["waiting"], r.body["claimed"], r.body["oldest_queued_at"]]);
    let campaign_b = stack.get(&format!("/v1/admin/campaigns/{}", w.b.campaign_id), Some(&w.b.admin)).await?;
    let queue_a = stack.get(&format!("/v1/review/campaigns/{}/queue", w.a.campaign_id), Some(boot)).await?;
    let queue_b = stack.get(&format!("/v1/review/campaigns/{}/queue", w.b.campaign_id), Some(&w.reviewer_b)).await?;
    let members = stack.get("/v1/staff/members", Some(boot)).await?;
    let member = members.body["members"].as_array().into_iter().flatten().find(|m| m["id"] == w.member.user_id);
    let invitations = stack.get("/v1/staff/invitations", Some(boot)).await?;
    let invitation =
        invitations.body["invitations"].as_array().into_iter().flatten().find(|i| i["id"] == w.invitation_id);
    let mut out = BTreeMap::new();
    for (key, no) in [("order of B", &w.order_b1), ("order of the other student", &w.order_a1)] {
        let history = stack.order_items(no, "HIST#").await?.len();
        out.insert(key, json!({"state": stack.stored_order_state(no).await?, "transitions": history}));
    }
    out.insert("campaign of B", json!([campaign_b.status.as_u16(), campaign_b.body]));
    out.insert("review queue of A", queue(queue_a));
    out.insert("review queue of B", queue(queue_b));
    out.insert("campaigns of the other student", stack.get("/v1/campaigns", Some(&w.a1)).await?.body);
    out.insert("campaigns of B's student", stack.get("/v1/campaigns", Some(&w.b1)).await?.body);
    out.insert("staff member", member.map_or(Value::Null, |m| json!([m["roles"], m["school_ids"], m["status"]])));
    out.insert("invitation", invitation.map_or(Value::Null, |i| i["status"].clone()));
    Ok(out)
}

fn short(body: &Value) -> String {
    let text = body.to_string();
    if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text }
}

/// The figures of a run.
#[derive(Default)]
struct Tally {
    probes: usize,
    signed_in_again: usize,
    refusals: BTreeMap<u16, usize>,
    answers: BTreeMap<u16, usize>,
}

fn by_status(counts: &BTreeMap<u16, usize>) -> String {
    counts.iter().map(|(s, n)| format!("{s} × {n}")).collect::<Vec<_>>().join(", ")
}

/// Sends one probe and says what is wrong with its answer, if anything. A staff caller whose
/// session the probe ended (signing out) signs in again.
async fn send(
    stack: &Stack,
    ops: &[Operation],
    callers: &mut [Caller],
    p: &Probe,
    tally: &mut Tally,
) -> Option<String> {
    let (op, caller) = (&ops[p.op], &callers[p.caller]);
    let reply = match stack.call(op.method.clone(), &p.url, caller.session.as_ref(), p.body.as_ref()).await {
        Ok(r) => r,
        Err(e) => return Some(format!("{} {} × {}: no answer: {e:#}", op.method, p.url, caller.name)),
    };
    tally.probes += 1;
    let status = reply.status.as_u16();
    *(if p.expect.refusal() { &mut tally.refusals } else { &mut tally.answers }).entry(status).or_default() += 1;
    let mut wrong = None;
    if !p.expect.holds(reply.status) {
        wrong = Some(format!(
            "{} {} × {}: expected {:?}, got {status} {}",
            op.method,
            p.url,
            caller.name,
            p.expect,
            short(&reply.body)
        ));
    } else if reply.status.is_success() && !caller.serves_all_schools() {
        let text = reply.body.to_string();
        if let Some(id) = caller.secrets.iter().find(|s| text.contains(s.as_str())) {
            wrong = Some(format!(
                "{} {} × {}: answered {status} with another party's id {id}: {}",
                op.method,
                p.url,
                caller.name,
                short(&reply.body)
            ));
        }
    }
    if caller.kind == Kind::Staff && reply.status.is_success() && op.method != Method::GET {
        let session = caller.session.clone().expect("a staff caller's session");
        let alive = stack.get("/v1/staff/session", Some(&session)).await.map(|r| r.status);
        if matches!(alive, Ok(StatusCode::UNAUTHORIZED)) {
            match stack.staff_sign_in(&session.openid, None).await {
                Ok(s) => {
                    callers[p.caller].session = Some(s);
                    tally.signed_in_again += 1;
                }
                Err(e) => {
                    return Some(format!("{} could not sign in again after {}: {e:#}", callers[p.caller].name, p.url));
                }
            }
        }
    }
    wrong
}

#[tokio::test]
async fn every_route_refuses_every_caller_another_partys_resources() {
    let text = std::fs::read_to_string(SPEC).expect("infra/openapi.yaml");
    let spec: Value = yaml_serde::from_str(&text).expect("infra/openapi.yaml is YAML");
    let ops = operations(&spec).unwrap_or_else(|problems| panic!("infra/openapi.yaml:\n{}", problems.join("\n")));
    assert!(!ops.is_empty(), "no operations in infra/openapi.yaml");
    // Duplicate keys are read last-one-wins (as PyYAML does), but said.
    if let Err(e) = yaml_serde::from_str::<yaml_serde::Value>(&text) {
        println!("note: infra/openapi.yaml is not strict YAML: {e}");
    }

    let stack = Stack::from_env()
        .await
        .expect("the local stack's environment (run `make test`)")
        .from_source(unique_source())
        .expect("a source address");
    let w = world(&stack).await.expect("the world: two schools, their staff and students");
    let mut callers = callers(&w);

    let mut made_up = BTreeSet::new();
    let (mut refusals, mut served) = (Vec::new(), Vec::new());
    for (i, op) in ops.iter().enumerate() {
        for (j, c) in callers.iter().enumerate() {
            let (url, body, names_theirs) = request(&spec, op, &c.theirs, None, &mut made_up);
            let expect = c.expect(op, names_theirs);
            let first = op.path_params().next().map(|p| p.name.as_str());
            // School A's campaign with school B's task, export or import under it.
            if expect == Expect::NotFound
                && op.path_params().count() > 1
                && first.is_some_and(|f| c.own.value(f).is_some())
            {
                let (url, body, _) = request(&spec, op, &c.theirs, Some(&c.own), &mut made_up);
                refusals.push(Probe { op: i, caller: j, url, body, expect: Expect::NotYours });
            }
            let probe = Probe { op: i, caller: j, url, body, expect };
            if expect == Expect::Served { served.push(probe) } else { refusals.push(probe) }
        }
    }

    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    let before = snapshot(&stack, &w).await.expect("snapshot");
    for p in &refusals {
        wrong.extend(send(&stack, &ops, &mut callers, p, &mut tally).await);
    }
    let after = snapshot(&stack, &w).await.expect("snapshot");
    for (key, was) in &before {
        if after.get(key) != Some(was) {
            wrong.push(format!("the {key} changed under refused calls: {was} → {}", after[key]));
        }
    }
    for p in &served {
        wrong.extend(send(&stack, &ops, &mut callers, p, &mut tally).await);
    }

    let schemes = |s: Scheme| ops.iter().filter(|o| o.scheme == s).count();
    let expecting = |e: &[Expect]| refusals.iter().filter(|p| e.contains(&p.expect)).count();
    println!(
        "IDOR matrix: {} operations read from infra/openapi.yaml ({} public, {} student, {} staff); {} callers \
         ({}); {} probes made of {}: {} expecting a refusal ({} of them under the caller's own campaign), {} on \
         the caller's own data or a public route, {} by callers serving every school; {} staff sessions signed \
         in again after signing out",
        ops.len(),
        schemes(Scheme::Public),
        schemes(Scheme::Student),
        schemes(Scheme::Staff),
        callers.len(),
        callers.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        tally.probes,
        refusals.len() + served.len(),
        refusals.iter().filter(|p| p.expect.refusal()).count(),
        expecting(&[Expect::NotYours]),
        expecting(&[Expect::Own, Expect::Public]),
        served.len(),
        tally.signed_in_again,
    );
    println!("refusals by status: {}", by_status(&tally.refusals));
    println!(
        "answers (own data, public routes, callers serving every school) by status: {}",
        by_status(&tally.answers)
    );
    if !made_up.is_empty() {
        println!("made-up ids for path parameters of no known party: {made_up:?}");
    }
    assert!(wrong.is_empty(), "{} of {} probes went wrong:\n{}", wrong.len(), tally.probes, wrong.join("\n"));
}
