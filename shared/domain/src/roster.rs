//! The school's list of students for a campaign, as imported from a spreadsheet: each row is
//! validated on its own so one bad line never blocks the others, and the report names lines.

use std::collections::HashMap;

use serde::Serialize;
use time::Date;

use crate::campaign::IdentityMode;
use crate::id_number::{IdNumber, mask};

/// Longest cell of any column, read or ignored: nothing a roster holds is longer, and what is
/// longer never reaches the store (DynamoDB refuses items over 400 KB).
pub const MAX_CELL_CHARS: usize = 256;
/// Longest line, all its cells together.
pub const MAX_LINE_CHARS: usize = 4096;
/// Longest 院系, 专业 or 班级.
pub const MAX_LABEL_CHARS: usize = 64;

/// What makes a spreadsheet read a cell as a formula when it starts the cell (the OWASP
/// CSV-injection list): `=HYPERLINK(…)` in a name would be a live link in the school's Excel.
pub const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub fn starts_like_formula(s: &str) -> bool {
    s.starts_with(FORMULA_START)
}

/// Characters that change how the text around them is shown without being seen: bidi
/// embeddings, overrides, isolates and marks (`张三\u{202E}gpj.exe` is shown `张三exe.jpg`),
/// zero-width spaces and joiners, the BOM, blank fillers and other format characters. A
/// roster's text holds none of them.
fn hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers, shown blank
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // bidi isolates, deprecated format characters
            | '\u{FEFF}' // BOM, zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{1D173}'..='\u{1D17A}' // musical formatting
            | '\u{E0000}'..='\u{E007F}' // tags
    )
}

/// Letters of the scripts that are shaped with zero-width (non-)joiners: Arabic (Uyghur,
/// Kazakh names), Syriac, N'Ko, the Indic scripts, Mongolian, Phags-pa.
fn shaped_by_joiners(c: char) -> bool {
    c.is_alphabetic()
        && matches!(
            c,
            '\u{0600}'..='\u{08FF}'
                | '\u{0900}'..='\u{0DFF}'
                | '\u{1800}'..='\u{18AF}'
                | '\u{A840}'..='\u{A87F}'
                | '\u{FB50}'..='\u{FDFF}'
                | '\u{FE70}'..='\u{FEFC}'
        )
}

/// Text a spreadsheet shows as it is: no control character, nothing hidden. A zero-width
/// joiner or non-joiner is kept only where it joins two letters of a script shaped by it; a
/// lone one (at an end, next to a space, between Chinese characters) is refused.
fn plain_text(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().all(|(i, &c)| match c {
        '\u{200C}' | '\u{200D}' => {
            i > 0 && chars.get(i + 1).is_some_and(|&next| shaped_by_joiners(chars[i - 1]) && shaped_by_joiners(next))
        }
        c => !c.is_control() && !hidden(c),
    })
}

/// A person's name as typed, normalised for comparison: outer spaces trimmed, inner runs of
/// spaces collapsed, the variants of the middle dot in minority names unified to `·`. Refused:
/// digits (an ID number in the name column), control and hidden characters, a formula start,
/// more than 50 characters. Names come from rosters and from students verifying themselves
/// (`identity::Claim::from_input`), both through here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(s: &str) -> Option<Self> {
        let unified: String =
            s.chars().map(|c| if matches!(c, '•' | '・' | '‧' | '．' | '.' | '·') { '·' } else { c }).collect();
        let name = unified.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = name.chars().count();
        let plausible = (1..=50).contains(&n)
            && plain_text(&name)
            && !starts_like_formula(&name)
            && !name.chars().any(|c| c.is_ascii_digit());
        plausible.then_some(Self(name))
    }

    /// A name as an earlier import stored it, taken as it is: the rules may have tightened
    /// since, and a stored entry stays readable (it can only match a claim that parses).
    pub fn stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 院系, 专业 or 班级 as written (trimmed already), if it is plain text of at most
/// [`MAX_LABEL_CHARS`] that does not start like a formula.
fn label(s: &str) -> Option<String> {
    let ok = s.chars().count() <= MAX_LABEL_CHARS && plain_text(s) && !starts_like_formula(s);
    ok.then(|| s.to_owned())
}

