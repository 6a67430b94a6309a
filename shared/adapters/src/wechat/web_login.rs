//! WeChat's website QR login (open platform 网站应用):
//! `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
//! → `{access_token, expires_in, refresh_token, openid, scope, unionid}` or `{errcode, errmsg}`.
//! then `GET /sns/userinfo?access_token&openid` for the nickname (best effort: a sign-in
//! does not fail for want of a name). Only the openid, unionid and nickname are kept; the
//! access and refresh tokens are dropped here.

use super::AppClient;

use serde::Deserialize;
use yunzhao_domain::staff::{SignInError, UnionId, WeChatWebLogin, WebCode, WebIdentity};

/// The page people scan on: `{OPEN_BASE}/connect/qrconnect?…`.
pub const OPEN_BASE: &str = "https://open.weixin.qq.com";

/// The open platform's website login (`/sns/oauth2/access_token`, `/sns/userinfo`).
pub struct WeChatWebLoginClient(AppClient);

impl WeChatWebLoginClient {
    pub fn new(app: AppClient) -> Self {
        Self(app)
    }
}

#[derive(Debug, Default, Deserialize)]
struct AccessTokenResponse {
    access_token: Option<String>,
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo {
    nickname: Option<String>,
    #[serde(default)]
    errcode: i64,
}

/// The identity, and the access token to ask for the nickname with.
fn interpret(body: &[u8]) -> Result<(WebIdentity, Option<String>), SignInError> {
    let r: AccessTokenResponse = serde_json::from_slice(body)
        .map_err(|_| SignInError::Unavailable("oauth2/access_token answered non-JSON".into()))?;
    match r.errcode {
        0 => {
            let openid = r
                .openid
                .filter(|o| !o.is_empty())
                .ok_or_else(|| SignInError::Unavailable("oauth2/access_token answered without an openid".into()))?;
            let unionid = r.unionid.as_deref().and_then(|u| UnionId::parse(u).ok());
            Ok((WebIdentity { openid, unionid, nickname: String::new() }, r.access_token))
        }
        40029 => Err(SignInError::InvalidCode),
        40163 => Err(SignInError::CodeUsed),
        42003 => Err(SignInError::CodeExpired),
        -1 => Err(SignInError::Unavailable("WeChat busy (-1)".into())),
        40013 | 40125 | 41002 | 41004 => Err(SignInError::Misconfigured(r.errcode)),
        errcode => Err(SignInError::Unavailable(format!("errcode {errcode}"))),
    }
}

impl WeChatWebLogin for WeChatWebLoginClient {
    async fn exchange(&self, code: &WebCode) -> Result<WebIdentity, SignInError> {
        let query = [("code", code.as_str()), ("grant_type", "authorization_code")];
        // The URL carries the app secret: errors are reported without it.
        let unreachable = |e: reqwest::Error| SignInError::Unavailable(e.without_url().to_string());
        let response = self.0.authorised_get("/sns/oauth2/access_token", &query).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(SignInError::Unavailable(format!("HTTP {}", response.status().as_u16())));
        }
        let (mut identity, access_token) = interpret(&response.bytes().await.map_err(unreachable)?)?;
        if let Some(token) = access_token {
            identity.nickname = self.nickname(&token, &identity.openid).await.unwrap_or_default();
        }
        Ok(identity)
    }
}

impl WeChatWebLoginClient {
    async fn nickname(&self, access_token: &str, openid: &str) -> Option<String> {
        let query = [("access_token", access_token), ("openid", openid), ("lang", "zh_CN")];
        let response = self.0.get("/sns/userinfo", &query).send().await.ok()?;
        let info: UserInfo = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
        (info.errcode == 0).then_some(info.nickname).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_answer_gives_openid_and_unionid_and_drops_the_tokens() {
        let body = br#"{"access_token":"ACCESS","expires_in":7200,"refresh_token":"R","openid":"oWeb123","scope":"snsapi_login","unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL"}"#;
        let (id, token) = interpret(body).expect("identity");
        assert_eq!((id.openid.as_str(), token.as_deref()), ("oWeb123", Some("ACCESS")));
        assert_eq!(id.unionid.map(|u| u.as_str().to_owned()).as_deref(), Some("o6_bmasdasdsad6_2sgVt7hMZOPfL"));
    }

    #[test]
    fn wechat_errcodes_map_to_what_the_person_can_do() {
        let case = |code: i64| interpret(format!(r#"{{"errcode":{code},"errmsg":"x"}}"#).as_bytes()).map(|(i, _)| i);
        assert_eq!(case(40029), Err(SignInError::InvalidCode));
        assert_eq!(case(40163), Err(SignInError::CodeUsed));
        assert_eq!(case(42003), Err(SignInError::CodeExpired));
        assert_eq!(case(40125), Err(SignInError::Misconfigured(40125)));
        assert!(matches!(case(-1), Err(SignInError::Unavailable(_))));
    }

    #[test]
    fn an_answer_without_unionid_is_kept_as_such() {
        let (id, _) = interpret(br#"{"openid":"oWeb123","scope":"snsapi_login"}"#).expect("identity");
        assert_eq!(id.unionid, None);
    }
}
