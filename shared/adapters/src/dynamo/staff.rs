//! Staff in the table:
//! - `PK=STAFF#<id>`, `SK=ACCOUNT`: the account; `GSI1PK=STAFF_DIRECTORY`, `GSI1SK=STAFF#<id>`
//!   lists members for operators.
//! - `PK=UNIONID#<unionid>`, `SK=UNIONID`: points a unionid at its account (written with the
//!   account in one conditional transaction: one account per person).
//! - `PK=INVITE#<id>`, `SK=INVITE`: an invitation with the SHA-256 of its secret;
//!   `GSI1PK=STAFF_DIRECTORY`, `GSI1SK=INVITE#<created_ms>#<id>`; `expires_at` (TTL, seconds)
//!   a month after it lapses.
//! - `PK=STAFFSESSION#<sha256 of token>`, `SK=SESSION`: a session; `expires_at` (TTL) at its end.
//!
//! Tokens and invitation secrets are never stored, only their hashes.

use aws_lc_rs::digest;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use yunzhao_domain::UserId;
use yunzhao_domain::staff::{
    Invitation, InvitationToken, MemberChange, Secret, StaffAccount, StaffDirectory, StaffSession, StaffStore,
    StaffStoreError, UnionId,
};

use super::keys;
use super::s;
use super::{Stored, cancelled_by_condition, describe, is_condition_failure, query_all, read};

const DIRECTORY: &str = "STAFF_DIRECTORY";
/// Used or lapsed invitations stay listed this long, then TTL removes them.
const INVITATION_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Clone)]
pub struct DynamoStaff {
    client: Client,
    table: String,
}

fn hash(secret: &Secret) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_str().as_bytes()))
}

fn account_pk(id: &UserId) -> String {
    keys::staff(id)
}

fn unionid_pk(u: &UnionId) -> String {
    keys::unionid(u.as_str())
}

fn invite_pk(id: &str) -> String {
    keys::invitation(id)
}

fn session_pk(token: &Secret) -> String {
    keys::staff_session(hash(token))
}

/// `STAFF#<id>`/`ACCOUNT`, in the directory (GSI1).
fn account_item(account: &StaffAccount) -> Stored<&StaffAccount> {
    Stored::new(account_pk(&account.id), "ACCOUNT", "staff", account).gsi1(DIRECTORY, account_pk(&account.id))
}

/// `UNIONID#<u>`/`UNIONID`: whose account a unionid signs in to.
#[derive(Serialize, Deserialize)]
struct Pointer {
    staff_id: UserId,
}

fn pointer_item(account: &StaffAccount) -> Stored<Pointer> {
    Stored::new(unionid_pk(&account.unionid), "UNIONID", "unionid", Pointer { staff_id: account.id.clone() })
}

/// An invitation with the hash of its link's secret; kept until `expires_at` (seconds, the
/// table's TTL).
#[derive(Serialize, Deserialize)]
struct StoredInvitation {
    secret_sha256: String,
    expires_at: i64,
    #[serde(flatten)]
    invitation: Invitation,
}

/// A console session, kept until `expires_at` (seconds, the table's TTL).
#[derive(Serialize, Deserialize)]
struct StoredSession {
    expires_at: i64,
    #[serde(flatten)]
    session: StaffSession,
}

fn unavailable<E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> StaffStoreError {
    StaffStoreError::Unavailable(describe(e))
}

fn corrupt(e: impl std::fmt::Display) -> StaffStoreError {
    StaffStoreError::Corrupt(e.to_string())
}

impl DynamoStaff {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    async fn item(&self, pk: &str, sk: &str) -> Result<Option<super::Item>, StaffStoreError> {
        let out = super::get_item(&self.client, &self.table, pk, sk).await.map_err(|e| unavailable(&e))?;
        Ok(out)
    }

