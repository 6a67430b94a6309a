//! Schools, campaigns and staff roles in the table:
//! - `PK=SCHOOL#<id>`, `SK=PROFILE`: a school.
//! - `PK=CAMPAIGN#<id>`, `SK=PROFILE`: a campaign and its progress counters;
//!   `GSI1PK=SCHOOL#<school>`, `GSI1SK=CAMPAIGN#<id>` lists a school's campaigns;
//!   `GSI2PK=OPEN_CAMPAIGNS`, `GSI2SK=<closes_at, 12 digits>#<id>` lists the campaigns not yet
//!   closed by their closing time (a sparse index: closing removes the keys).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use yunzhao_domain::campaign::Campaign;

use super::keys;
use super::s;
use super::{Stored, describe, is_condition_failure, query_all, read};

#[derive(Debug, thiserror::Error)]
pub enum CampaignStoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Exists,
    #[error("the public code is taken")]
    CodeTaken,
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

fn unavailable<E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> CampaignStoreError {
    CampaignStoreError::Unavailable(describe(e))
}

fn corrupt(e: impl std::fmt::Display) -> CampaignStoreError {
    CampaignStoreError::Unavailable(format!("corrupt record: {e}"))
}

impl From<CampaignStoreError> for yunzhao_domain::StoreError {
    fn from(e: CampaignStoreError) -> Self {
        match e {
            CampaignStoreError::Unavailable(detail) => Self::Unavailable(detail),
            other => Self::Corrupt(other.to_string()),
        }
    }
}

/// The campaigns as students' use cases read them.
impl yunzhao_domain::campaign::Campaigns for DynamoCampaigns {
    async fn campaign(&self, id: &str) -> Result<Option<Campaign>, yunzhao_domain::StoreError> {
        Ok(self.get(id).await?.map(|(campaign, _)| campaign))
    }
}

/// How far a campaign has come; each counter moves with the transition it counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub enrolled: u64,
    #[serde(default)]
    pub verified: u64,
    /// Paid and not refunded.
    #[serde(default)]
    pub paid: u64,
}

/// `CAMPAIGNCODE#<code>`/`CODE`: the campaign a public code names.
#[derive(Serialize, Deserialize)]
struct CodePointer {
    campaign_id: String,
}

/// A campaign as stored (`CAMPAIGN#<c>`/`PROFILE`): its settings and its counters.
#[derive(Serialize, Deserialize)]
struct StoredCampaign {
    #[serde(flatten)]
    campaign: Campaign,
    #[serde(flatten)]
    progress: Progress,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct School {
    pub id: String,
    pub name: String,
}

#[derive(Clone)]
pub struct DynamoCampaigns {
    client: Client,
    table: String,
}

const OPEN_CAMPAIGNS: &str = "OPEN_CAMPAIGNS";
/// The index partition listing every school.
const SCHOOLS: &str = "SCHOOLS";

fn closing_key(c: &Campaign) -> String {
    format!("{:012}#{}", c.window.closes_at.unix_timestamp().max(0), c.id)
}

impl DynamoCampaigns {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub async fn create_school(&self, school: &School) -> Result<(), CampaignStoreError> {
        let item = serde_json::json!({
            "PK": keys::school(&school.id), "SK": "PROFILE", "entity": "school", "id": school.id, "name": school.name,
            "GSI1PK": SCHOOLS, "GSI1SK": format!("{}#{}", school.name, school.id),
        });
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| if is_condition_failure(&e) { CampaignStoreError::Exists } else { unavailable(&e) })?;
        Ok(())
    }

    pub async fn school_exists(&self, id: &str) -> Result<bool, CampaignStoreError> {
        if !yunzhao_domain::is_id(id) {
            return Ok(false);
        }
        let out = super::get_item(&self.client, &self.table, &keys::school(id), "PROFILE")
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(out.is_some())
    }

    pub async fn school(&self, id: &str) -> Result<Option<School>, CampaignStoreError> {
        if !yunzhao_domain::is_id(id) {
            return Ok(None);
        }
        let out = super::get_item(&self.client, &self.table, &keys::school(id), "PROFILE")
            .await
            .map_err(|e| unavailable(&e))?;
        out.map(|i| serde_dynamo::from_item(i).map_err(corrupt)).transpose()
    }

