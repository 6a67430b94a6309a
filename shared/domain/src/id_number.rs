//! Resident identity numbers (公民身份号码, GB 11643-1999): 6-digit region, 8-digit birth date,
//! 3-digit sequence, 1 check character. Parsing checks all of it; the value only ever leaves
//! this type masked (`1101**********002X`) unless a caller asks for it by name.

use std::fmt;

use time::{Date, Month};

/// ISO 7064 MOD 11-2 weights for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for (weighted sum mod 11).
const CHECK: [u8; 11] = *b"10X98765432";
/// First two digits in use (provinces, HK/Macau/Taiwan and residence-permit codes).
const REGIONS: [&str; 36] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83", "91",
];

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters")]
    WrongLength,
    #[error("an ID number is 17 digits and a final digit or X")]
    BadCharacter,
    #[error("the region code is not a Chinese region")]
    UnknownRegion,
    #[error("the birth date in the ID number does not exist")]
    ImpossibleDate,
    #[error("the birth date in the ID number is in the future")]
    FutureDate,
    #[error("the check character does not match (a digit was mistyped)")]
    BadChecksum,
}

impl IdNumber {
    /// Parses an ID number as typed (spaces trimmed, lowercase `x` accepted), checking the
    /// birth date against `today`.
    pub fn parse(input: &str, today: Date) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if s.chars().count() != 18 {
            return Err(IdNumberError::WrongLength);
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::BadCharacter);
        }
        if !REGIONS.contains(&&s[..2]) {
            return Err(IdNumberError::UnknownRegion);
        }
        let birth = birth_date(&s).ok_or(IdNumberError::ImpossibleDate)?;
        if birth > today {
            return Err(IdNumberError::FutureDate);
        }
        if birth.year() < 1900 {
            return Err(IdNumberError::ImpossibleDate);
        }
        if check_char(&b[..17]) != b[17] {
            return Err(IdNumberError::BadChecksum);
        }
        Ok(Self(s))
    }

    /// The full value, for sealing, keyed hashing and the school's export only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `1101**********002X`: enough for a person to recognise their own number (the region
    /// and the last four, as on Chinese receipts and forms).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    pub fn last4(&self) -> &str {
        &self.0[14..]
    }

    pub fn birth_date(&self) -> Date {
        // Parsing proved the date exists.
        birth_date(&self.0).unwrap_or(Date::MIN)
    }
}

/// Masks an identifier shown to staff or students (学号, 考生号, …): at most a third of its
/// characters are shown, never more than 4, split between its start and its end (the end
/// gets the odd one); anything of 4 characters or fewer is all stars. `2022001` → `2*****1`,
/// `20220010123` → `2********23`.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let shown = if chars.len() <= 4 { 0 } else { (chars.len() / 3).min(4) };
    let head = shown / 2;
    let tail = shown - head;
    let stars = chars.len() - shown;
    let (start, end) = (&chars[..head], &chars[chars.len() - tail..]);
    format!("{}{}{}", start.iter().collect::<String>(), "*".repeat(stars), end.iter().collect::<String>())
}

fn birth_date(s: &str) -> Option<Date> {
    let year: i32 = s[6..10].parse().ok()?;
    let month: u8 = s[10..12].parse().ok()?;
    let day: u8 = s[12..14].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The check character for 17 digits.
pub fn check_char(digits: &[u8]) -> u8 {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    /// Display is masked too: a `{}` in a log line cannot leak the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn given_valid_numbers_then_they_parse_with_x_and_digit_checks() {
        // GB 11643-1999's own example (check character X), and one with a digit.
        let id = IdNumber::parse("11010519491231002X", TODAY).expect("valid");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        let id = IdNumber::parse("320106200408151238", TODAY).expect("valid");
        assert_eq!(id.last4(), "1238");
    }

    #[test]
    fn given_x_check_character_in_either_case_then_it_parses_upper() {
        let upper = IdNumber::parse("11010519491231002X", TODAY).expect("valid");
        let lower = IdNumber::parse(" 11010519491231002x ", TODAY).expect("lowercase x accepted");
        assert_eq!(upper, lower);
        assert_eq!(lower.expose(), "11010519491231002X");
    }

    #[test]
    fn given_a_wrong_check_character_then_bad_checksum() {
        assert_eq!(IdNumber::parse("110105194912310021", TODAY), Err(IdNumberError::BadChecksum));
        assert_eq!(IdNumber::parse("320106200408151239", TODAY), Err(IdNumberError::BadChecksum));
    }

    #[test]
    fn given_an_impossible_date_then_impossible_date() {
        // 2023-02-29 does not exist; check character computed so only the date is wrong.
        let mut s = b"11010520230229001".to_vec();
        let c = check_char(&s);
        s.push(c);
        assert_eq!(IdNumber::parse(std::str::from_utf8(&s).expect("ascii"), TODAY), Err(IdNumberError::ImpossibleDate));
        let mut s = b"11010520001301001".to_vec();
        s.push(check_char(&s));
        assert_eq!(IdNumber::parse(std::str::from_utf8(&s).expect("ascii"), TODAY), Err(IdNumberError::ImpossibleDate));
    }

    #[test]
    fn given_a_future_birth_date_then_future_date() {
        let mut s = b"11010520270101001".to_vec();
        s.push(check_char(&s));
        assert_eq!(IdNumber::parse(std::str::from_utf8(&s).expect("ascii"), TODAY), Err(IdNumberError::FutureDate));
    }

    #[test]
    fn given_wrong_lengths_or_characters_then_refused() {
        assert_eq!(IdNumber::parse("11010519491231002", TODAY), Err(IdNumberError::WrongLength));
        assert_eq!(IdNumber::parse("11010519491231002XX", TODAY), Err(IdNumberError::WrongLength));
        assert_eq!(IdNumber::parse("110105194912310", TODAY), Err(IdNumberError::WrongLength));
        assert_eq!(IdNumber::parse("1101051949123100X2", TODAY), Err(IdNumberError::BadCharacter));
        assert_eq!(IdNumber::parse("11010519491231002Y", TODAY), Err(IdNumberError::BadCharacter));
        assert_eq!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ", TODAY), Err(IdNumberError::BadCharacter));
    }

    #[test]
    fn given_an_unknown_region_then_refused() {
        let mut s = b"99010519491231002".to_vec();
        s.push(check_char(&s));
        assert_eq!(IdNumber::parse(std::str::from_utf8(&s).expect("ascii"), TODAY), Err(IdNumberError::UnknownRegion));
    }

    #[test]
    fn masked_everywhere_it_is_printed() {
        let id = IdNumber::parse("11010519491231002X", TODAY).expect("valid");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id}"), "1101**********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(1101**********002X)");
        assert_eq!(mask("abc"), "***");
    }

    #[test]
    fn given_identifiers_of_any_length_then_at_most_a_third_and_never_more_than_four_show() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("ab"), "**");
        assert_eq!(mask("abcd"), "****");
        assert_eq!(mask("abcde"), "****e");
        assert_eq!(mask("2022001"), "2*****1");
        assert_eq!(mask("20220010123"), "2********23");
        assert_eq!(mask("2018001002X0033"), "20***********33");
        for len in 0..40 {
            let id: String = (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let masked = mask(&id);
            let shown = masked.chars().filter(|c| *c != '*').count();
            assert_eq!(masked.chars().count(), len, "same length: {masked}");
            assert!(shown * 3 <= len && shown <= 4, "{len} characters, {shown} shown: {masked}");
        }
        assert_eq!(mask("张三丰李四"), "****四", "characters, not bytes");
    }
}
