//! The archive a school receives, built without I/O: one photo per student named by the
//! campaign's rule, `manifest.csv` (UTF-8 with BOM, so Excel reads the Chinese) listing each
//! student and their file, and `missing.csv` listing the students without an approved photo.
//! Entries are sorted and stamped with a fixed time, so the same photos give the same bytes.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use yunzhao_adapters::dynamo::roster::OpenedEntry;
use yunzhao_domain::campaign::NamingRule;
use yunzhao_domain::roster::starts_like_formula;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A student with an approved photo.
pub struct Approved<'a> {
    pub entry: &'a OpenedEntry,
    pub approved_at: String,
    pub jpeg: Vec<u8>,
}

/// A student without one, and where they stand (in Chinese, for the school).
pub struct Missing<'a> {
    pub entry: &'a OpenedEntry,
    pub status: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// The file name of a student's photo under the rule; the ID number when the rule's number is
/// missing for this student (every entry has one).
pub fn file_name(rule: NamingRule, e: &OpenedEntry) -> String {
    let n = &e.numbers;
    let base = match rule {
        NamingRule::IdNumber => None,
        NamingRule::StudentNumber => n.student_no.clone(),
        NamingRule::ExamNumber => n.exam_number.clone(),
        NamingRule::CollectionCode => n.collection_code.clone(),
    };
    // Only characters that are safe in a file name on every system the school may use.
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>();
    let base = base.map(|b| clean(&b)).filter(|b| !b.is_empty()).unwrap_or_else(|| clean(&e.id_number));
    format!("{base}.jpg")
}

