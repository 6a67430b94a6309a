//! Roster entries, their lookup pointers and bindings:
//! - `PK=CAMPAIGN#<c>`, `SK=ENTRY#<h>`: an entry, `h` = keyed hash of (campaign, ID number), so
//!   the same person imported twice is the same entry. The ID number is stored sealed
//!   (envelope encryption) and masked, never in clear.
//! - `PK=CAMPAIGN#<c>`, `SK=EXAMNO#<h>` / `SK=CODE#<h>` / `SK=STUNO#<h>`: 考生号, 采集码 and
//!   学号 → entry (`h` keyed hashes too), each unique within the campaign.
//! - `PK=USER#<u>`, `SK=ENROLL#<c>`: the user's binding in a campaign (one per campaign);
//!   `status = card_photos_needed` while it waits for the ID-card photos its campaign asks
//!   for (absent: complete), then `card_front_version` / `card_back_version`: the S3 versions
//!   of the photos that completed it.
//! - `PK=CAMPAIGN#<c>`, `SK=IMPORT#<id>`: an import's report.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, Select, TransactWriteItem, Update};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use yunzhao_domain::campaign::Campaign;
use yunzhao_domain::identity::{Bind, BindingStatus, CardVersions, Claim, RosterLookup, StoreError, StoredEntry};
use yunzhao_domain::order::change::Binding;
use yunzhao_domain::roster::{PersonName, RosterRow, RowError};
use yunzhao_domain::{UserId, id_number::mask};

use super::keys;
use super::s;
use super::{describe, is_condition_failure, query_all};
use crate::crypto::{Envelope, LookupHasher};

/// Rows written at once during an import.
const IMPORT_CONCURRENCY: usize = 16;

#[derive(Clone)]
pub struct DynamoRoster {
    client: Client,
    table: String,
    hasher: Arc<LookupHasher>,
    /// Only importers seal ID numbers; verification needs the hasher alone (and no KMS).
    envelope: Option<Arc<Envelope>>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<ImportError>,
}

/// A `RowError` as stored and returned (owned strings).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportError {
    pub line: usize,
    pub column: String,
    pub code: String,
    pub message: String,
}

impl From<RowError> for ImportError {
    fn from(e: RowError) -> Self {
        Self { line: e.line, column: e.column.into(), code: e.code.into(), message: e.message.into() }
    }
}

enum RowOutcome {
    Created,
    Updated,
    Unchanged,
    Refused(ImportError),
}

/// Tries of one row's transaction against what a concurrent import or takeover changed.
const ROW_TRIES: usize = 4;

/// An entry's row hash and lookup hashes, as stored.
#[derive(Deserialize)]
struct StoredHashes {
    #[serde(default)]
    row_hash: Option<String>,
    #[serde(default)]
    exam_hash: Option<String>,
    #[serde(default)]
    code_hash: Option<String>,
    #[serde(default)]
    student_no_hash: Option<String>,
}

impl StoredHashes {
    fn hash(&self, prefix: &str) -> Option<&str> {
        match prefix {
            "EXAMNO" => self.exam_hash.as_deref(),
            "CODE" => self.code_hash.as_deref(),
            _ => self.student_no_hash.as_deref(),
        }
    }
}

fn taken_by_another(line: usize, prefix: &str) -> ImportError {
    let (column, message) = match prefix {
        "EXAMNO" => ("考生号", "This 考生号 already belongs to another student of the campaign."),
        "CODE" => ("图像采集码", "This 图像采集码 already belongs to another student of the campaign."),
        _ => ("学号", "This 学号 already belongs to another student of the campaign."),
    };
    ImportError { line, column: column.into(), code: "belongs_to_another_entry".into(), message: message.into() }
}

fn store_err<E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(describe(e))
}

/// The identifiers of a roster entry besides the ID number, as sealed at import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbers {
    pub student_no: Option<String>,
    /// 考生号.
    pub exam_number: Option<String>,
    /// 图像采集码.
    pub collection_code: Option<String>,
}

/// A roster entry opened for the school's export: clear identifiers, only in the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedEntry {
    pub entry_id: String,
    pub name: String,
    pub id_number: String,
    pub numbers: Numbers,
    pub department: Option<String>,
    pub major: Option<String>,
    pub class: Option<String>,
    pub bound_user_id: Option<String>,
    pub collected_offline: bool,
}

impl yunzhao_domain::export::Line for OpenedEntry {
    fn bound_user(&self) -> Option<&str> {
        self.bound_user_id.as_deref()
    }

    fn collected_offline(&self) -> bool {
        self.collected_offline
    }
}

