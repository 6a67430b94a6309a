//! A bounded random-input loop over what reads untrusted files: the photo decoder
//! (`yunzhao_imaging::decode`, JPEG/PNG/WebP from students' phones) and the roster readers
//! (`roster_file::read_rows`, CSV and XLSX from schools' browsers). Nightly (and so
//! `cargo fuzz`) is not available here, so inputs are made by mutating small valid seeds:
//! bit flips, interesting bytes, cut, duplicated and deleted runs, splices of two seeds.
//!
//! Every input saved under `tests/fuzz/regressions/` is replayed first. A panic is a crash: the
//! input is saved there (kept as a regression input for every later run) and the run fails.
//!
//!   fuzz [--seconds N] [--seed S] [--target decode|roster|all]
//!
//! `make test` runs it briefly; `make fuzz` for longer. The seed is printed, so a run can be
//! repeated exactly.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

/// The readers under test, by name.
fn run(target: &str, input: &[u8]) {
    match target {
        "decode" => {
            let _ = yunzhao_imaging::decode::decode(input);
            // And reduced in the DCT, as the pipeline decodes a large JPEG.
            let _ = yunzhao_imaging::decode::decode_reduced(input, 1);
        }
        _ => {
            let _ = yunzhao_adapters::roster_file::read_rows(input);
        }
    }
}

/// Small valid files of every kind each reader takes (small, so that many run a second).
fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "decode" => {
            let img = image::RgbImage::from_fn(48, 64, |x, y| image::Rgb([(x * 5) as u8, (y * 4) as u8, 200]));
            let mut out = Vec::new();
            for format in [image::ImageFormat::Jpeg, image::ImageFormat::Png, image::ImageFormat::WebP] {
                let mut bytes = Cursor::new(Vec::new());
                image::DynamicImage::ImageRgb8(img.clone()).write_to(&mut bytes, format).expect("encode seed");
                out.push(bytes.into_inner());
            }
            out
        }
        _ => {
            let csv = "\u{feff}姓名,身份证号,学号,院系\n张三,11010519491231002X,2018001,计算机学院\n\"李,四\",320106200408151238,,\n";
            // As a Windows spreadsheet saves it (GB18030), the reader's other path.
            let gbk = encoding_rs::GB18030.encode(csv.trim_start_matches('\u{feff}')).0.into_owned();
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (c, v) in ["姓名", "身份证号", "学号"].iter().enumerate() {
                sheet.write_string(0, c as u16, *v).expect("cell");
            }
            sheet.write_string(1, 0, "王五").expect("cell");
            sheet.write_string(1, 1, "110105199003070017").expect("cell");
            sheet.write_number(1, 2, 2018003.0).expect("cell");
            let xlsx = book.save_to_buffer().expect("xlsx seed");
            vec![csv.as_bytes().to_vec(), gbk, xlsx]
        }
    }
}

fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..=8) {
        if input.is_empty() {
            input.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..input.len());
        match rng.random_range(0..7) {
            0 => input[at] ^= 1 << rng.random_range(0..8),
            1 => input[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01, b',', b'"', b'\n'][rng.random_range(0..8)],
            2 => input.truncate(at),
            3 => {
                let end = (at + rng.random_range(1..64)).min(input.len());
                input.drain(at..end);
            }
            4 => {
                let end = (at + rng.random_range(1..64)).min(input.len());
                let run = input[at..end].to_vec();
                for _ in 0..rng.random_range(1..16) {
                    input.splice(at..at, run.iter().copied());
                }
            }
            5 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let from = rng.random_range(0..other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            _ => {
                // A length or size field turned huge: four bytes of 0xFF.
                let end = (at + 4).min(input.len());
                input[at..end].fill(0xFF);
            }
        }
    }
    input
}

/// Runs `input`; on a panic saves it as a regression input and says where.
fn survives(target: &str, input: &[u8]) -> Result<(), PathBuf> {
    if catch_unwind(AssertUnwindSafe(|| run(target, input))).is_ok() {
        return Ok(());
    }
    let digest: u64 = input.iter().fold(0xcbf29ce484222325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3));
    let path = regressions_dir().join(format!("{target}-{digest:016x}.bin"));
    let _ = std::fs::create_dir_all(regressions_dir());
    let _ = std::fs::write(&path, input);
    Err(path)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let targets: Vec<&str> = match arg("--target").as_deref() {
        Some("decode") => vec!["decode"],
        Some("roster") => vec!["roster"],
        _ => vec!["decode", "roster"],
    };
    // Panics are expected to be caught and reported here, not printed by the default hook.
    if std::env::var_os("FUZZ_SHOW_PANICS").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let mut crashes = Vec::new();
    let replayed: Vec<PathBuf> = std::fs::read_dir(regressions_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    for path in &replayed {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let target = if name.starts_with("decode-") { "decode" } else { "roster" };
        let bytes = std::fs::read(path).unwrap_or_default();
        if catch_unwind(AssertUnwindSafe(|| run(target, &bytes))).is_err() {
            crashes.push(path.clone());
        }
    }
    println!("fuzz: seed {seed}, {} regression inputs replayed", replayed.len());
    let mut rng = StdRng::seed_from_u64(seed);
    for target in targets {
        let seeds = seeds(target);
        let budget = Duration::from_secs(seconds) / 2;
        let started = Instant::now();
        let mut executions = 0u64;
        while started.elapsed() < budget {
            let input = mutate(&mut rng, &seeds);
            executions += 1;
            if let Err(path) = survives(target, &input) {
                crashes.push(path);
            }
        }
        println!("fuzz: {target}: {executions} executions in {:.1} s", started.elapsed().as_secs_f64());
    }
    if crashes.is_empty() {
        println!("fuzz: no crash");
        ExitCode::SUCCESS
    } else {
        for c in &crashes {
            eprintln!("fuzz: crash, input kept in {}", c.display());
        }
        ExitCode::FAILURE
    }
}
