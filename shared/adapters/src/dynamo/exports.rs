//! Exports of a campaign's approved photos: `PK=CAMPAIGN#<c>`, `SK=EXPORT#<export_id>`. A
//! request writes the record (`building`); the export function fills it in (`ready`, with the
//! archive's key, digest and counts). The final export of a closed campaign has the id `final`,
//! so concurrent deadline runs ask for it once. A school's request also takes the campaign's
//! `SK=EXPORTING` item (`export_id`, `until` millis) under the condition that no other
//! request holds it (absent, lapsed, or released by its export finishing), in the same
//! transaction as its record: one export of a campaign builds at a time, however many
//! requests arrive at once. Each download link given out is recorded as
//! `PK=CAMPAIGN#<c>`, `SK=AUDIT#<millis>#<rand>` (the archive holds every ID number).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::keys;
use super::s;
use super::{is_condition_failure, query_all};

/// The export store's failures are the domain's store errors: unavailable or corrupt.
pub use yunzhao_domain::StoreError as ExportStoreError;

use super::{corrupt, unavailable as err};

pub use yunzhao_domain::export::{Export, ExportStatus, FINAL};

/// `CAMPAIGN#<c>`/`EXPORT#<id>`.
fn export_item(export: &Export) -> super::Stored<&Export> {
    super::Stored::new(keys::campaign(&export.campaign_id), keys::export(&export.export_id), "export", export)
}

#[derive(Clone)]
pub struct DynamoExports {
    client: Client,
    table: String,
}

impl DynamoExports {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Records a school's request unless another of the campaign's is still building (holds
    /// the `EXPORTING` item, for at most `building_ms`): `false` then.
    pub async fn request_alone(&self, export: &Export, building_ms: i64) -> Result<bool, ExportStoreError> {
        let bad = |e: aws_sdk_dynamodb::error::BuildError| corrupt(e);
        let item = export_item(export);
        let record = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(item.item().map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(bad)?;
        let lock = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item("PK", s(&keys::campaign(&export.campaign_id)))
            .item("SK", s(EXPORTING))
            .item("entity", s("export_lock"))
            .item("export_id", s(&export.export_id))
            .item("until", AttributeValue::N((export.requested_at + building_ms).to_string()))
            .condition_expression("attribute_not_exists(PK) OR #until <= :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", AttributeValue::N(export.requested_at.to_string()))
            .build()
            .map_err(bad)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(lock).build())
            .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(record).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if super::cancelled_by_condition(&e) => Ok(false),
            Err(e) => Err(err(&e)),
        }
    }

    /// Records a request; `false` if one with this id exists already.
    pub async fn request(&self, export: &Export) -> Result<bool, ExportStoreError> {
        let item = export_item(export);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.item().map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(err(&e)),
        }
    }

    pub async fn get(&self, campaign_id: &str, export_id: &str) -> Result<Option<Export>, ExportStoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::campaign(campaign_id), &keys::export(export_id))
            .await
            .map_err(|e| err(&e))?;
        out.map(|i| super::read::<Export>(i).map_err(corrupt)).transpose()
    }

    /// The campaign's exports, oldest request first.
    pub async fn list(&self, campaign_id: &str) -> Result<Vec<Export>, ExportStoreError> {
        let query = super::query_prefix(&self.client, &self.table, &keys::campaign(campaign_id), "EXPORT#")
            .consistent_read(true);
        let mut all: Vec<Export> = query_all(query)
            .await
            .map_err(|e| err(&e))?
            .into_iter()
            .map(super::read::<Export>)
            .collect::<Result<_, _>>()
            .map_err(corrupt)?;
        all.sort_by_key(|e| (e.requested_at, e.export_id.clone()));
        Ok(all)
    }

    /// Records that `actor` was given a download link of the export.
    pub async fn record_link(
        &self,
        campaign_id: &str,
        export_id: &str,
        actor: &str,
        at_ms: i64,
    ) -> Result<(), ExportStoreError> {
        let rand = uuid::Uuid::new_v4().simple().to_string();
        self.client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(&keys::campaign(campaign_id)))
            .item("SK", s(&keys::audit(at_ms, &rand[..8])))
            .item("entity", s("audit"))
            .item("at", AttributeValue::N(at_ms.to_string()))
            .item("actor", s(actor))
            .item("action", s("export_link_issued"))
            .item("detail", s(export_id))
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }

    /// Stores the finished export (building again is allowed: it writes the same archive),
    /// and in the same transaction lets the next request of the campaign start, if this export
    /// still holds the lock (a lapsed one may have been taken by another request since).
    pub async fn finish(&self, export: &Export) -> Result<(), ExportStoreError> {
        let bad = |e: aws_sdk_dynamodb::error::BuildError| corrupt(e);
        let ready = Export { status: ExportStatus::Ready, ..export.clone() };
        let item = export_item(&ready);
        let item: super::Item = item.item().map_err(corrupt)?;
        let record = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(bad)?;
        let release = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item("PK", s(&keys::campaign(&export.campaign_id)))
            .item("SK", s(EXPORTING))
            .item("entity", s("export_lock"))
            .item("export_id", s(&export.export_id))
            .item("until", AttributeValue::N("0".into()))
            .condition_expression("export_id = :id")
            .expression_attribute_values(":id", s(&export.export_id))
            .build()
            .map_err(bad)?;
        let both = self
            .client
            .transact_write_items()
            .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(record).build())
            .transact_items(aws_sdk_dynamodb::types::TransactWriteItem::builder().put(release).build())
            .send()
            .await;
        match both {
            Ok(_) => return Ok(()),
            // Not this export's lock (a deadline's final export, or a lapsed one): the record alone.
            Err(e) if super::cancelled_by_condition(&e) => {}
            Err(e) => return Err(err(&e)),
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }
}

/// The sort key of a campaign's one-export-at-a-time lock.
const EXPORTING: &str = "EXPORTING";