#[derive(Deserialize)]
struct SealedEntry {
    entry_id: String,
    name: String,
    id_sealed: String,
    #[serde(default)]
    numbers_sealed: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    major: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    bound_user_id: Option<String>,
    #[serde(default)]
    collected_offline: bool,
}

#[derive(Deserialize)]
struct EntryItem {
    entry_id: String,
    name: String,
    id_masked: String,
    #[serde(default)]
    student_no_masked: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    major: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    exam_hash: Option<String>,
    #[serde(default)]
    code_hash: Option<String>,
    #[serde(default)]
    bound_user_id: Option<String>,
    #[serde(default)]
    collected_offline: bool,
}

impl EntryItem {
    fn into_stored(self) -> Result<StoredEntry, StoreError> {
        // As stored: a name an earlier import let in and the rules refuse now stays readable.
        let name = PersonName::stored(self.name.clone());
        let bound_user_id = self
            .bound_user_id
            .as_deref()
            .map(UserId::parse)
            .transpose()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let view = serde_json::json!({
            "name": self.name,
            "id_number": self.id_masked,
            "student_no": self.student_no_masked,
            "department": self.department,
            "major": self.major,
            "class": self.class,
        });
        let collected_offline = self.collected_offline;
        Ok(StoredEntry { entry_id: self.entry_id, name, bound_user_id, view, collected_offline })
    }
}

impl yunzhao_domain::identity::Enrolments for DynamoBindings {
    async fn binding(&self, user: &UserId, cid: &str) -> Result<Option<BindingStatus>, yunzhao_domain::StoreError> {
        binding_status(&self.client, &self.table, cid, user).await
    }
}

/// The roster's lines and bindings as customer service, uploads and exports read them (and
/// undo a binding): the table's client, never handed to a function.
#[derive(Clone)]
pub struct DynamoBindings {
    client: Client,
    table: String,
}

impl DynamoBindings {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub async fn line_of(&self, cid: &str, user: &UserId) -> Result<Option<RosterLine>, StoreError> {
        line_of(&self.client, &self.table, cid, user).await
    }

    pub async fn lines(&self, cid: &str) -> Result<Vec<RosterLine>, StoreError> {
        lines(&self.client, &self.table, cid).await
    }

    pub async fn binding_status(&self, cid: &str, user: &UserId) -> Result<Option<BindingStatus>, StoreError> {
        binding_status(&self.client, &self.table, cid, user).await
    }

    pub async fn binding_to_undo(&self, cid: &str, user: &UserId) -> Result<Option<Binding>, StoreError> {
        binding_to_undo(&self.client, &self.table, cid, user).await
    }

    pub async fn unbind(
        &self,
        b: &Binding,
        seen: Option<&yunzhao_domain::order::OutTradeNo>,
    ) -> Result<bool, StoreError> {
        unbind(&self.client, &self.table, b, seen).await
    }

    pub async fn open_entries(&self, envelope: &Envelope, cid: &str) -> Result<Vec<OpenedEntry>, StoreError> {
        open_entries(&self.client, &self.table, envelope, cid).await
    }
}

impl DynamoRoster {
    /// Every line of the campaign's roster, masked.
    pub async fn lines(&self, campaign_id: &str) -> Result<Vec<RosterLine>, StoreError> {
        lines(&self.client, &self.table, campaign_id).await
    }

    pub fn new(client: Client, table: impl Into<String>, hasher: Arc<LookupHasher>, envelope: Arc<Envelope>) -> Self {
        Self { client, table: table.into(), hasher, envelope: Some(envelope) }
    }

    pub fn read_only(client: Client, table: impl Into<String>, hasher: Arc<LookupHasher>) -> Self {
        Self { client, table: table.into(), hasher, envelope: None }
    }

    fn entry_id(&self, campaign_id: &str, id_number: &str) -> String {
        self.hasher.digest("roster-entry", &[campaign_id, id_number])[..32].to_owned()
    }

    fn exam_hash(&self, campaign_id: &str, exam_number: &str) -> String {
        self.hasher.digest("exam-number", &[campaign_id, exam_number])
    }

    fn code_hash(&self, campaign_id: &str, code: &str) -> String {
        self.hasher.digest("collection-code", &[campaign_id, code])
    }

    fn student_no_hash(&self, campaign_id: &str, student_no: &str) -> String {
        self.hasher.digest("student-number", &[campaign_id, &student_no.trim().to_ascii_uppercase()])
    }