    /// Every school, by name (`GSI1PK=SCHOOLS`).
    pub async fn schools(&self) -> Result<Vec<School>, CampaignStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :all")
            .expression_attribute_values(":all", s(SCHOOLS));
        let items = super::query_all(query).await.map_err(|e| unavailable(&e))?;
        items.into_iter().map(|i| serde_dynamo::from_item(i).map_err(corrupt)).collect()
    }

    /// Creates the campaign and, in the same write, its public code's pointer: `CodeTaken`
    /// when another campaign has the code (make another), `Exists` for a taken id.
    pub async fn create(&self, campaign: &Campaign) -> Result<(), CampaignStoreError> {
        let stored = StoredCampaign { campaign: campaign.clone(), progress: Progress::default() };
        let mut item = Stored::new(keys::campaign(&campaign.id), "PROFILE", "campaign", stored)
            .gsi1(keys::school(&campaign.school_id), keys::campaign(&campaign.id));
        if !campaign.closed {
            item = item.gsi2(OPEN_CAMPAIGNS, closing_key(campaign));
        }
        let first = "attribute_not_exists(PK)";
        let put =
            |item: super::Item| Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(first);
        let mut tx = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder().put(put(item.item().map_err(corrupt)?).build().map_err(corrupt)?).build(),
        );
        if let Some(code) = &campaign.code {
            let pointer = Stored::new(
                keys::campaign_code(code),
                "CODE",
                "campaign_code",
                CodePointer { campaign_id: campaign.id.clone() },
            );
            tx = tx.transact_items(
                TransactWriteItem::builder()
                    .put(put(pointer.item().map_err(corrupt)?).build().map_err(corrupt)?)
                    .build(),
            );
        }
        match tx.send().await {
            Ok(_) => Ok(()),
            Err(e) => match super::cancellation_codes(&e) {
                Some(codes) if codes.get(1).map(String::as_str) == Some("ConditionalCheckFailed") => {
                    Err(CampaignStoreError::CodeTaken)
                }
                Some(codes) if codes.first().map(String::as_str) == Some("ConditionalCheckFailed") => {
                    Err(CampaignStoreError::Exists)
                }
                _ => Err(unavailable(&e)),
            },
        }
    }

    /// The campaign a public code names.
    pub async fn by_code(&self, code: &str) -> Result<Option<(Campaign, Progress)>, CampaignStoreError> {
        if !yunzhao_domain::campaign::is_code(code) {
            return Ok(None);
        }
        let pk = keys::campaign_code(code);
        let pointer = super::get_item(&self.client, &self.table, &pk, "CODE").await.map_err(|e| unavailable(&e))?;
        let Some(item) = pointer else { return Ok(None) };
        let pointer: CodePointer = read(item).map_err(corrupt)?;
        self.get(&pointer.campaign_id).await
    }

    /// Replaces the campaign's settings, never its school, counters or closed flag.
    pub async fn update(&self, campaign: &Campaign, now: OffsetDateTime) -> Result<(), CampaignStoreError> {
        let value = |v: serde_json::Value| serde_dynamo::to_attribute_value(v).map_err(corrupt);
        // No agreement: the attribute goes (never a stored NULL).
        let (agreement, remove) = match &campaign.privacy_agreement {
            Some(a) => (Some(value(serde_json::to_value(a).map_err(corrupt)?)?), ""),
            None => (None, " REMOVE privacy_agreement"),
        };
        let set_agreement = if agreement.is_some() { ", privacy_agreement = :agreement" } else { "" };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(&campaign.id)))
            .key("SK", s("PROFILE"))
            .update_expression(format!(
                "SET #name = :name, kind = :kind, spec = :spec, #window = :window, price_fen = :price, \
                 identity_mode = :mode, require_id_card_photos = :cards, allow_withdraw = :withdraw, \
                 free_checks = :checks, updated_at = :now, GSI2SK = :closing{set_agreement}{remove}",
            ))
            // A closed campaign has left the index of open ones and stays out.
            .condition_expression("attribute_exists(PK) AND school_id = :school AND attribute_exists(GSI2PK)")
            .expression_attribute_values(":closing", s(&closing_key(campaign)))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#window", "window")
            .expression_attribute_values(":name", s(&campaign.name))
            .expression_attribute_values(":kind", value(serde_json::to_value(campaign.kind).map_err(corrupt)?)?)
            .expression_attribute_values(":spec", value(serde_json::to_value(&campaign.spec).map_err(corrupt)?)?)
            .expression_attribute_values(":window", value(serde_json::to_value(campaign.window).map_err(corrupt)?)?)
            .expression_attribute_values(":price", AttributeValue::N(campaign.price_fen.to_string()))
            .expression_attribute_values(
                ":mode",
                value(serde_json::to_value(campaign.identity_mode).map_err(corrupt)?)?,
            )
            .expression_attribute_values(":cards", AttributeValue::Bool(campaign.require_id_card_photos))
            .expression_attribute_values(":withdraw", AttributeValue::Bool(campaign.allow_withdraw))
            .expression_attribute_values(":checks", super::n(i64::from(campaign.free_checks)))
            .expression_attribute_values(":now", s(&now.to_string()))
            .expression_attribute_values(":school", s(&campaign.school_id));
        let update = match agreement {
            Some(a) => update.expression_attribute_values(":agreement", a),
            None => update,
        };
        update
            .send()
            .await
            .map_err(|e| if is_condition_failure(&e) { CampaignStoreError::NotFound } else { unavailable(&e) })?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<(Campaign, Progress)>, CampaignStoreError> {
        if !yunzhao_domain::is_id(id) {
            return Ok(None);
        }
        let out = super::get_item(&self.client, &self.table, &keys::campaign(id), "PROFILE")
            .await
            .map_err(|e| unavailable(&e))?;
        out.map(|item| read::<StoredCampaign>(item).map(|i| (i.campaign, i.progress)).map_err(corrupt)).transpose()
    }

    pub async fn list_by_school(&self, school_id: &str) -> Result<Vec<(Campaign, Progress)>, CampaignStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :school AND begins_with(GSI1SK, :prefix)")
            .expression_attribute_values(":school", s(&keys::school(school_id)))
            .expression_attribute_values(":prefix", s("CAMPAIGN#"));
        let items = query_all(query).await.map_err(|e| unavailable(&e))?;
        items
            .into_iter()
            .map(|item| read::<StoredCampaign>(item).map(|i| (i.campaign, i.progress)))
            .collect::<Result<_, _>>()
            .map_err(corrupt)
    }

    /// Campaigns not yet closed whose closing time is at or before `now`.
    pub async fn due_to_close(&self, now: OffsetDateTime) -> Result<Vec<Campaign>, CampaignStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :open AND GSI2SK <= :until")
            .expression_attribute_values(":open", s(OPEN_CAMPAIGNS))
            // '~' sorts after '#' and every id character: all campaigns closing at `now`.
            .expression_attribute_values(":until", s(&format!("{:012}~", now.unix_timestamp().max(0))));
        let items = query_all(query).await.map_err(|e| unavailable(&e))?;
        items
            .into_iter()
            .map(|item| read::<StoredCampaign>(item).map(|i| i.campaign))
            .collect::<Result<_, _>>()
            .map_err(corrupt)
    }

    /// Every campaign not yet closed (operators' sweeps).
    pub async fn open_campaigns(&self) -> Result<Vec<Campaign>, CampaignStoreError> {
        self.due_to_close(OffsetDateTime::UNIX_EPOCH + time::Duration::days(365 * 1000)).await
    }

    /// Marks the campaign closed and takes it out of the open index. `false` if it already was.
    pub async fn mark_closed(&self, id: &str, now: OffsetDateTime) -> Result<bool, CampaignStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(id)))
            .key("SK", s("PROFILE"))
            .update_expression("SET closed = :yes, closed_at = :now REMOVE GSI2PK, GSI2SK")
            .condition_expression("attribute_exists(PK) AND attribute_exists(GSI2PK)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", AttributeValue::N(now.unix_timestamp().to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// Moves progress counters (`ADD`, so concurrent moves add up).
    pub async fn add_progress(&self, id: &str, counter: &'static str, by: i64) -> Result<(), CampaignStoreError> {
        if by == 0 {
            return Ok(());
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(id)))
            .key("SK", s("PROFILE"))
            .update_expression("ADD #c :by")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#c", counter)
            .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }
}