    fn put(&self, item: super::Item, condition: Option<&str>) -> Result<TransactWriteItem, StaffStoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn directory(&self, prefix: &str) -> Result<Vec<super::Item>, StaffStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :d AND begins_with(GSI1SK, :p)")
            .expression_attribute_values(":d", s(DIRECTORY))
            .expression_attribute_values(":p", s(prefix));
        query_all(query).await.map_err(|e| unavailable(&e))
    }
}

impl StaffStore for DynamoStaff {
    async fn by_unionid(&self, unionid: &UnionId) -> Result<Option<StaffAccount>, StaffStoreError> {
        let Some(item) = self.item(&unionid_pk(unionid), "UNIONID").await? else { return Ok(None) };
        let pointer: Pointer = read(item).map_err(corrupt)?;
        self.get(&pointer.staff_id).await
    }

    async fn get(&self, id: &UserId) -> Result<Option<StaffAccount>, StaffStoreError> {
        let item = self.item(&account_pk(id), "ACCOUNT").await?;
        item.map(|i| read(i).map_err(corrupt)).transpose()
    }

    async fn create(&self, account: &StaffAccount) -> Result<bool, StaffStoreError> {
        let first = "attribute_not_exists(PK)";
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.put(pointer_item(account).item().map_err(corrupt)?, Some(first))?)
            .transact_items(self.put(account_item(account).item().map_err(corrupt)?, Some(first))?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if cancelled_by_condition(&e) => Ok(false),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn invitation(&self, token: &InvitationToken) -> Result<Option<Invitation>, StaffStoreError> {
        let Some(item) = self.item(&invite_pk(&token.id), "INVITE").await? else { return Ok(None) };
        let stored: StoredInvitation = read(item).map_err(corrupt)?;
        // Compared as a secret: the hash of what the link carries against the stored hash.
        let given = Secret::parse(&hash(&token.secret)).map_err(corrupt)?;
        Ok(given.matches(&stored.secret_sha256).then_some(stored.invitation))
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        account: &StaffAccount,
        new: bool,
        now_ms: i64,
    ) -> Result<bool, StaffStoreError> {
        let used = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&invite_pk(&invitation.id)))
            .key("SK", s("INVITE"))
            .update_expression("SET used_by = :by, used_at_ms = :now")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(used_by) AND cancelled = :no AND expires_at_ms > :now",
            )
            .expression_attribute_values(":by", s(account.id.as_str()))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(corrupt)?;
        let account_item = account_item(account).item().map_err(corrupt)?;
        let mut tx =
            self.client.transact_write_items().transact_items(TransactWriteItem::builder().update(used).build());
        if new {
            let first = "attribute_not_exists(PK)";
            tx = tx
                .transact_items(self.put(pointer_item(account).item().map_err(corrupt)?, Some(first))?)
                .transact_items(self.put(account_item, Some(first))?);
        } else {
            // A revoked member invited back: only while nobody changed the account meanwhile.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(account_item))
                .condition_expression("attribute_exists(PK) AND #st = :revoked")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":revoked", s("revoked"))
                .build()
                .map_err(corrupt)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match tx.send().await {
            Ok(_) => Ok(true),
            Err(e) if cancelled_by_condition(&e) => Ok(false),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn record_sign_in(&self, id: &UserId, name: &str, now_ms: i64) -> Result<(), StaffStoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&account_pk(id)))
            .key("SK", s("ACCOUNT"))
            .update_expression("SET last_sign_in_at_ms = :now, #n = :name")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#n", "name")
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":name", s(name))
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn put_session(&self, token: &Secret, session: &StaffSession) -> Result<(), StaffStoreError> {
        let stored = StoredSession { expires_at: session.expires_at_ms / 1000, session: session.clone() };
        let item = Stored::new(session_pk(token), "SESSION", "staff_session", stored);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.item().map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn session(&self, token: &Secret) -> Result<Option<StaffSession>, StaffStoreError> {
        let item = self.item(&session_pk(token), "SESSION").await?;
        item.map(|i| read::<StoredSession>(i).map(|s| s.session).map_err(corrupt)).transpose()
    }

    async fn touch_session(&self, token: &Secret, now_ms: i64) -> Result<(), StaffStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&session_pk(token)))
            .key("SK", s("SESSION"))
            .update_expression("SET last_seen_at_ms = :now")
            .condition_expression("attribute_exists(PK) AND last_seen_at_ms < :now")
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        match result {
            // Signed out meanwhile, or a later request touched it first: nothing to do.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(unavailable(&e)),
            Ok(_) => Ok(()),
        }
    }

    async fn delete_session(&self, token: &Secret) -> Result<(), StaffStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(&session_pk(token)))
            .key("SK", s("SESSION"))
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }
}