    /// The roster line with this 学号 (what a student who calls in knows by heart), masked;
    /// `None` when no current line of the campaign has it.
    pub async fn by_student_no(&self, campaign_id: &str, student_no: &str) -> Result<Option<RosterLine>, StoreError> {
        let hash = self.student_no_hash(campaign_id, student_no);
        let Some(entry_id) = self.pointer(campaign_id, "STUNO", &hash).await? else { return Ok(None) };
        let out = super::get_item(&self.client, &self.table, &keys::campaign(campaign_id), &keys::entry(&entry_id))
            .await
            .map_err(|e| store_err(&e))?;
        let Some(item) = out else { return Ok(None) };
        // A pointer left behind by a re-import that changed the number no longer counts.
        if item.get("student_no_hash").and_then(|v| v.as_s().ok()) != Some(&hash) {
            return Ok(None);
        }
        serde_dynamo::from_item(item).map(Some).map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Writes validated rows: new people are created, changed rows updated, identical rows
    /// left alone (so re-importing a file changes nothing). Bindings are never touched.
    ///
    /// The campaign's `enrolled` counter is not moved here: an import that fails half-way (the
    /// store refusing row 39) has created rows all the same, and a re-import calls them
    /// "unchanged". The caller runs [`DynamoRoster::recount_enrolled`] after this, whatever it
    /// returned.
    pub async fn import(
        &self,
        campaign: &Campaign,
        import_id: &str,
        rows: Vec<RosterRow>,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport { rows: rows.len(), ..ImportReport::default() };
        // What the file says each entry's numbers are now: a number the file moves from one
        // entry to another (two students' 学号 swapped) may be taken over from its old holder.
        let plan: HashMap<(String, &'static str), Option<String>> = rows
            .iter()
            .flat_map(|row| {
                let entry_id = self.entry_id(&campaign.id, row.id_number.expose());
                self.pointer_hashes(&campaign.id, row).into_iter().map(move |(p, h)| ((entry_id.clone(), p), h))
            })
            .collect();
        let plan = &plan;
        let mut outcomes =
            futures::stream::iter(rows.into_iter().map(|row| self.import_row(campaign, import_id, row, plan)))
                .buffer_unordered(IMPORT_CONCURRENCY);
        while let Some(outcome) = outcomes.next().await {
            match outcome? {
                RowOutcome::Created => report.created += 1,
                RowOutcome::Updated => report.updated += 1,
                RowOutcome::Unchanged => report.unchanged += 1,
                RowOutcome::Refused(e) => report.errors.push(e),
            }
        }
        report.errors.sort_by_key(|e| e.line);
        Ok(report)
    }

    /// Sets the campaign's `enrolled` counter to the number of its entries, counted (strongly
    /// consistent) after an import's writes, and returns it. Counting the entries rather than
    /// adding what one import created keeps the counter right whatever happened before: rows
    /// left by an import that stopped half-way (before this was called, or before this rule)
    /// are counted by the next import, though it sees them "unchanged". Entries are never
    /// deleted, so the true count only grows: the counter only moves up, and of two imports
    /// counting at once, the one that counted fewer (earlier) cannot overwrite the other.
    ///
    /// Why not one transaction per created row adding to the counter: every row of every import
    /// would then write the campaign's one PROFILE item inside a transaction, and concurrent
    /// transactions on an item cancel each other (`TransactionConflict`), so a 16-wide import
    /// would mostly retry; and it would not repair a counter already short.
    pub async fn recount_enrolled(&self, campaign_id: &str) -> Result<u64, StoreError> {
        let pk = keys::campaign(campaign_id);
        let mut pages = super::query_prefix(&self.client, &self.table, &pk, "ENTRY#")
            .select(Select::Count)
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut entries = 0u64;
        while let Some(page) = pages.next().await {
            entries += u64::try_from(page.map_err(|e| store_err(&e))?.count()).unwrap_or_default();
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&pk))
            .key("SK", s("PROFILE"))
            .update_expression("SET enrolled = :n")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(enrolled) OR enrolled < :n)")
            .expression_attribute_values(":n", AttributeValue::N(entries.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(entries),
            // Counted as many or more already (another import counting at the same time).
            Err(e) if is_condition_failure(&e) => Ok(entries),
            Err(e) => Err(store_err(&e)),
        }
    }

    /// The row's lookup pointers (`EXAMNO`, `CODE`, `STUNO`) and their keyed hashes.
    fn pointer_hashes(&self, cid: &str, row: &RosterRow) -> [(&'static str, Option<String>); 3] {
        [
            ("EXAMNO", row.exam_number().map(|n| self.exam_hash(cid, &n.to_ascii_uppercase()))),
            ("CODE", row.collection_code.as_deref().map(|c| self.code_hash(cid, c))),
            ("STUNO", row.student_no.as_deref().map(|n| self.student_no_hash(cid, n))),
        ]
    }

    async fn import_row(
        &self,
        campaign: &Campaign,
        import_id: &str,
        row: RosterRow,
        plan: &HashMap<(String, &'static str), Option<String>>,
    ) -> Result<RowOutcome, StoreError> {
        let cid = campaign.id.as_str();
        let entry_id = self.entry_id(cid, row.id_number.expose());
        let [(_, exam_hash), (_, code_hash), (_, student_no_hash)] = self.pointer_hashes(cid, &row);
        let row_hash = self.hasher.digest(
            "roster-row",
            &[
                row.name.as_str(),
                row.id_number.expose(),
                row.student_no.as_deref().unwrap_or(""),
                row.exam_ticket_no.as_deref().unwrap_or(""),
                row.collection_code.as_deref().unwrap_or(""),
                row.department.as_deref().unwrap_or(""),
                row.major.as_deref().unwrap_or(""),
                row.class.as_deref().unwrap_or(""),
                if row.collected_offline { "collected_offline" } else { "" },
            ],
        );
        let pk = keys::campaign(cid);
        let sk = keys::entry(&entry_id);
        let envelope =
            self.envelope.as_ref().ok_or_else(|| StoreError::Unavailable("importing needs the envelope key".into()))?;
        let sealed = envelope
            .seal(row.id_number.expose().as_bytes(), &format!("{pk}|{sk}"))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // The other numbers an export may name files by, sealed the same way.
        let numbers = Numbers {
            student_no: row.student_no.clone(),
            exam_number: row.exam_number(),
            collection_code: row.collection_code.clone(),
        };
        let numbers_sealed = envelope
            .seal(
                &serde_json::to_vec(&numbers).map_err(|e| StoreError::Unavailable(e.to_string()))?,
                &format!("{pk}|{sk}|numbers"),
            )
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":entity".into(), s("roster_entry")),
            (":entry_id".into(), s(&entry_id)),
            (":campaign_id".into(), s(cid)),
            (":name".into(), s(row.name.as_str())),
            (":id_masked".into(), s(&row.id_number.masked())),
            (":id_sealed".into(), s(&sealed)),
            (":numbers_sealed".into(), s(&numbers_sealed)),
            (":row_hash".into(), s(&row_hash)),
            (":line".into(), AttributeValue::N(row.line.to_string())),
            (":import_id".into(), s(import_id)),
            (":offline".into(), AttributeValue::Bool(row.collected_offline)),
        ]);
        let mut sets: Vec<&str> = vec![
            "entity = :entity",
            "entry_id = :entry_id",
            "campaign_id = :campaign_id",
            "#name = :name",
            "id_masked = :id_masked",
            "id_sealed = :id_sealed",
            "numbers_sealed = :numbers_sealed",
            "row_hash = :row_hash",
            "line = :line",
            "import_id = :import_id",
            "collected_offline = :offline",
        ];
        let mut removes: Vec<&str> = Vec::new();
        let optional = [
            (
                "student_no_masked = :student_no_masked",
                "student_no_masked",
                ":student_no_masked",
                row.student_no.as_deref().map(mask),
            ),
            ("department = :department", "department", ":department", row.department.clone()),
            ("major = :major", "major", ":major", row.major.clone()),
            ("#class = :class", "#class", ":class", row.class.clone()),
            ("exam_hash = :exam_hash", "exam_hash", ":exam_hash", exam_hash.clone()),
            ("code_hash = :code_hash", "code_hash", ":code_hash", code_hash.clone()),
            ("student_no_hash = :student_no_hash", "student_no_hash", ":student_no_hash", student_no_hash.clone()),
        ];
        for (set, attr, placeholder, value) in &optional {
            match value {
                Some(v) => {
                    sets.push(set);
                    values.insert((*placeholder).into(), s(v));
                }
                None => removes.push(attr),
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let new_hashes = [("EXAMNO", exam_hash), ("CODE", code_hash), ("STUNO", student_no_hash)];
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unavailable(e.to_string());
        // The entry, its pointers to it and its old pointers freed, in one transaction written
        // against the entry as read; a lost race (another import, a takeover) reads again.
        for _ in 0..ROW_TRIES {
            let stored = self.stored_hashes(cid, &entry_id).await?;
            if stored.as_ref().is_some_and(|st| st.row_hash.as_deref() == Some(row_hash.as_str())) {
                return Ok(RowOutcome::Unchanged);
            }
            let mut items = Vec::new();
            for (prefix, hash) in new_hashes.iter().map(|(p, h)| (*p, h)) {
                let old = stored.as_ref().and_then(|st| st.hash(prefix));
                if let Some(old) = old.filter(|o| hash.as_deref() != Some(*o)) {
                    // The number changed or went: free its pointer if it is still this entry's.
                    if self.pointer(cid, prefix, old).await?.as_deref() == Some(entry_id.as_str()) {
                        let delete = aws_sdk_dynamodb::types::Delete::builder()
                            .table_name(&self.table)
                            .key("PK", s(&pk))
                            .key("SK", s(&format!("{prefix}#{old}")))
                            .condition_expression("entry_id = :e")
                            .expression_attribute_values(":e", s(&entry_id))
                            .build()
                            .map_err(built)?;
                        items.push(TransactWriteItem::builder().delete(delete).build());
                    }
                }
                let Some(hash) = hash else { continue };
                let put = Put::builder()
                    .table_name(&self.table)
                    .item("PK", s(&pk))
                    .item("SK", s(&format!("{prefix}#{hash}")))
                    .item("entity", s("roster_pointer"))
                    .item("entry_id", s(&entry_id));
                let put = match self.pointer(cid, prefix, hash).await? {
                    Some(owner) if owner == entry_id => continue,
                    None => put.condition_expression("attribute_not_exists(PK)"),
                    Some(owner) => {
                        if !self.may_take_over(cid, prefix, hash, &owner, plan).await? {
                            return Ok(RowOutcome::Refused(taken_by_another(row.line, prefix)));
                        }
                        put.condition_expression("entry_id = :owner").expression_attribute_values(":owner", s(&owner))
                    }
                };
                items.push(TransactWriteItem::builder().put(put.build().map_err(built)?).build());
            }
            let mut update = Update::builder()
                .table_name(&self.table)
                .key("PK", s(&pk))
                .key("SK", s(&sk))
                .update_expression(expression.clone())
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#class", "class")
                .set_expression_attribute_values(Some(values.clone()));
            update = match stored.as_ref().and_then(|st| st.row_hash.clone()) {
                None if stored.is_none() => update.condition_expression("attribute_not_exists(PK)"),
                None => update.condition_expression("attribute_exists(PK) AND attribute_not_exists(row_hash)"),
                Some(old) => update
                    .condition_expression("row_hash = :old_row_hash")
                    .expression_attribute_values(":old_row_hash", s(&old)),
            };
            items.push(TransactWriteItem::builder().update(update.build().map_err(built)?).build());
            match super::transact_retrying(&self.client, items).await {
                Ok(()) => return Ok(if stored.is_some() { RowOutcome::Updated } else { RowOutcome::Created }),
                Err(e) if super::cancelled_by_condition(&e) => continue,
                Err(e) => return Err(store_err(&e)),
            }
        }
        Err(StoreError::Unavailable(format!("line {}: the entry kept changing while it was imported", row.line)))
    }

    /// The entry's stored row hash and pointer hashes (strongly consistent).
    async fn stored_hashes(&self, cid: &str, entry_id: &str) -> Result<Option<StoredHashes>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(cid)))
            .key("SK", s(&keys::entry(entry_id)))
            .projection_expression("row_hash, exam_hash, code_hash, student_no_hash")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_err(&e))?;
        out.item.map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Unavailable(e.to_string()))).transpose()
    }

    /// Whether a number pointing at `owner` may move to another entry: the file moves `owner`
    /// to another number (or none), or `owner` itself no longer has it (a pointer left behind
    /// before numbers were freed on change).
    async fn may_take_over(
        &self,
        cid: &str,
        prefix: &'static str,
        hash: &str,
        owner: &str,
        plan: &HashMap<(String, &'static str), Option<String>>,
    ) -> Result<bool, StoreError> {
        if let Some(planned) = plan.get(&(owner.to_owned(), prefix)) {
            return Ok(planned.as_deref() != Some(hash));
        }
        let held = self.stored_hashes(cid, owner).await?;
        Ok(held.as_ref().and_then(|h| h.hash(prefix)) != Some(hash))
    }

    pub async fn save_report(
        &self,
        campaign_id: &str,
        import_id: &str,
        report: &ImportReport,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let item = serde_json::json!({
            "PK": keys::campaign(campaign_id), "SK": keys::import(import_id), "entity": "roster_import",
            "import_id": import_id, "finished_at": now.unix_timestamp(), "report": report,
        });
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(|e| StoreError::Unavailable(e.to_string()))?))
            .send()
            .await
            .map_err(|e| store_err(&e))?;
        Ok(())
    }

    pub async fn report(&self, campaign_id: &str, import_id: &str) -> Result<Option<ImportReport>, StoreError> {
        #[derive(Deserialize)]
        struct Stored {
            report: ImportReport,
        }
        let out = super::get_item(&self.client, &self.table, &keys::campaign(campaign_id), &keys::import(import_id))
            .await
            .map_err(|e| store_err(&e))?;
        out.map(|i| {
            serde_dynamo::from_item::<_, Stored>(i)
                .map(|s| s.report)
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        })
        .transpose()
    }

    async fn entry(&self, cid: &str, entry_id: &str) -> Result<Option<EntryItem>, StoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::campaign(cid), &keys::entry(entry_id))
            .await
            .map_err(|e| store_err(&e))?;
        out.map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Unavailable(e.to_string()))).transpose()
    }

    async fn pointer(&self, cid: &str, prefix: &str, hash: &str) -> Result<Option<String>, StoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::campaign(cid), &format!("{prefix}#{hash}"))
            .await
            .map_err(|e| store_err(&e))?;
        Ok(out.and_then(|i| i.get("entry_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// The user's bound entries: (campaign id, masked view, where the binding stands).
    pub async fn enrollments(
        &self,
        user: &UserId,
    ) -> Result<Vec<(String, serde_json::Value, BindingStatus)>, StoreError> {
        let out = super::query_prefix(&self.client, &self.table, &keys::user(user), "ENROLL#")
            .send()
            .await
            .map_err(|e| store_err(&e))?;
        let mut found = Vec::new();
        for item in out.items.unwrap_or_default() {
            let field = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let (cid, entry_id) = (field("campaign_id"), field("entry_id"));
            let status = BindingStatus::from_stored(item.get("status").and_then(|v| v.as_s().ok()).map(String::as_str));
            if let Some(entry) = self.entry(&cid, &entry_id).await? {
                found.push((cid, entry.into_stored()?.view, status));
            }
        }
        Ok(found)
    }
}

impl RosterLookup for DynamoRoster {
    async fn find(&self, campaign: &Campaign, claim: &Claim) -> Result<Option<StoredEntry>, StoreError> {
        let cid = campaign.id.as_str();
        let (entry_id, expect) = match claim {
            Claim::NameId { id_number, .. } => (Some(self.entry_id(cid, id_number.expose())), None),
            Claim::ExamNumber(n) => {
                let hash = self.exam_hash(cid, n);
                (self.pointer(cid, "EXAMNO", &hash).await?, Some(("exam", hash)))
            }
            Claim::CollectionCode(c) => {
                let hash = self.code_hash(cid, c);
                (self.pointer(cid, "CODE", &hash).await?, Some(("code", hash)))
            }
        };
        let Some(entry_id) = entry_id else { return Ok(None) };
        let Some(entry) = self.entry(cid, &entry_id).await? else { return Ok(None) };
        // A pointer left behind by a re-import that changed the number no longer counts.
        let current = match expect {
            Some(("exam", hash)) => entry.exam_hash.as_deref() == Some(hash.as_str()),
            Some((_, hash)) => entry.code_hash.as_deref() == Some(hash.as_str()),
            None => true,
        };
        if !current {
            return Ok(None);
        }
        entry.into_stored().map(Some)
    }

    async fn bind(
        &self,
        campaign: &Campaign,
        entry: &StoredEntry,
        user: &UserId,
        status: BindingStatus,
        now: OffsetDateTime,
    ) -> Result<Bind, StoreError> {
        let cid = campaign.id.as_str();
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unavailable(e.to_string());
        let bind_entry = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(cid)))
            .key("SK", s(&keys::entry(&entry.entry_id)))
            .update_expression("SET bound_user_id = :u, bound_at = :now")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(bound_user_id)")
            .expression_attribute_values(":u", s(user.as_str()))
            .expression_attribute_values(":now", AttributeValue::N(now.unix_timestamp().to_string()))
            .build()
            .map_err(built)?;
        let mut enroll = Put::builder()
            .table_name(&self.table)
            .item("PK", s(&keys::user(user)))
            .item("SK", s(&keys::enrollment(cid)))
            .item("entity", s("enrollment"))
            .item("campaign_id", s(cid))
            .item("school_id", s(&campaign.school_id))
            .item("entry_id", s(&entry.entry_id))
            .item("bound_at", AttributeValue::N(now.unix_timestamp().to_string()));
        if status != BindingStatus::Complete {
            enroll = enroll.item("status", s(status.as_str()));
        }
        let enroll = enroll.condition_expression("attribute_not_exists(PK)").build().map_err(built)?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(cid)))
            .key("SK", s("PROFILE"))
            .update_expression("ADD verified :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(built)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(bind_entry).build())
            .transact_items(TransactWriteItem::builder().put(enroll).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Bind::Bound),
            Err(e) if is_condition_failure(&e) => e,
            Err(e) => return Err(store_err(&e)),
        };
        let reasons: Vec<bool> = match err.as_service_error() {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(ex)) => ex
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
            _ => Vec::new(),
        };
        if reasons.first().copied().unwrap_or(true) {
            // The entry is bound already: to this user, or to someone else.
            let stored = self.entry(cid, &entry.entry_id).await?;
            return Ok(match stored.and_then(|e| e.bound_user_id) {
                Some(u) if u == user.as_str() => {
                    Bind::AlreadyYours(self.binding(campaign, user).await?.unwrap_or(BindingStatus::Complete))
                }
                _ => Bind::TakenByAnother,
            });
        }
        Ok(Bind::YouHoldAnother)
    }

    async fn binding(&self, campaign: &Campaign, user: &UserId) -> Result<Option<BindingStatus>, StoreError> {
        binding_status(&self.client, &self.table, &campaign.id, user).await
    }

    async fn complete(
        &self,
        campaign: &Campaign,
        user: &UserId,
        versions: &CardVersions,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::user(user)))
            .key("SK", s(&keys::enrollment(&campaign.id)))
            .update_expression(
                "SET card_front_version = :f, card_back_version = :b, completed_at = :now REMOVE #status",
            )
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":f", s(&versions.front))
            .expression_attribute_values(":b", s(&versions.back))
            .expression_attribute_values(":now", AttributeValue::N(now.unix_timestamp().to_string()))
            .expression_attribute_values(":pending", s(BindingStatus::CardPhotosNeeded.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(store_err(&e)),
        }
    }
}

