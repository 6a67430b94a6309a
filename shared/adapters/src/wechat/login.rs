//! `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`
//! → `{openid, session_key, unionid?}` or `{errcode, errmsg}`.

use super::AppClient;

use serde::Deserialize;
use yunzhao_domain::login::LoginCode;
use yunzhao_domain::{LoginError, OpenId, WeChatIdentity, WeChatLogin};

/// The mini-program's `code2session`.
pub struct WeChatLoginClient(AppClient);

impl WeChatLoginClient {
    pub fn new(app: AppClient) -> Self {
        Self(app)
    }
}

/// The answer as WeChat sends it (often labelled `text/plain`, so parsed from the bytes).
/// `session_key` is read only to be dropped: nothing in the service needs it.
#[derive(Debug, Default, Deserialize)]
struct Code2SessionResponse {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
}

fn interpret(body: &[u8]) -> Result<WeChatIdentity, LoginError> {
    let r: Code2SessionResponse =
        serde_json::from_slice(body).map_err(|_| LoginError::Unreachable("jscode2session answered non-JSON".into()))?;
    match r.errcode {
        0 => {
            let openid = r
                .openid
                .as_deref()
                .and_then(|o| OpenId::parse(o).ok())
                .ok_or_else(|| LoginError::Unreachable("jscode2session answered without a valid openid".into()))?;
            Ok(WeChatIdentity { openid, unionid: r.unionid.filter(|u| !u.is_empty()) })
        }
        40029 => Err(LoginError::InvalidCode),
        40163 => Err(LoginError::CodeUsed),
        45011 => Err(LoginError::RateLimited),
        -1 => Err(LoginError::Busy),
        40013 | 40125 | 41002 | 41004 => Err(LoginError::Misconfigured(r.errcode)),
        errcode => Err(LoginError::Upstream { errcode }),
    }
}

impl WeChatLogin for WeChatLoginClient {
    async fn code_to_session(&self, code: &LoginCode) -> Result<WeChatIdentity, LoginError> {
        let query = [("js_code", code.as_str()), ("grant_type", "authorization_code")];
        // The URL carries the app secret: errors are reported without it.
        let unreachable = |e: reqwest::Error| LoginError::Unreachable(e.without_url().to_string());
        let response = self.0.authorised_get("/sns/jscode2session", &query).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(LoginError::Unreachable(format!(
                "jscode2session answered HTTP {}",
                response.status().as_u16()
            )));
        }
        interpret(&response.bytes().await.map_err(unreachable)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_yields_openid_and_unionid_but_no_session_key() {
        let body = br#"{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE"}"#;
        let identity = interpret(body).expect("success");
        assert_eq!(identity.openid.as_str(), "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
        assert_eq!(identity.unionid.as_deref(), Some("oGZUI0egBJY1zhBYw2KhdUfwVJJE"));
        assert!(!format!("{identity:?}").contains("tiihtNczf5v6AKRyjwEUhQ"));
    }

    #[test]
    fn documented_errcodes_map_to_login_errors() {
        let cases = [
            (40029, LoginError::InvalidCode),
            (40163, LoginError::CodeUsed),
            (45011, LoginError::RateLimited),
            (-1, LoginError::Busy),
            (40125, LoginError::Misconfigured(40125)),
            (40226, LoginError::Upstream { errcode: 40226 }),
        ];
        for (errcode, expected) in cases {
            let body = format!(r#"{{"errcode":{errcode},"errmsg":"x"}}"#);
            assert_eq!(interpret(body.as_bytes()), Err(expected), "errcode {errcode}");
        }
    }

    #[test]
    fn a_success_without_openid_or_a_non_json_answer_is_not_trusted() {
        assert!(matches!(interpret(br#"{"errcode":0,"session_key":"k"}"#), Err(LoginError::Unreachable(_))));
        assert!(matches!(interpret(b"<html>502</html>"), Err(LoginError::Unreachable(_))));
    }
}