/// A validated roster row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub name: PersonName,
    pub id_number: IdNumber,
    pub student_no: Option<String>,
    /// 准考证号 (self-study examinations).
    pub exam_ticket_no: Option<String>,
    pub collection_code: Option<String>,
    pub department: Option<String>,
    pub major: Option<String>,
    pub class: Option<String>,
    /// 已经线下完成信息采集: this student is not collected online (no binding, no order).
    pub collected_offline: bool,
}

impl RosterRow {
    /// 考生号: the student number (or 准考证号 when given) and the ID number's last 4.
    pub fn exam_number(&self) -> Option<String> {
        let base = self.exam_ticket_no.as_ref().or(self.student_no.as_ref())?;
        Some(format!("{base}{}", self.id_number.last4()))
    }

    /// What the student sees of their own entry.
    pub fn masked_view(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name.as_str(),
            "id_number": self.id_number.masked(),
            "student_no": self.student_no.as_deref().map(mask),
            "department": self.department,
            "major": self.major,
            "class": self.class,
        })
    }
}

/// One problem with one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: usize,
    pub column: &'static str,
    pub code: &'static str,
    pub message: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Name,
    IdNumber,
    StudentNo,
    ExamTicketNo,
    CollectionCode,
    Department,
    Major,
    Class,
    CollectedOffline,
}

impl Column {
    fn label(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::IdNumber => "身份证号",
            Column::StudentNo => "学号",
            Column::ExamTicketNo => "准考证号",
            Column::CollectionCode => "图像采集码",
            Column::Department => "院系",
            Column::Major => "专业",
            Column::Class => "班级",
            Column::CollectedOffline => "已线下采集",
        }
    }

    /// Header spellings schools use, compared after trimming and lower-casing.
    fn from_header(h: &str) -> Option<Self> {
        let h = h.trim().trim_start_matches('\u{feff}').to_lowercase().replace([' ', '_'], "");
        Some(match h.as_str() {
            "姓名" | "name" => Column::Name,
            "身份证号" | "身份证号码" | "证件号码" | "公民身份号码" | "idnumber" | "idno" => {
                Column::IdNumber
            }
            "学号" | "studentno" | "studentnumber" => Column::StudentNo,
            "准考证号" | "examticketno" => Column::ExamTicketNo,
            "图像采集码" | "采集码" | "collectioncode" => Column::CollectionCode,
            "院系" | "学院" | "department" => Column::Department,
            "专业" | "major" => Column::Major,
            "班级" | "class" => Column::Class,
            "已线下采集" | "线下采集" | "已线下完成采集" | "collectedoffline" => {
                Column::CollectedOffline
            }
            _ => return None,
        })
    }
}

/// Columns every row needs in each identity mode (the ID number always: exports are named by
/// it and it identifies the entry).
fn required(mode: IdentityMode) -> &'static [Column] {
    match mode {
        IdentityMode::NameIdNumber => &[Column::Name, Column::IdNumber],
        IdentityMode::ExamNumber => &[Column::Name, Column::IdNumber],
        IdentityMode::CollectionCode => &[Column::Name, Column::IdNumber, Column::CollectionCode],
    }
}

/// Whether `s` is a 学号 as rosters take them (letters, digits and `-`, at most 32).
pub fn is_student_no(s: &str) -> bool {
    short_code(s, 1, 32)
}

