//! Reading the spreadsheet a school uploads into rows of text cells: XLSX (first sheet) or
//! CSV, told apart by the bytes (an XLSX is a ZIP), not the name. CSV in UTF-8 (with or
//! without BOM) or GB18030 — what Excel on a Chinese Windows saves.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// Larger files are refused before parsing.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Rows per import; a school splits larger lists.
pub const MAX_ROWS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than 10 MB")]
    TooLarge,
    #[error("the file has more than 50000 rows")]
    TooManyRows,
    #[error("the file is not a CSV or XLSX spreadsheet we can read")]
    Unreadable,
}

pub fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") { read_xlsx(bytes)? } else { read_csv(bytes)? };
    if rows.len() > MAX_ROWS + 1 {
        return Err(FileError::TooManyRows);
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| FileError::Unreadable)?;
    let first = book.sheet_names().first().cloned().ok_or(FileError::Unreadable)?;
    let range = book.worksheet_range(&first).map_err(|_| FileError::Unreadable)?;
    Ok(range.rows().take(MAX_ROWS + 2).map(|row| row.iter().map(cell_text).collect()).collect())
}

/// A cell as the school meant it. Numbers typed into a General cell (student numbers) come
/// back as floats: print integers without a decimal point. An 18-digit ID number stored as a
/// number has lost digits already; it will fail its check character and be reported.
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t.trim_start_matches('\u{feff}')),
        Err(_) => {
            let (t, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors {
                return Err(FileError::Unreadable);
            }
            t
        }
    };
    if text.contains('\0') {
        return Err(FileError::Unreadable);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records().take(MAX_ROWS + 2) {
        let record = record.map_err(|_| FileError::Unreadable)?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_csv_with_bom_and_quotes() {
        let rows = read_rows("\u{feff}姓名,身份证号\n\"张,三\",11010519491231002X\n".as_bytes()).expect("csv");
        assert_eq!(rows, vec![vec!["姓名", "身份证号"], vec!["张,三", "11010519491231002X"]]);
    }

    #[test]
    fn gb18030_csv_as_excel_saves_it() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,身份证号\n张三,11010519491231002X\n");
        let rows = read_rows(&bytes).expect("gbk csv");
        assert_eq!(rows[1][0], "张三");
    }

    #[test]
    fn xlsx_first_sheet_with_numeric_student_numbers() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").expect("write");
        sheet.write_string(0, 1, "学号").expect("write");
        sheet.write_string(1, 0, "李四").expect("write");
        sheet.write_number(1, 1, 2018002.0).expect("write");
        let bytes = book.save_to_buffer().expect("xlsx");
        assert_eq!(read_rows(&bytes).expect("xlsx"), vec![vec!["姓名", "学号"], vec!["李四", "2018002"]]);
    }

    #[test]
    fn binary_garbage_and_oversized_files_are_refused() {
        assert_eq!(read_rows(b"PK\x03\x04not really a zip"), Err(FileError::Unreadable));
        assert_eq!(read_rows(&[0xff, 0xfe, 0x00, 0x00, 0x81]), Err(FileError::Unreadable));
        assert_eq!(read_rows(&vec![b'a'; MAX_BYTES + 1]), Err(FileError::TooLarge));
    }
}
