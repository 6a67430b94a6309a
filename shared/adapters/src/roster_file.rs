//! Reading the spreadsheet a school uploads into rows of text cells: XLSX (first sheet) or
//! CSV, told apart by the bytes (an XLSX is a ZIP), not the name. CSV in UTF-8 (with or
//! without BOM) or GB18030 — what Excel on a Chinese Windows saves.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// Larger files are refused before parsing; an XLSX (compressed) is held to it unpacked too:
/// the text of all its cells together.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Rows per import; a school splits larger lists.
pub const MAX_ROWS: usize = 50_000;
/// Cells read, counting the empty ones before the last of each row: 40 columns of the largest
/// list. A lone cell far to the right (`XFD1048576`) can no longer make a sheet of billions.
pub const MAX_CELLS: usize = 40 * MAX_ROWS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than 10 MB, or holds more than a 10 MB list")]
    TooLarge,
    #[error("the file has more than 50000 rows")]
    TooManyRows,
    #[error("the file is not a CSV or XLSX spreadsheet we can read")]
    Unreadable,
}

/// The first sheet's rows. Rows keep their own length (a trailing empty cell may be absent);
/// the length of a single cell is the roster's to judge, line by line
/// (`roster::MAX_CELL_CHARS`): a giant cell is reported on its line, never stored.
pub fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        // The XLSX library has arithmetic a crafted file overflows (a sheet dimension ending
        // before it starts, found by the fuzz loop: tests/fuzz/regressions/): such a file is
        // unreadable, never a crashed function.
        std::panic::catch_unwind(|| read_xlsx(bytes)).map_err(|_| FileError::Unreadable)??
    } else {
        read_csv(bytes)?
    };
    if rows.len() > MAX_ROWS + 1 {
        return Err(FileError::TooManyRows);
    }
    Ok(rows)
}

/// Cell by cell (the sheet is never laid out whole, as `worksheet_range` would: from the first
/// row and column holding something to the last), stopping as soon as a bound is passed.
fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| FileError::Unreadable)?;
    let first = book.sheet_names().first().cloned().ok_or(FileError::Unreadable)?;
    let mut reader = book.worksheet_cells_reader(&first).map_err(|_| FileError::Unreadable)?;
    let mut cells: Vec<((usize, usize), String)> = Vec::new();
    let mut text = 0;
    while let Some(cell) = reader.next_cell().map_err(|_| FileError::Unreadable)? {
        let value = cell_text(&Data::from(cell.get_value().clone()));
        if value.is_empty() {
            continue;
        }
        text += value.len();
        if text > MAX_BYTES || cells.len() >= MAX_CELLS {
            return Err(FileError::TooLarge);
        }
        let (row, column) = cell.get_position();
        cells.push(((row as usize, column as usize), value));
    }
    let (Some(top), Some(left)) = (cells.iter().map(|((r, _), _)| *r).min(), cells.iter().map(|((_, c), _)| *c).min())
    else {
        return Ok(Vec::new());
    };
    let bottom = cells.iter().map(|((r, _), _)| *r).max().unwrap_or(top);
    if bottom - top > MAX_ROWS {
        return Err(FileError::TooManyRows);
    }
    let mut widths = vec![0; bottom - top + 1];
    for ((r, c), _) in &cells {
        widths[r - top] = widths[r - top].max(c - left + 1);
    }
    if widths.iter().sum::<usize>() > MAX_CELLS {
        return Err(FileError::TooLarge);
    }
    let mut rows: Vec<Vec<String>> = widths.into_iter().map(|w| vec![String::new(); w]).collect();
    for ((r, c), value) in cells {
        rows[r - top][c - left] = value;
    }
    Ok(rows)
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
    let mut cells = 0;
    for record in reader.records().take(MAX_ROWS + 2) {
        let record = record.map_err(|_| FileError::Unreadable)?;
        cells += record.len();
        if cells > MAX_CELLS {
            return Err(FileError::TooLarge);
        }
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xlsx_whose_sheet_dimension_ends_before_it_starts_is_unreadable_not_a_crash() {
        // Found by the fuzz loop (`make fuzz`): the XLSX library's arithmetic overflowed on it.
        let found = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fuzz/regressions/roster-1aa3a07f5a9d35e7.bin"
        ));
        assert_eq!(read_rows(found), Err(FileError::Unreadable));
    }

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
    fn a_giant_cell_is_read_for_its_line_to_be_reported() {
        let huge = "长".repeat(500 * 1024);
        let rows = read_rows(format!("姓名,身份证号,院系\n张三,11010519491231002X,{huge}\n").as_bytes()).expect("csv");
        assert_eq!(rows[1][2].chars().count(), 500 * 1024, "judged by the roster, line by line");
    }

    #[test]
    fn an_xlsx_unpacking_to_more_text_than_a_10_mb_file_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let cell = "x".repeat(32_767); // the most Excel holds in a cell
        for row in 0..(MAX_BYTES / cell.len() + 1) as u32 {
            sheet.write_string(row, 0, &cell).expect("write");
        }
        let bytes = book.save_to_buffer().expect("xlsx");
        assert!(bytes.len() < MAX_BYTES / 10, "compressed, it is small: {}", bytes.len());
        assert_eq!(read_rows(&bytes), Err(FileError::TooLarge));
    }

    #[test]
    fn a_lone_cell_far_down_and_right_does_not_lay_out_a_sheet_of_billions_of_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").expect("write");
        sheet.write_string(MAX_ROWS as u32 - 1, 16_383, "x").expect("write"); // XFD50000
        let rows = read_rows(&book.save_to_buffer().expect("xlsx")).expect("xlsx");
        assert_eq!(rows.len(), MAX_ROWS);
        assert_eq!((rows[0].len(), rows[1].len(), rows[MAX_ROWS - 1].len()), (1, 0, 16_384));
        assert_eq!(rows[MAX_ROWS - 1][16_383], "x");
    }

    #[test]
    fn a_sheet_holding_more_cells_than_the_largest_list_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").expect("write");
        for row in 1..(MAX_CELLS / 16_384 + 2) as u32 {
            sheet.write_string(row, 16_383, "x").expect("write");
        }
        assert_eq!(read_rows(&book.save_to_buffer().expect("xlsx")), Err(FileError::TooLarge));
        let csv = ",".repeat(MAX_CELLS);
        assert_eq!(read_rows(csv.as_bytes()), Err(FileError::TooLarge));
    }

    #[test]
    fn binary_garbage_and_oversized_files_are_refused() {
        assert_eq!(read_rows(b"PK\x03\x04not really a zip"), Err(FileError::Unreadable));
        assert_eq!(read_rows(&[0xff, 0xfe, 0x00, 0x00, 0x81]), Err(FileError::Unreadable));
        assert_eq!(read_rows(&vec![b'a'; MAX_BYTES + 1]), Err(FileError::TooLarge));
    }
}