fn short_code(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Validates a sheet: `rows[0]` is the header. Returns the good rows and an error per bad
/// line (a file-level problem is reported on line 1).
pub fn validate_sheet(rows: &[Vec<String>], mode: IdentityMode, today: Date) -> (Vec<RosterRow>, Vec<RowError>) {
    let Some(header) = rows.first() else {
        return (
            Vec::new(),
            vec![RowError { line: 1, column: "", code: "empty_file", message: "The file has no rows." }],
        );
    };
    let columns: HashMap<Column, usize> =
        header.iter().enumerate().filter_map(|(i, h)| Column::from_header(h).map(|c| (c, i))).collect();
    let mut errors: Vec<RowError> = required(mode)
        .iter()
        .filter(|c| !columns.contains_key(c))
        .map(|c| RowError {
            line: 1,
            column: c.label(),
            code: "missing_column",
            message: "A required column is missing.",
        })
        .collect();
    if mode == IdentityMode::ExamNumber
        && !columns.contains_key(&Column::StudentNo)
        && !columns.contains_key(&Column::ExamTicketNo)
    {
        errors.push(RowError {
            line: 1,
            column: "学号",
            code: "missing_column",
            message: "考生号 mode needs a 学号 or 准考证号 column.",
        });
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }

    let mut good = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_codes: HashMap<String, usize> = HashMap::new();
    let mut seen_student_nos: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let line = i + 1;
        let cell = |c: Column| columns.get(&c).and_then(|&i| row.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty());
        if row.iter().all(|c| c.trim().is_empty()) {
            continue; // blank lines at the end of spreadsheets
        }
        // Before anything is read: a line with a cell too long for any column (one of 500 KB
        // once stopped an import half-way, in the store) is reported and goes no further.
        let column_at = |i: usize| columns.iter().find(|&(_, &at)| at == i).map_or("", |(c, _)| c.label());
        if let Some(i) = row.iter().position(|c| c.chars().count() > MAX_CELL_CHARS) {
            errors.push(RowError {
                line,
                column: column_at(i),
                code: "cell_too_long",
                message: "A cell of this line is longer than 256 characters.",
            });
            continue;
        }
        if row.iter().map(|c| c.chars().count()).sum::<usize>() > MAX_LINE_CHARS {
            errors.push(RowError {
                line,
                column: "",
                code: "line_too_long",
                message: "This line is longer than 4096 characters in all.",
            });
            continue;
        }
        let mut fail =
            |column: Column, code, message| errors.push(RowError { line, column: column.label(), code, message });
        let Some(name) = cell(Column::Name).and_then(PersonName::parse) else {
            fail(Column::Name, "invalid_name", "The name is missing or not a name.");
            continue;
        };
        let id_number = match cell(Column::IdNumber).map(|s| IdNumber::parse(s, today)) {
            Some(Ok(id)) => id,
            None => {
                fail(Column::IdNumber, "missing_id_number", "The ID number is missing.");
                continue;
            }
            Some(Err(_)) => {
                fail(
                    Column::IdNumber,
                    "invalid_id_number",
                    "The ID number is not valid (length, date or check character).",
                );
                continue;
            }
        };
        let student_no = cell(Column::StudentNo).map(str::to_owned);
        let exam_ticket_no = cell(Column::ExamTicketNo).map(str::to_owned);
        if student_no.as_deref().is_some_and(|s| !short_code(s, 1, 32)) {
            fail(
                Column::StudentNo,
                "invalid_student_no",
                "The student number has characters other than letters and digits.",
            );
            continue;
        }
        if exam_ticket_no.as_deref().is_some_and(|s| !short_code(s, 1, 32)) {
            fail(
                Column::ExamTicketNo,
                "invalid_exam_ticket_no",
                "The 准考证号 has characters other than letters and digits.",
            );
            continue;
        }
        if mode == IdentityMode::ExamNumber && student_no.is_none() && exam_ticket_no.is_none() {
            fail(Column::StudentNo, "missing_student_no", "考生号 mode needs the 学号 or 准考证号.");
            continue;
        }
        let collection_code = cell(Column::CollectionCode).map(|s| s.to_ascii_uppercase());
        match (&collection_code, mode) {
            (None, IdentityMode::CollectionCode) => {
                fail(Column::CollectionCode, "missing_collection_code", "The 图像采集码 is missing.");
                continue;
            }
            (Some(code), _) if !short_code(code, 4, 32) => {
                fail(Column::CollectionCode, "invalid_collection_code", "The 图像采集码 is not valid.");
                continue;
            }
            _ => {}
        }
        let label_of = |column| cell(column).map(|text| label(text).ok_or(column)).transpose();
        let (department, major, class) =
            match (label_of(Column::Department), label_of(Column::Major), label_of(Column::Class)) {
                (Ok(department), Ok(major), Ok(class)) => (department, major, class),
                (Err(column), ..) | (_, Err(column), _) | (.., Err(column)) => {
                    let (code, message) = match column {
                        Column::Department => (
                            "invalid_department",
                            "The 院系 must be plain text of at most 64 characters, not starting with = + - or @.",
                        ),
                        Column::Major => (
                            "invalid_major",
                            "The 专业 must be plain text of at most 64 characters, not starting with = + - or @.",
                        ),
                        _ => (
                            "invalid_class",
                            "The 班级 must be plain text of at most 64 characters, not starting with = + - or @.",
                        ),
                    };
                    fail(column, code, message);
                    continue;
                }
            };
        let Some(collected_offline) = offline_mark(cell(Column::CollectedOffline)) else {
            fail(Column::CollectedOffline, "invalid_collected_offline", "已线下采集 is 是 or 否 (or empty: 否).");
            continue;
        };
        if let Some(first) = seen_ids.insert(id_number.expose().to_owned(), line) {
            let _ = first;
            fail(Column::IdNumber, "duplicate_id_number", "This ID number is already on an earlier line.");
            continue;
        }
        if let Some(code) = &collection_code
            && seen_codes.insert(code.clone(), line).is_some()
        {
            fail(Column::CollectionCode, "duplicate_collection_code", "This 图像采集码 is already on an earlier line.");
            continue;
        }
        // 学号 find students (customer service, progress search): one per student.
        if let Some(no) = &student_no
            && seen_student_nos.insert(no.to_ascii_uppercase(), line).is_some()
        {
            fail(Column::StudentNo, "duplicate_student_no", "This 学号 is already on an earlier line.");
            continue;
        }
        good.push(RosterRow {
            line,
            name,
            id_number,
            student_no,
            exam_ticket_no,
            collection_code,
            department,
            major,
            class,
            collected_offline,
        });
    }
    (good, errors)
}

