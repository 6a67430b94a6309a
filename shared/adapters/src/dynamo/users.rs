//! Users in the table:
//! - `PK=USER#<user_id>`, `SK=PROFILE`: the user.
//! - `PK=OPENID#<openid>`, `SK=OPENID`: points an openid at its user, so one openid can only
//!   ever create one user (both items are written in one conditional transaction).
//! - `PK=USER#<user_id>`, `SK=CONSENT#<campaign>#<version>`: a privacy agreement accepted.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yunzhao_domain::identity::{Consent, Consents};
use yunzhao_domain::{OpenId, User, UserId, UserRepo, UserRepoError, WeChatIdentity};

use super::keys;
use super::s;
use super::{Stored, describe, is_condition_failure, read};

#[derive(Clone)]
pub struct DynamoUsers {
    client: Client,
    table: String,
}

/// `OPENID#<o>`/`OPENID`: the user an openid logs in as.
#[derive(Serialize, Deserialize)]
struct OpenIdPointer {
    user_id: UserId,
}

fn user_pk(id: &UserId) -> String {
    keys::user(id)
}

fn openid_pk(openid: &OpenId) -> String {
    keys::openid(openid.as_str())
}

const PROFILE: &str = "PROFILE";
const OPENID: &str = "OPENID";

fn unavailable<E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> UserRepoError {
    UserRepoError::Unavailable(describe(e))
}

fn corrupt(e: impl std::fmt::Display) -> UserRepoError {
    UserRepoError::Corrupt(e.to_string())
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn user_id_for(&self, openid: &OpenId) -> Result<Option<UserId>, UserRepoError> {
        let out = super::get_item(&self.client, &self.table, &openid_pk(openid), OPENID)
            .await
            .map_err(|e| unavailable(&e))?;
        match out {
            None => Ok(None),
            Some(item) => Ok(Some(read::<OpenIdPointer>(item).map_err(corrupt)?.user_id)),
        }
    }

    /// Counts another login of an existing user.
    async fn touch(&self, id: &UserId, identity: &WeChatIdentity, now: OffsetDateTime) -> Result<User, UserRepoError> {
        let now = now.format(&Rfc3339).map_err(corrupt)?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&user_pk(id)))
            .key("SK", s(PROFILE))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(&now))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::AllNew);
        update = match &identity.unionid {
            Some(unionid) => update
                .update_expression("SET last_login_at = :now, unionid = :u ADD login_count :one")
                .expression_attribute_values(":u", s(unionid)),
            None => update.update_expression("SET last_login_at = :now ADD login_count :one"),
        };
        let out = update.send().await.map_err(|e| {
            if is_condition_failure(&e) {
                corrupt(format!("openid points at missing user {id}"))
            } else {
                unavailable(&e)
            }
        })?;
        let item = out.attributes.ok_or_else(|| corrupt("update returned no attributes"))?;
        read(item).map_err(corrupt)
    }

    /// Creates the user and its openid pointer together; `Ok(None)` when another login of
    /// the same openid won the race.
    async fn create(&self, user: &User) -> Result<Option<()>, UserRepoError> {
        let user_item = Stored::new(user_pk(&user.id), PROFILE, "user", user);
        let pointer =
            Stored::new(openid_pk(&user.openid), OPENID, "openid", OpenIdPointer { user_id: user.id.clone() });
        let put = |item| -> Result<TransactWriteItem, UserRepoError> {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(corrupt)?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(pointer.item().map_err(corrupt)?)?)
            .transact_items(put(user_item.item().map_err(corrupt)?)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(())),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

impl UserRepo for DynamoUsers {
    async fn record_login(&self, identity: &WeChatIdentity, now: OffsetDateTime) -> Result<User, UserRepoError> {
        if let Some(id) = self.user_id_for(&identity.openid).await? {
            return self.touch(&id, identity, now).await;
        }
        let user = User::first_login(identity, now);
        if self.create(&user).await?.is_some() {
            return Ok(user);
        }
        // Another login of the same person created the user first: count this one on it.
        let id = self
            .user_id_for(&identity.openid)
            .await?
            .ok_or_else(|| UserRepoError::Unavailable("user creation raced and lost, pointer missing".into()))?;
        self.touch(&id, identity, now).await
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, UserRepoError> {
        let out =
            super::get_item(&self.client, &self.table, &user_pk(id), PROFILE).await.map_err(|e| unavailable(&e))?;
        out.map(|item| read(item).map_err(corrupt)).transpose()
    }
}

/// `USER#<u>`/`CONSENT#<campaign>#<version>`: each version of a campaign's privacy agreement
/// the user accepted, and when (kept: what operators show when asked who consented to what).
#[derive(Clone)]
pub struct DynamoConsents {
    client: Client,
    table: String,
}

impl DynamoConsents {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Every consent the user gave, in any campaign.
    pub async fn of(&self, user: &UserId) -> Result<Vec<Consent>, yunzhao_domain::StoreError> {
        let query = super::query_prefix(&self.client, &self.table, &keys::user(user), "CONSENT#");
        let items = super::query_all(query).await.map_err(|e| super::unavailable(&e))?;
        items.into_iter().map(|i| read(i).map_err(super::corrupt)).collect()
    }
}

impl Consents for DynamoConsents {
    async fn accepted(
        &self,
        user: &UserId,
        cid: &str,
        version: &str,
    ) -> Result<Option<Consent>, yunzhao_domain::StoreError> {
        let (pk, sk) = (keys::user(user), keys::consent(cid, version));
        let item = super::get_item(&self.client, &self.table, &pk, &sk).await.map_err(|e| super::unavailable(&e))?;
        item.map(|i| read(i).map_err(super::corrupt)).transpose()
    }

    async fn record(&self, user: &UserId, consent: &Consent) -> Result<(), yunzhao_domain::StoreError> {
        let sk = keys::consent(&consent.campaign_id, &consent.version);
        let item = Stored::new(keys::user(user), sk, "consent", consent).item().map_err(super::corrupt)?;
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        // The first acceptance of a version is the one kept.
        match put.condition_expression("attribute_not_exists(PK)").send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(super::unavailable(&e)),
        }
    }
}
