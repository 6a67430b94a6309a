//! The school's list of students for a campaign, as imported from a spreadsheet: each row is
//! validated on its own so one bad line never blocks the others, and the report names lines.

use std::collections::HashMap;

use serde::Serialize;
use time::Date;

use crate::campaign::IdentityMode;
use crate::id_number::{IdNumber, mask};

/// A person's name as typed, normalised for comparison: outer spaces trimmed, inner runs of
/// spaces collapsed, the variants of the middle dot in minority names unified to `·`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(s: &str) -> Option<Self> {
        let unified: String =
            s.chars().map(|c| if matches!(c, '•' | '・' | '‧' | '．' | '.' | '·') { '·' } else { c }).collect();
        let name = unified.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = name.chars().count();
        let plausible = (1..=50).contains(&n) && !name.chars().any(|c| c.is_control() || c.is_ascii_digit());
        plausible.then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
            department: cell(Column::Department).map(str::to_owned),
            major: cell(Column::Major).map(str::to_owned),
            class: cell(Column::Class).map(str::to_owned),
        });
    }
    (good, errors)
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

    #[test]
    fn the_masked_view_hides_the_id_number() {
        let rows = sheet(&[&["姓名", "身份证号", "学号"], &["张三", "11010519491231002X", "2018001234"]]);
        let (good, _) = validate_sheet(&rows, IdentityMode::NameIdNumber, TODAY);
        let view = good[0].masked_view().to_string();
        assert!(view.contains("1101**********002X") && !view.contains("11010519491231002X"), "{view}");
        assert!(view.contains("2018**1234"), "{view}");
    }
}