/// A cell as Excel will show it, never run it: one that starts like a formula (`=`, `+`, `-`,
/// `@`, tab, carriage return; the OWASP CSV-injection rule) gets a leading `'`, which Excel
/// takes as "text" and does not display. The roster refuses such values at import; this keeps
/// the ones stored before (or by any other way in) harmless. Other cells (ID numbers, student
/// numbers, file names) are written as they are; the csv crate quotes commas and quotes.
fn neutralised(cell: &str) -> String {
    if starts_like_formula(cell) { format!("'{cell}") } else { cell.to_owned() }
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, ArchiveError> {
    let mut out = BOM.to_vec();
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        w.write_record(header.iter().map(|h| neutralised(h)))?;
        for row in rows {
            w.write_record(row.iter().map(|cell| neutralised(cell)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub struct Built {
    pub zip: Vec<u8>,
    pub photos: usize,
    pub missing: usize,
}

pub fn build(rule: NamingRule, approved: Vec<Approved>, mut missing: Vec<Missing>) -> Result<Built, ArchiveError> {
    // By file name; two students landing on one name (a duplicated number in the roster) keep
    // their photos apart by the ID number.
    let mut files: BTreeMap<String, Approved> = BTreeMap::new();
    for a in approved {
        let mut name = file_name(rule, a.entry);
        if files.contains_key(&name) {
            name = file_name(NamingRule::IdNumber, a.entry);
        }
        files.insert(name, a);
    }
    missing.sort_by(|a, b| (&a.entry.name, &a.entry.id_number).cmp(&(&b.entry.name, &b.entry.id_number)));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("manifest.csv", options)?;
    zip.write_all(&manifest_csv(&files)?)?;
    zip.start_file("missing.csv", options)?;
    zip.write_all(&missing_csv(&missing)?)?;
    for (name, a) in &files {
        zip.start_file(format!("photos/{name}"), options)?;
        zip.write_all(&a.jpeg)?;
    }
    let bytes = zip.finish()?.into_inner();
    Ok(Built { zip: bytes, photos: files.len(), missing: missing.len() })
}

/// Each photo's file and its student.
fn manifest_csv(files: &BTreeMap<String, Approved>) -> Result<Vec<u8>, ArchiveError> {
    csv_bytes(
        &["文件名", "姓名", "身份证号", "学号", "考生号", "图像采集码", "院系", "专业", "班级", "审核通过时间"],
        files.iter().map(|(name, a)| {
            let e = a.entry;
            vec![
                name.clone(),
                e.name.clone(),
                e.id_number.clone(),
                opt(&e.numbers.student_no),
                opt(&e.numbers.exam_number),
                opt(&e.numbers.collection_code),
                opt(&e.department),
                opt(&e.major),
                opt(&e.class),
                a.approved_at.clone(),
            ]
        }),
    )
}

/// The students without an approved photo and where each stands.
fn missing_csv(missing: &[Missing]) -> Result<Vec<u8>, ArchiveError> {
    csv_bytes(
        &["姓名", "身份证号", "学号", "院系", "专业", "班级", "状态"],
        missing.iter().map(|m| {
            let e = m.entry;
            vec![
                e.name.clone(),
                e.id_number.clone(),
                opt(&e.numbers.student_no),
                opt(&e.department),
                opt(&e.major),
                opt(&e.class),
                m.status.to_owned(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use yunzhao_adapters::dynamo::roster::Numbers;

    fn entry(name: &str, id: &str, student_no: Option<&str>) -> OpenedEntry {
        OpenedEntry {
            entry_id: id.into(),
            name: name.into(),
            id_number: id.into(),
            numbers: Numbers { student_no: student_no.map(Into::into), exam_number: None, collection_code: None },
            department: Some("计算机学院".into()),
            major: None,
            class: None,
            bound_user_id: None,
            collected_offline: false,
        }
    }

    #[test]
    fn files_are_named_by_the_rule_and_fall_back_to_the_id_number() {
        let a = entry("张三", "11010519491231002X", Some("2021001"));
        assert_eq!(file_name(NamingRule::IdNumber, &a), "11010519491231002X.jpg");
        assert_eq!(file_name(NamingRule::StudentNumber, &a), "2021001.jpg");
        assert_eq!(file_name(NamingRule::ExamNumber, &a), "11010519491231002X.jpg");
        let odd = entry("李四", "110105194912310029", Some("../x y"));
        assert_eq!(file_name(NamingRule::StudentNumber, &odd), "xy.jpg");
    }

    fn cells(zip: &mut zip::ZipArchive<Cursor<Vec<u8>>>, file: &str) -> Vec<Vec<String>> {
        let mut text = String::new();
        zip.by_name(file).expect(file).read_to_string(&mut text).expect("utf-8");
        let mut reader =
            csv::ReaderBuilder::new().has_headers(false).from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
        reader.records().map(|r| r.expect("record").iter().map(str::to_owned).collect()).collect()
    }

    #[test]
    fn given_stored_values_starting_like_a_formula_then_no_cell_of_the_school_files_starts_with_one() {
        let link = "=HYPERLINK(\"http://example.com/x\",\"点我\")";
        let mut a = entry(link, "11010519491231002X", Some("2021001"));
        a.department = Some("@SUM(1+1)".into());
        a.major = Some("+cmd|' /C calc'!A0".into());
        a.class = Some("-2+3".into());
        let mut b = entry("\t=1+1", "110105194912310029", Some("2021002"));
        b.department = Some("\r=1+1".into());
        b.class = Some("软工-2101".into());
        let built = build(
            NamingRule::StudentNumber,
            vec![Approved { entry: &a, approved_at: "2026-11-23 10:00".into(), jpeg: vec![0xFF, 0xD8] }],
            vec![Missing { entry: &b, status: "未付款" }],
        )
        .expect("archive");
        let mut zip = zip::ZipArchive::new(Cursor::new(built.zip)).expect("zip");
        let manifest = cells(&mut zip, "manifest.csv");
        let missing = cells(&mut zip, "missing.csv");
        for cell in manifest.iter().chain(&missing).flatten() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
        }
        assert_eq!(
            manifest[1],
            [
                "2021001.jpg",
                "'=HYPERLINK(\"http://example.com/x\",\"点我\")",
                "11010519491231002X",
                "2021001",
                "",
                "",
                "'@SUM(1+1)",
                "'+cmd|' /C calc'!A0",
                "'-2+3",
                "2026-11-23 10:00"
            ]
        );
        assert_eq!(missing[1], ["'\t=1+1", "110105194912310029", "2021002", "'\r=1+1", "", "软工-2101", "未付款"]);
    }

    #[test]
    fn the_archive_holds_photos_manifest_and_missing_list_and_is_reproducible() {
        let (a, b, c) = (
            entry("张三", "11010519491231002X", Some("2")),
            entry("李四", "110105194912310029", Some("1")),
            entry("王五", "110105194912310037", None),
        );
        let make = || {
            build(
                NamingRule::StudentNumber,
                vec![
                    Approved { entry: &a, approved_at: "2026-11-23 10:00".into(), jpeg: vec![0xFF, 0xD8, 1] },
                    Approved { entry: &b, approved_at: "2026-11-23 11:00".into(), jpeg: vec![0xFF, 0xD8, 2] },
                ],
                vec![Missing { entry: &c, status: "未付款" }],
            )
            .expect("archive")
        };
        let (one, two) = (make(), make());
        assert_eq!(one.zip, two.zip, "same photos, same bytes");
        assert_eq!((one.photos, one.missing), (2, 1));
        let mut zip = zip::ZipArchive::new(Cursor::new(one.zip)).expect("zip");
        let names: Vec<String> = zip.file_names().map(|n| n.expect("entry name").into_owned()).collect();
        assert_eq!(names, ["manifest.csv", "missing.csv", "photos/1.jpg", "photos/2.jpg"]);
        let mut manifest = String::new();
        zip.by_name("manifest.csv").expect("manifest").read_to_string(&mut manifest).expect("utf-8");
        assert!(manifest.starts_with('\u{FEFF}'), "BOM");
        let lines: Vec<&str> = manifest.trim_start_matches('\u{FEFF}').lines().collect();
        assert!(lines[0].starts_with("文件名,姓名,身份证号"));
        assert!(lines[1].starts_with("1.jpg,李四,110105194912310029,1,"), "{}", lines[1]);
        let mut missing = String::new();
        zip.by_name("missing.csv").expect("missing").read_to_string(&mut missing).expect("utf-8");
        assert!(missing.contains("王五,110105194912310037,,计算机学院,,,未付款"), "{missing}");
    }
}