/// The student's binding in the campaign, as it must still be when it is undone; `None`
/// when they are not bound.
pub async fn binding_to_undo(
    client: &Client,
    table: &str,
    cid: &str,
    user: &UserId,
) -> Result<Option<Binding>, StoreError> {
    let enrollment = client
        .get_item()
        .table_name(table)
        .key("PK", s(&keys::user(user)))
        .key("SK", s(&keys::enrollment(cid)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| store_err(&e))?
        .item;
    let entry_id = enrollment.and_then(|i| i.get("entry_id").and_then(|v| v.as_s().ok()).cloned());
    Ok(entry_id.map(|entry_id| Binding { campaign_id: cid.to_owned(), user: user.clone(), entry_id }))
}

/// The writes that undo `b`: the roster entry freed (only while it is bound to that user), the
/// enrollment removed (only while it names that entry), the campaign's verified count down.
pub(crate) fn unbind_writes(table: &str, b: &Binding) -> Result<Vec<TransactWriteItem>, StoreError> {
    let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unavailable(e.to_string());
    let free_entry = Update::builder()
        .table_name(table)
        .key("PK", s(&keys::campaign(&b.campaign_id)))
        .key("SK", s(&keys::entry(&b.entry_id)))
        .update_expression("REMOVE bound_user_id, bound_at")
        .condition_expression("bound_user_id = :u")
        .expression_attribute_values(":u", s(b.user.as_str()))
        .build()
        .map_err(built)?;
    let unenroll = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .key("PK", s(&keys::user(&b.user)))
        .key("SK", s(&keys::enrollment(&b.campaign_id)))
        .condition_expression("entry_id = :e")
        .expression_attribute_values(":e", s(&b.entry_id))
        .build()
        .map_err(built)?;
    let count = Update::builder()
        .table_name(table)
        .key("PK", s(&keys::campaign(&b.campaign_id)))
        .key("SK", s("PROFILE"))
        .update_expression("ADD verified :minus")
        .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
        .build()
        .map_err(built)?;
    Ok(vec![
        TransactWriteItem::builder().update(free_entry).build(),
        TransactWriteItem::builder().delete(unenroll).build(),
        TransactWriteItem::builder().update(count).build(),
    ])
}

/// Undoes `b` for a student with no unpaid order to cancel with it, only while their order in
/// the campaign is still `seen` (none, or that one): `false` when the binding or the order
/// changed since they were read, and nothing was written.
pub async fn unbind(
    client: &Client,
    table: &str,
    b: &Binding,
    seen: Option<&yunzhao_domain::order::OutTradeNo>,
) -> Result<bool, StoreError> {
    let mut items = unbind_writes(table, b)?;
    items.push(
        super::orders::pointer_unchanged(table, &b.user, &b.campaign_id, seen)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?,
    );
    match super::transact_retrying(client, items).await {
        Ok(()) => Ok(true),
        Err(e) if super::cancelled_by_condition(&e) => Ok(false),
        Err(e) => Err(store_err(&e)),
    }
}

/// The user's binding in the campaign now, if any (orders and uploads need a complete one).
pub async fn binding_status(
    client: &Client,
    table: &str,
    cid: &str,
    user: &UserId,
) -> Result<Option<BindingStatus>, StoreError> {
    let out =
        super::get_item(client, table, &keys::user(user), &keys::enrollment(cid)).await.map_err(|e| store_err(&e))?;
    Ok(out.map(|i| BindingStatus::from_stored(i.get("status").and_then(|v| v.as_s().ok()).map(String::as_str))))
}

/// The versions of the ID-card photos (front, back) that completed the user's binding, if it
/// was completed by them: reviewers are shown these, not whatever the keys hold now.
pub async fn card_versions(
    client: &Client,
    table: &str,
    cid: &str,
    user: &UserId,
) -> Result<Option<CardVersions>, StoreError> {
    let out =
        super::get_item(client, table, &keys::user(user), &keys::enrollment(cid)).await.map_err(|e| store_err(&e))?;
    let Some(item) = out else { return Ok(None) };
    let field = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    Ok(field("card_front_version").zip(field("card_back_version")).map(|(front, back)| CardVersions { front, back }))
}

pub use yunzhao_domain::roster::RosterLine;

/// The roster line a user is bound to in a campaign, masked (customer service's view).
pub async fn line_of(client: &Client, table: &str, cid: &str, user: &UserId) -> Result<Option<RosterLine>, StoreError> {
    let get = |pk: String, sk: String| client.get_item().table_name(table).key("PK", s(&pk)).key("SK", s(&sk)).send();
    let enrolled = get(keys::user(user), keys::enrollment(cid)).await.map_err(|e| store_err(&e))?;
    let Some(entry_id) = enrolled.item.as_ref().and_then(|i| i.get("entry_id")).and_then(|v| v.as_s().ok()) else {
        return Ok(None);
    };
    let entry = get(keys::campaign(cid), keys::entry(entry_id)).await.map_err(|e| store_err(&e))?;
    entry.item.map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Unavailable(e.to_string()))).transpose()
}

