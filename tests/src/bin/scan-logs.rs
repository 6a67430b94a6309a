//! Fails when any log line of a run holds a full resident ID number (one that passes the
//! GB 11643 check), a mainland mobile number, a bearer token, a WeChat session_key field, the
//! value of any of the stack's secrets (from the environment), or any name, phone number or
//! mailing address the tests put on rosters (the harness writes them to
//! `.local/personal-data.txt`, or `PERSONAL_DATA_FILE`). `make test` runs it over every log of
//! the local stack after the suite.

use std::process::ExitCode;

use yunzhao_domain::id_number::IdNumber;

/// Environment variables whose values must never be logged.
const SECRETS: [&str; 6] = [
    "SESSION_SIGNING_KEY",
    "LOOKUP_HMAC_KEY",
    "WECHAT_APP_SECRET",
    "WECHATPAY_MERCHANT_KEY",
    "WECHATPAY_APIV3_KEY",
    "FAKE_WECHATPAY_PLATFORM_KEY",
];

fn main() -> ExitCode {
    let today = time::OffsetDateTime::now_utc().date();
    let secrets: Vec<(&str, String)> = SECRETS
        .iter()
        .filter_map(|name| std::env::var(name).ok().filter(|v| v.len() >= 16).map(|v| (*name, v)))
        .collect();
    let personal_file = std::env::var("PERSONAL_DATA_FILE").unwrap_or_else(|_| ".local/personal-data.txt".to_owned());
    let personal: Vec<String> = std::fs::read_to_string(&personal_file)
        .map(|t| t.lines().map(str::trim).filter(|l| l.chars().count() >= 2).map(str::to_owned).collect())
        .unwrap_or_default();
    let personal: std::collections::BTreeSet<String> = personal.into_iter().collect();
    let mut leaks = 0;
    let mut lines = 0;
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("scan-logs: cannot read {path}");
            return ExitCode::FAILURE;
        };
        for (n, line) in text.lines().enumerate() {
            lines += 1;
            let found =
                id_numbers(line, today) + usize::from(line.contains("Bearer ey") || line.contains("session_key\":"));
            if found > 0 {
                leaks += found;
                eprintln!("scan-logs: {path}:{}: a full ID number, token or session key", n + 1);
            }
            let phones = mobile_numbers(line);
            if phones > 0 {
                leaks += phones;
                eprintln!("scan-logs: {path}:{}: a mobile number", n + 1);
            }
            if let Some(value) = personal.iter().find(|v| line.contains(v.as_str())) {
                leaks += 1;
                eprintln!(
                    "scan-logs: {path}:{}: personal data of the test roster ({} characters)",
                    n + 1,
                    value.chars().count()
                );
            }
            for (name, value) in &secrets {
                // Long values (keys) are looked for by a 24-character slice of their middle.
                let probe =
                    if value.len() > 48 { &value[value.len() / 2..value.len() / 2 + 24] } else { value.as_str() };
                if line.contains(probe) {
                    leaks += 1;
                    eprintln!("scan-logs: {path}:{}: the value of {name}", n + 1);
                }
            }
        }
    }
    println!("scan-logs: {lines} log lines, {} roster values looked for, {leaks} leaks", personal.len());
    if leaks == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Valid ID numbers in `line`: every run of 17 digits and a digit or X that parses.
fn id_numbers(line: &str, today: time::Date) -> usize {
    let b = line.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i + 18 <= b.len() {
        let window = &b[i..i + 18];
        let boundary =
            (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && (i + 18 == b.len() || !b[i + 18].is_ascii_alphanumeric());
        if boundary
            && window[..17].iter().all(u8::is_ascii_digit)
            && std::str::from_utf8(window).is_ok_and(|s| IdNumber::parse(s, today).is_ok())
        {
            count += 1;
            i += 18;
        } else {
            i += 1;
        }
    }
    count
}

/// Mainland mobile numbers in `line`: 11 digits from 13… to 19…, not part of a longer run.
fn mobile_numbers(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len().saturating_sub(10))
        .filter(|&i| {
            let window = &b[i..i + 11];
            (i == 0 || !b[i - 1].is_ascii_alphanumeric())
                && (i + 11 == b.len() || !b[i + 11].is_ascii_alphanumeric())
                && window[0] == b'1'
                && (b'3'..=b'9').contains(&window[1])
                && window.iter().all(u8::is_ascii_digit)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_valid_id_numbers_only() {
        let today = time::macros::date!(2026 - 11 - 23);
        assert_eq!(id_numbers(r#"{"id":"11010519491231002X"}"#, today), 1);
        assert_eq!(id_numbers("masked 1101**********002X", today), 0);
        assert_eq!(id_numbers("not valid 110105194912310021", today), 0);
        assert_eq!(id_numbers("part of a longer number 911010519491231002X1", today), 0);
    }

    #[test]
    fn finds_mobile_numbers_only() {
        assert_eq!(mobile_numbers(r#"{"phone":"13812345678"}"#), 1);
        assert_eq!(mobile_numbers("138****5678 12345678901 1381234567 1700000000000"), 0);
        assert_eq!(mobile_numbers("order YZ13812345678A"), 0);
    }
}