/// A 已线下采集 cell: yes, no (empty is no), or not a mark.
fn offline_mark(cell: Option<&str>) -> Option<bool> {
    match cell.map(str::to_lowercase).as_deref() {
        None | Some("否" | "no" | "n" | "0" | "false") => Some(false),
        Some("是" | "yes" | "y" | "1" | "true" | "已采集") => Some(true),
        Some(_) => None,
    }
}

/// A roster line as school staff see it in progress lists: masked identifiers, nothing opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct RosterLine {
    pub entry_id: String,
    pub name: String,
    #[serde(rename(deserialize = "id_masked"))]
    pub id_number: String,
    #[serde(default, rename(deserialize = "student_no_masked"))]
    pub student_no: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub major: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default, skip_serializing)]
    pub bound_user_id: Option<String>,
    /// Collected offline: not expected online.
    #[serde(default)]
    pub collected_offline: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn sheet(lines: &[&[&str]]) -> Vec<Vec<String>> {
        lines.iter().map(|l| l.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn given_good_and_bad_rows_then_good_ones_pass_and_bad_lines_are_named() {
        let rows = sheet(&[
            &["\u{feff}姓名", "身份证号", "学号"],
            &["张三", "11010519491231002x", "2018001"],
            &["李四", "110105194912310021", "2018002"],
            &["", "320106200408151238", "2018003"],
            &["王五", "320106200408151238", "2018004"],
            &["赵六", "320106200408151238", "2018005"],
            &["", "", ""],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(good[0].id_number.expose(), "11010519491231002X");
        let named: Vec<_> = errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(named, vec![(3, "invalid_id_number"), (4, "invalid_name"), (6, "duplicate_id_number")]);
    }

    #[test]
    fn a_line_marked_collected_offline_is_read_as_such_and_a_bad_mark_is_named() {
        let rows = sheet(&[
            &["姓名", "身份证号", "已线下采集"],
            &["张三", "11010519491231002x", "是"],
            &["李四", "320106200408151238", ""],
            &["王五", "110105198001010016", "也许"],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert_eq!(good.iter().map(|r| (r.line, r.collected_offline)).collect::<Vec<_>>(), [(2, true), (3, false)]);
        assert_eq!(errors.iter().map(|e| (e.line, e.code)).collect::<Vec<_>>(), [(4, "invalid_collected_offline")]);
    }

    #[test]
    fn given_a_missing_required_column_then_a_file_level_error() {
        let rows = sheet(&[&["姓名", "学号"], &["张三", "1"]]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert!(good.is_empty());
        assert_eq!((errors[0].line, errors[0].code, errors[0].column), (1, "missing_column", "身份证号"));
        let rows = sheet(&[&["name", "id_number"], &["张三", "11010519491231002X"]]);
        let (_, errors) = validate_sheet(&rows, IdentityMode::ExamNumber, TODAY);
        assert_eq!(errors[0].code, "missing_column");
    }

    #[test]
    fn exam_number_is_student_or_ticket_number_plus_id_last4() {
        let rows = sheet(&[
            &["姓名", "身份证号", "学号", "准考证号"],
            &["张三", "11010519491231002X", "2018001", ""],
            &["李四", "320106200408151238", "2018002", "0112345"],
            &["王五", "110105199003070017", "", ""],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::ExamNumber, TODAY);
        assert_eq!(good[0].exam_number().as_deref(), Some("2018001002X"));
        assert_eq!(good[1].exam_number().as_deref(), Some("01123451238"));
        assert_eq!(errors.iter().map(|e| (e.line, e.code)).collect::<Vec<_>>(), vec![(4, "missing_student_no")]);
    }

    #[test]
    fn collection_codes_are_required_unique_and_upper_cased() {
        let rows = sheet(&[
            &["姓名", "身份证号", "图像采集码"],
            &["张三", "11010519491231002X", "ab12cd34"],
            &["李四", "320106200408151238", "AB12CD34"],
            &["王五", "110105199003070017", ""],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::CollectionCode, TODAY);
        assert_eq!(good[0].collection_code.as_deref(), Some("AB12CD34"));
        assert_eq!(
            errors.iter().map(|e| (e.line, e.code)).collect::<Vec<_>>(),
            vec![(3, "duplicate_collection_code"), (4, "missing_collection_code")]
        );
    }

    #[test]
    fn student_numbers_are_unique_whatever_the_letters_case() {
        let rows = sheet(&[
            &["姓名", "身份证号", "学号"],
            &["张三", "11010519491231002X", "s2018001"],
            &["李四", "320106200408151238", "S2018001"],
            &["王五", "110105199003070017", "S2018002"],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(errors.iter().map(|e| (e.line, e.code)).collect::<Vec<_>>(), vec![(3, "duplicate_student_no")]);
    }

    #[test]
    fn names_are_normalised_and_implausible_ones_refused() {
        assert_eq!(PersonName::parse(" 买买提 • 艾力 ").expect("name").as_str(), "买买提 · 艾力");
        assert_eq!(PersonName::parse("买买提・艾力"), PersonName::parse("买买提·艾力"));
        assert!(PersonName::parse("11010519491231002X").is_none(), "an ID number in the name column");
        assert!(PersonName::parse("   ").is_none());
    }

    /// Every character that hides itself or reorders the text around it, each refused.
    const HIDDEN: [(char, &str); 21] = [
        ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
        ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
        ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
        ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
        ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
        ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
        ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
        ('\u{2068}', "FIRST STRONG ISOLATE"),
        ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
        ('\u{200E}', "LEFT-TO-RIGHT MARK"),
        ('\u{200F}', "RIGHT-TO-LEFT MARK"),
        ('\u{061C}', "ARABIC LETTER MARK"),
        ('\u{200B}', "ZERO WIDTH SPACE"),
        ('\u{2060}', "WORD JOINER"),
        ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE (BOM)"),
        ('\u{200D}', "ZERO WIDTH JOINER, lone"),
        ('\u{200C}', "ZERO WIDTH NON-JOINER, lone"),
        ('\u{00AD}', "SOFT HYPHEN"),
        ('\u{3164}', "HANGUL FILLER"),
        ('\u{E0041}', "TAG LATIN CAPITAL LETTER A"),
        ('\u{0007}', "BELL (a control character)"),
    ];

    #[test]
    fn names_with_a_hidden_or_reordering_character_anywhere_are_refused() {
        for (c, what) in HIDDEN {
            for name in [format!("张{c}三"), format!("{c}张三"), format!("张三{c}"), c.to_string()] {
                assert!(PersonName::parse(&name).is_none(), "{what} in {name:?}");
            }
        }
        // What U+202E is for: the school's list shows "张三gpj.exe" for this.
        assert!(PersonName::parse("张三\u{202E}exe.jpg").is_none());
    }

    #[test]
    fn ordinary_names_are_still_accepted() {
        for name in
            ["张三", "欧阳娜娜", "买买提·艾力", "阿依古丽・买买提", "爱新觉罗·溥仪", "Jean-Pierre Dupont", "ئەخمەت"]
        {
            assert!(PersonName::parse(name).is_some(), "{name}");
        }
        // A joiner between two letters of a script shaped by it (Arabic, as in Uyghur names).
        assert!(PersonName::parse("ئە\u{200D}خمەت").is_some());
        assert!(PersonName::parse("ئە\u{200C}خمەت").is_some());
        // Between Chinese characters it joins nothing.
        assert!(PersonName::parse("张\u{200D}三").is_none());
    }

    #[test]
    fn names_starting_like_a_formula_are_refused() {
        for name in ["=HYPERLINK(\"http://example.com\",\"点我\")", "+张三", "-张三", "@SUM(A1)", "\t=张三", "\r=张三"]
        {
            assert!(PersonName::parse(name).is_none(), "{name:?}");
        }
        assert!(PersonName::parse("张三=李四").is_some(), "only the start makes a formula");
        assert_eq!(PersonName::parse("\t张三\r").expect("name").as_str(), "张三", "outer tabs are trimmed");
    }

    #[test]
    fn given_department_major_or_class_starting_like_a_formula_or_hiding_characters_then_those_lines_are_refused() {
        let rows = sheet(&[
            &["\u{feff}姓名", "身份证号", "院系", "专业", "班级"],
            &["张三", "110105200501010012", "计算机学院", "软件工程", "软工2101"],
            &["李四", "110105200501010020", "=HYPERLINK(\"http://example.com\",\"点我\")", "", ""],
            &["王五", "110105200501010039", "计算机学院", "+cmd", ""],
            &["赵六", "110105200501010047", "计算机学院", "软件工程", "@SUM(1+1)"],
            &["钱七", "110105200501010055", "-1+1", "", ""],
            &["孙八", "110105200501010063", "\t=1+1", "", ""],
            &["周九", "110105200501010071", "计算\u{202E}机学院", "", ""],
            &["吴十", "11010520050101008X", "", "软件\u{200B}工程", ""],
            &["郑一", "110105200501010098", "", "", "一班\u{0007}"],
            &["冯二", "110105200501010100", &"院".repeat(MAX_LABEL_CHARS), "", "软工 2101 (A-B)"],
            &["陈三", "110105200501010119", &"院".repeat(MAX_LABEL_CHARS + 1), "", ""],
        ]);
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 11]);
        assert_eq!(good[0].department.as_deref(), Some("计算机学院"));
        assert_eq!(good[1].class.as_deref(), Some("软工 2101 (A-B)"));
        assert_eq!(
            errors.iter().map(|e| (e.line, e.column, e.code)).collect::<Vec<_>>(),
            vec![
                (3, "院系", "invalid_department"),
                (4, "专业", "invalid_major"),
                (5, "班级", "invalid_class"),
                (6, "院系", "invalid_department"),
                (7, "院系", "invalid_department"),
                (8, "院系", "invalid_department"),
                (9, "专业", "invalid_major"),
                (10, "班级", "invalid_class"),
                (12, "院系", "invalid_department"),
            ]
        );
    }

    #[test]
    fn given_a_cell_too_long_for_any_column_then_only_its_line_is_reported() {
        let huge = "长".repeat(500 * 1024);
        let wide: Vec<String> = std::iter::repeat_n("x".repeat(MAX_CELL_CHARS), 17).collect();
        let mut rows = sheet(&[
            &["\u{feff}姓名", "身份证号", "院系", "备注"],
            &["张三", "11010519491231002X", "计算机学院", ""],
            &["李四", "110105194912310021", &huge, ""],
            &["王五", "320106200408151238", "", &huge],
            &["赵六", "110105199003070017", "", &"x".repeat(MAX_CELL_CHARS)],
        ]);
        rows.push([vec!["钱七".to_string(), "110105194912310029".to_string()], wide].concat());
        let (good, errors) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(
            errors.iter().map(|e| (e.line, e.column, e.code)).collect::<Vec<_>>(),
            vec![(3, "院系", "cell_too_long"), (4, "", "cell_too_long"), (6, "", "line_too_long")]
        );
    }

    #[test]
    fn the_masked_view_hides_the_id_number() {
        let rows = sheet(&[&["姓名", "身份证号", "学号"], &["张三", "11010519491231002X", "2018001234"]]);
        let (good, _) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        let view = good[0].masked_view().to_string();
        assert!(view.contains("1101**********002X") && !view.contains("11010519491231002X"), "{view}");
        assert!(view.contains("\"2*******34\""), "at most a third of the 学号: {view}");
    }
}