/// Every entry of the campaign, masked (no KMS call).
pub async fn lines(client: &Client, table: &str, cid: &str) -> Result<Vec<RosterLine>, StoreError> {
    let query = client
        .query()
        .table_name(table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :e)")
        .expression_attribute_values(":pk", s(&keys::campaign(cid)))
        .expression_attribute_values(":e", s("ENTRY#"));
    query_all(query)
        .await
        .map_err(|e| store_err(&e))?
        .into_iter()
        .map(|i| serde_dynamo::from_item(i).map_err(|e| StoreError::Unavailable(e.to_string())))
        .collect()
}

/// Every entry of the campaign with its identifiers opened (KMS), for the school's export.
pub async fn open_entries(
    client: &Client,
    table: &str,
    envelope: &Envelope,
    cid: &str,
) -> Result<Vec<OpenedEntry>, StoreError> {
    let query = client
        .query()
        .table_name(table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :e)")
        .expression_attribute_values(":pk", s(&keys::campaign(cid)))
        .expression_attribute_values(":e", s("ENTRY#"));
    let sealed: Vec<SealedEntry> = query_all(query)
        .await
        .map_err(|e| store_err(&e))?
        .into_iter()
        .map(serde_dynamo::from_item)
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let pk = keys::campaign(cid);
    let mut opened = Vec::with_capacity(sealed.len());
    for e in sealed {
        let context = format!("{pk}|ENTRY#{}", e.entry_id);
        let open = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| StoreError::Unavailable(e.to_string()));
        let id_number =
            open(envelope.open(&e.id_sealed, &context).await.map_err(|e| StoreError::Unavailable(e.to_string()))?)?;
        let numbers = match &e.numbers_sealed {
            Some(n) => {
                let bytes = envelope
                    .open(n, &format!("{context}|numbers"))
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Unavailable(e.to_string()))?
            }
            None => Numbers::default(),
        };
        opened.push(OpenedEntry {
            entry_id: e.entry_id,
            name: e.name,
            id_number,
            numbers,
            department: e.department,
            major: e.major,
            class: e.class,
            bound_user_id: e.bound_user_id,
            collected_offline: e.collected_offline,
        });
    }
    Ok(opened)
}
