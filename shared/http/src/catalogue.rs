//! Every error code the API answers with, in one table: its HTTP status, the stable code
//! clients branch on, and the words a person reads (en, zh). Shaped like the photo rules'
//! `Reason`: handlers name a [`Code`], never a string, so a code has one status and one
//! wording wherever it is raised. A case that needs more specific words (which field, which
//! side of the card) keeps the code and status and brings its own: [`crate::ApiError::coded`].

use lambda_http::http::StatusCode;

macro_rules! catalogue {
    ($($variant:ident = ($status:ident, $code:literal, $en:literal, $zh:literal),)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// (en, zh).
            pub fn messages(self) -> (&'static str, &'static str) {
                match self {
                    $(Code::$variant => ($en, $zh),)*
                }
            }
        }
    };
}

catalogue! {
    NotFound = (NOT_FOUND, "not_found", "Nothing is here.", "请求的资源不存在。"),
    Forbidden = (FORBIDDEN, "forbidden", "You may not do this.", "您没有权限执行此操作。"),
    ServiceUnavailable = (SERVICE_UNAVAILABLE, "service_unavailable", "The service is busy; please try again shortly.", "服务繁忙，请稍后重试。"),
    CampaignNotOpen = (CONFLICT, "campaign_not_open", "This collection campaign has not opened yet.", "该采集活动尚未开始。"),
    CampaignClosed = (CONFLICT, "campaign_closed", "This collection campaign has closed.", "该采集活动已结束。"),
    IdCardPhotosRequired = (FORBIDDEN, "id_card_photos_required", "This campaign needs photos of both sides of your ID card: upload them, then verify again.", "本活动需要上传身份证正反面照片：请上传后再次核验身份。"),
    CampaignNotFound = (NOT_FOUND, "campaign_not_found", "There is no such collection campaign.", "没有找到该采集活动。"),
    PaymentUnavailable = (SERVICE_UNAVAILABLE, "payment_unavailable", "WeChat Pay is not answering; please try again in a moment.", "微信支付暂时不可用，请稍后再试。"),
    InternalError = (INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side; please try again.", "服务器出错，请重试。"),
    MissingToken = (UNAUTHORIZED, "missing_token", "Please log in first.", "请先登录。"),
    InvalidToken = (UNAUTHORIZED, "invalid_token", "Your session is not valid; please log in again.", "登录状态无效，请重新登录。"),
    TokenExpired = (UNAUTHORIZED, "token_expired", "Your session has expired; please log in again.", "登录已过期，请重新登录。"),
    NotSignedIn = (UNAUTHORIZED, "not_signed_in", "Please sign in.", "请先登录。"),
    SessionExpired = (UNAUTHORIZED, "session_expired", "Your session has ended; please sign in again.", "登录已过期，请重新扫码登录。"),
    SessionRevoked = (UNAUTHORIZED, "session_revoked", "Your staff access was revoked or changed; sign in again or ask an operator.", "您的员工权限已被撤销或变更，请重新登录或联系运营人员。"),
    CsrfFailed = (FORBIDDEN, "csrf_failed", "This request did not come from the console page; reload it and try again.", "请求校验失败，请刷新页面后重试。"),
    BodyTooLarge = (PAYLOAD_TOO_LARGE, "body_too_large", "The request body is too large.", "请求内容过大。"),
    RosterFileMissing = (NOT_FOUND, "roster_file_missing", "Upload the roster file with the upload link first.", "请先通过上传链接上传名单文件。"),
    ExportInProgress = (CONFLICT, "export_in_progress", "An export of this campaign is being built; it will be listed in a moment.", "该活动正在生成导出文件，请稍后在列表中查看。"),
    TooManyExports = (TOO_MANY_REQUESTS, "too_many_exports", "This campaign has been exported 20 times today; the files already made stay downloadable.", "该活动今天已导出 20 次，已生成的文件仍可下载。"),
    ExportNotFound = (NOT_FOUND, "export_not_found", "No such export.", "导出记录不存在。"),
    OrderNotFound = (NOT_FOUND, "order_not_found", "There is no such order.", "没有找到该订单。"),
    NotInReview = (CONFLICT, "not_in_review", "This photo is not in review (not submitted yet, or already decided).", "照片不在审核中（尚未提交或已审核完成）。"),
    OrderPaid = (CONFLICT, "order_paid", "The student has paid in this campaign: refund the order first, then unbind.", "该学生已在本批次付款：请先退款再解除绑定。"),
    StudentNotBound = (NOT_FOUND, "student_not_bound", "This student is not bound to a roster entry in this campaign.", "该学生在本批次未绑定名单信息。"),
    ChangedMeanwhile = (CONFLICT, "changed_meanwhile", "The student's order or binding changed a moment ago; look at the order again and retry.", "该学生的订单或绑定刚刚发生变化，请刷新后重试。"),
    NoMatch = (NOT_FOUND, "no_match", "We could not find you on the school's list. Please check what you entered and try again.", "未能在学校名单中找到匹配的信息，请核对填写内容后重试。"),
    AlreadyBound = (CONFLICT, "already_bound", "These details are already linked to another WeChat account. Please contact customer service.", "该信息已被其他微信账号绑定，请联系客服处理。"),
    AlreadyVerifiedAsAnother = (CONFLICT, "already_verified_as_another", "Your account is already verified as another student in this campaign. Please contact customer service.", "您的账号已在本活动中绑定了其他学生信息，请联系客服处理。"),
    TooManyAttempts = (TOO_MANY_REQUESTS, "too_many_attempts", "Too many unsuccessful attempts. Please wait and try again later.", "尝试次数过多，请稍后再试。"),
    CardPhotosNotNeeded = (CONFLICT, "card_photos_not_needed", "This campaign does not ask for photos of your ID card.", "本活动不需要上传身份证照片。"),
    VerifyIdentityFirst = (CONFLICT, "verify_identity_first", "Verify your name and ID number for this campaign first; then upload the photos of your ID card.", "请先完成本活动的姓名和身份证号核验，再上传身份证照片。"),
    CardPhotosComplete = (CONFLICT, "card_photos_complete", "Your ID-card photos were checked and your verification is complete; they cannot be changed.", "您的身份证照片已核验，身份验证已完成，不能再更改。"),
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed", "Use GET or POST.", "请求方法不支持。"),
    InvalidLoginCode = (BAD_REQUEST, "invalid_login_code", "The login code is not valid; please log in again.", "登录凭证无效，请重新登录。"),
    LoginCodeUsed = (BAD_REQUEST, "login_code_used", "This login code was already used; please log in again.", "登录凭证已被使用，请重新登录。"),
    TooManyLogins = (TOO_MANY_REQUESTS, "too_many_logins", "Too many people are logging in right now; please try again in a moment.", "当前登录人数过多，请稍后再试。"),
    WechatUnavailable = (SERVICE_UNAVAILABLE, "wechat_unavailable", "WeChat is not answering; please try again in a moment.", "微信服务暂时不可用，请稍后再试。"),
    WechatError = (BAD_GATEWAY, "wechat_error", "WeChat refused the login; please try again later.", "微信登录失败，请稍后再试。"),
    NotVerified = (FORBIDDEN, "not_verified", "Please verify your identity for this campaign first.", "请先完成本活动的身份核验。"),
    OrderExpiredRetry = (CONFLICT, "order_expired_retry", "Your previous payment window lapsed; please try again.", "上一笔支付已超时，请重新下单。"),
    OrderNotCancellable = (CONFLICT, "order_not_cancellable", "Only an unpaid order can be cancelled.", "只有未支付的订单可以取消。"),
    RefundInProgress = (CONFLICT, "refund_in_progress", "This order's refund is being requested right now; look at the order again in a moment.", "该订单正在申请退款，请稍后刷新查看。"),
    NotRefundable = (CONFLICT, "not_refundable", "Only a paid order can be refunded.", "只有已支付的订单可以退款。"),
    TaskNotHeld = (CONFLICT, "task_not_held", "This task is not held by you: it was decided already, or another reviewer holds it, or your hold expired.", "该任务不在您名下：已被处理、由其他审核员持有，或您的领取已过期。"),
    QueueEmpty = (NOT_FOUND, "queue_empty", "No photo is waiting for review in this campaign.", "该批次暂无待审核照片。"),
    HoldingTooMany = (CONFLICT, "holding_too_many", "You hold three photos of this campaign already: decide or skip one first.", "您已领取该批次的三张照片：请先审核或跳过其中一张。"),
    TaskWithdrawn = (CONFLICT, "task_withdrawn", "This photo is no longer in review (the order changed); take the next one.", "该照片已不在审核中（订单已变更），请领取下一张。"),
    InvitationNotPending = (CONFLICT, "invitation_not_pending", "This invitation was used, has expired, or was cancelled already.", "该邀请已被使用、已过期或已取消。"),
    StaffNotFound = (NOT_FOUND, "staff_not_found", "No such staff member.", "该员工不存在。"),
    CannotChangeOwnOperatorRole = (CONFLICT, "cannot_change_own_operator_role", "You cannot remove your own operator role or revoke yourself; ask another operator.", "不能撤销自己的运营权限，请由其他运营人员操作。"),
    NotBound = (CONFLICT, "not_bound", "You are no longer verified for this campaign; verify your identity again or contact customer service.", "您在本活动中的身份已解除绑定，请重新验证身份或联系客服。"),
    WithdrawNotAllowed = (CONFLICT, "withdraw_not_allowed", "This campaign does not let you withdraw a photo from review: contact customer service.", "本活动不支持撤回审核，如需撤回请联系客服。"),
    PhotoBeingReviewed = (CONFLICT, "photo_being_reviewed", "A reviewer is looking at your photo right now: it can no longer be withdrawn.", "审核员正在审核您的照片，无法撤回。"),
    NoChecksLeft = (CONFLICT, "no_checks_left", "You have used all the free photo checks of this order: contact customer service.", "本订单的免费检测次数已用完，请联系客服。"),
    CollectedOffline = (CONFLICT, "collected_offline", "Your school lists you as already collected offline: there is nothing to do online.", "您已在线下完成信息采集，无需再次线上采集。"),
    ConsentRequired = (CONFLICT, "consent_required", "Read and accept the campaign's privacy agreement before verifying your identity.", "请先阅读并同意本活动的《用户隐私协议》，再进行身份核验。"),
    AgreementChanged = (CONFLICT, "agreement_changed", "The privacy agreement has changed: read the current version and accept it.", "《用户隐私协议》已更新，请阅读最新版本后再同意。"),
    NoAgreement = (NOT_FOUND, "no_agreement", "This campaign asks for no privacy agreement.", "本活动无需同意隐私协议。"),
    NothingToSubmit = (CONFLICT, "nothing_to_submit", "There is no checked standard photo to submit: wait for your photo to be processed, or take it again if it did not pass the checks.", "当前没有可提交审核的标准照：请等待照片处理完成；若未通过检测，请重新拍摄上传。"),
    UploadNotAllowed = (CONFLICT, "upload_not_allowed", "This order cannot take a photo now (unpaid, in review, approved, cancelled or refunded).", "当前订单状态不能上传照片（未支付、审核中、已通过、已取消或已退款）。"),
    InvalidRequest = (BAD_REQUEST, "invalid_request", "The request is not valid.", "请求内容不正确。"),
    FieldTooLong = (BAD_REQUEST, "field_too_long", "A field of the request is too long.", "请求中有字段内容过长。"),
    InvalidCampaign = (UNPROCESSABLE_ENTITY, "invalid_campaign", "The campaign's settings are not valid.", "采集活动设置不正确，请检查后重试。"),
    UnreadableRoster = (UNPROCESSABLE_ENTITY, "unreadable_roster", "The roster file cannot be read: upload a CSV or XLSX file.", "名单文件无法读取：请上传 CSV 或 XLSX 文件（不超过 10 MB、5 万行）。"),
    RosterTooLarge = (PAYLOAD_TOO_LARGE, "roster_too_large", "The roster file is over 10 MB or 50,000 lines: split it.", "名单文件超过 10 MB 或 5 万行，请拆分后上传。"),
    IdCardPhotoNotAnImage = (BAD_REQUEST, "id_card_photo_not_an_image", "The photo of your ID card is not an image: take it again.", "身份证照片不是有效的图片，请重新拍摄上传。"),
    InvalidGrant = (BAD_REQUEST, "invalid_grant", "These roles and schools do not go together.", "角色与学校的组合不正确。"),
    SchoolNotFound = (BAD_REQUEST, "school_not_found", "No such school.", "学校不存在。"),
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn each_code_is_one_stable_snake_case_string_raised_under_one_status() {
        let mut seen = HashSet::new();
        for c in Code::ALL {
            let code = c.as_str();
            assert!(seen.insert(code), "{code} twice");
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
            assert!(c.status().is_client_error() || c.status().is_server_error(), "{code}: {}", c.status());
        }
    }

    #[test]
    fn each_code_has_words_in_both_languages() {
        for c in Code::ALL {
            let (en, zh) = c.messages();
            assert!(en.ends_with('.') && en.is_ascii(), "{}: {en}", c.as_str());
            assert!(zh.ends_with('。') && !zh.is_ascii(), "{}: {zh}", c.as_str());
        }
    }

    #[test]
    fn every_code_is_documented_in_the_openapi_description() {
        let spec = include_str!("../../../infra/openapi.yaml");
        let missing: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).filter(|c| !spec.contains(c)).collect();
        assert!(missing.is_empty(), "not in infra/openapi.yaml: {missing:?}");
    }
}