impl StaffDirectory for DynamoStaff {
    async fn members(&self) -> Result<Vec<StaffAccount>, StaffStoreError> {
        let items = self.directory("STAFF#").await?;
        items.into_iter().map(|i| read(i).map_err(corrupt)).collect()
    }

    async fn update_member(&self, id: &UserId, change: &MemberChange) -> Result<Option<StaffAccount>, StaffStoreError> {
        let list = |v: &[String]| AttributeValue::L(v.iter().map(|x| s(x)).collect());
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&account_pk(id)))
            .key("SK", s("ACCOUNT"))
            .condition_expression("attribute_exists(PK)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        // Each change writes only its own attributes: a grant edit never touches the status.
        let update = match change {
            MemberChange::Grant(grant) => {
                let roles: Vec<String> = grant
                    .roles
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)))
                    .collect();
                update
                    .update_expression("SET #r = :r, school_ids = :s")
                    .expression_attribute_names("#r", "roles")
                    .expression_attribute_values(":r", list(&roles))
                    .expression_attribute_values(":s", list(&grant.school_ids))
            }
            MemberChange::Revoke { at_ms } => update
                .update_expression("SET #st = :revoked, sessions_since_ms = :at")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":revoked", s("revoked"))
                .expression_attribute_values(":at", AttributeValue::N(at_ms.to_string())),
        };
        match update.send().await {
            Ok(out) => {
                let item = out.attributes.ok_or_else(|| corrupt("update returned no attributes"))?;
                Ok(Some(read(item).map_err(corrupt)?))
            }
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn put_invitation(&self, invitation: &Invitation, secret: &Secret) -> Result<(), StaffStoreError> {
        let stored = StoredInvitation {
            secret_sha256: hash(secret),
            expires_at: (invitation.expires_at_ms + INVITATION_KEPT_MS) / 1000,
            invitation: invitation.clone(),
        };
        let by_created = keys::invitation_by_created(invitation.created_at_ms, &invitation.id);
        let item = Stored::new(invite_pk(&invitation.id), "INVITE", "invitation", stored).gsi1(DIRECTORY, by_created);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.item().map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn invitations(&self) -> Result<Vec<Invitation>, StaffStoreError> {
        let items = self.directory("INVITE#").await?;
        let mut all: Vec<Invitation> = items
            .into_iter()
            .map(|i| read::<StoredInvitation>(i).map(|x| x.invitation).map_err(corrupt))
            .collect::<Result<_, _>>()?;
        all.reverse();
        Ok(all)
    }

    async fn cancel_invitation(&self, id: &str, now_ms: i64) -> Result<bool, StaffStoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&invite_pk(id)))
            .key("SK", s("INVITE"))
            .update_expression("SET cancelled = :yes")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(used_by) AND cancelled = :no AND expires_at_ms > :now",
            )
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn unknown_schools(&self, school_ids: &[String]) -> Result<Vec<String>, StaffStoreError> {
        let mut unknown = Vec::new();
        for id in school_ids {
            if self.item(&keys::school(id), "PROFILE").await?.is_none() {
                unknown.push(id.clone());
            }
        }
        Ok(unknown)
    }
}
