//! The standardization pipeline on local files, for operators and for trying a spec before a
//! campaign opens, and its benchmark.
//!
//!   yunzhao standardize IN... [--spec chsi|degree|new_student|resident_id_card] [--out DIR] [--models DIR]
//!       writes <name>.jpg, <name>.preview.jpg, <name>.cutout.png and <name>.json per input;
//!       goes through every input; exits 1 when any fails a check, 2 when any cannot be read
//!       or written (after the others), or on a usage or model error.
//!   yunzhao bench [--runs N] [--models DIR]
//!       per-stage and total milliseconds (min/median/max) and peak RSS, for a 12 MP phone-size
//!       JPEG made from the astronaut and for the astronaut itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use yunzhao_domain::campaign::{PhotoSpec, Preset};
use yunzhao_imaging::{Models, run_pipeline};

fn usage() -> ExitCode {
    eprintln!(
        "usage: yunzhao standardize IN... [--spec chsi|degree|new_student|resident_id_card] [--out DIR] [--models DIR]"
    );
    eprintln!("       yunzhao bench [--runs N] [--models DIR]");
    ExitCode::from(2)
}

struct Args {
    inputs: Vec<PathBuf>,
    spec: Preset,
    out: PathBuf,
    models: PathBuf,
    runs: usize,
}

fn parse(args: &[String]) -> Option<Args> {
    let mut a = Args { inputs: Vec::new(), spec: Preset::Chsi, out: ".".into(), models: "models".into(), runs: 10 };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--spec" => a.spec = serde_json::from_value(serde_json::Value::String(it.next()?.clone())).ok()?,
            "--out" => a.out = it.next()?.into(),
            "--models" => a.models = it.next()?.into(),
            "--runs" => a.runs = it.next()?.parse().ok()?,
            flag if flag.starts_with("--") => return None,
            input => a.inputs.push(input.into()),
        }
    }
    Some(a)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else { return usage() };
    let Some(args) = parse(rest) else { return usage() };
    let models = match Models::load(&args.models) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("yunzhao: {e} (run `make models`)");
            return ExitCode::from(2);
        }
    };
    match command.as_str() {
        "standardize" if !args.inputs.is_empty() => standardize(&args, &models),
        "bench" => bench(&args, &models),
        _ => usage(),
    }
}

/// Every input is processed whatever happens to the others: an unreadable one is reported
/// and counted. Exit 0 when all passed, 1 when any failed a check, 2 when any could not be
/// read or written (or a model failed).
fn standardize(args: &Args, models: &Models) -> ExitCode {
    let spec = PhotoSpec::preset(args.spec);
    if std::fs::create_dir_all(&args.out).is_err() {
        eprintln!("yunzhao: cannot create {}", args.out.display());
        return ExitCode::from(2);
    }
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    for input in &args.inputs {
        let name = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
        let out = match std::fs::read(input)
            .map_err(|e| e.to_string())
            .and_then(|b| run_pipeline(&b, &spec, models).map_err(|e| e.to_string()))
        {
            Ok(out) => out,
            Err(e) => {
                eprintln!("{}: error: {e}", input.display());
                broken += 1;
                continue;
            }
        };
        let write = |suffix: &str, bytes: &[u8]| std::fs::write(args.out.join(format!("{name}{suffix}")), bytes);
        let mut ok = write(".json", serde_json::to_string_pretty(&out.report).unwrap_or_default().as_bytes()).is_ok();
        if let Some(p) = &out.photo {
            ok &= write(".jpg", &p.standard_jpeg).is_ok()
                && write(".preview.jpg", &p.preview_jpeg).is_ok()
                && write(".cutout.png", &p.cutout_png).is_ok();
        }
        if !ok {
            eprintln!("{}: error: cannot write into {}", input.display(), args.out.display());
            broken += 1;
            continue;
        }
        let codes: Vec<&str> = out.report.reasons.iter().map(|r| r.as_str()).collect();
        let hints: Vec<String> = out
            .report
            .hints
            .iter()
            .map(|h| serde_json::to_value(h.code).map(|v| v.to_string()).unwrap_or_default())
            .collect();
        let verdict = if out.report.passed { "passed".to_owned() } else { format!("failed: {}", codes.join(", ")) };
        let hints =
            if hints.is_empty() { String::new() } else { format!(" hints: {}", hints.join(", ").replace('"', "")) };
        println!(
            "{}: {verdict}{hints} ({:.0} ms) → {}",
            input.display(),
            out.report.timings_ms.get("total").copied().unwrap_or(0.0),
            args.out.join(format!("{name}.jpg")).display()
        );
        if out.report.passed { passed += 1 } else { failed += 1 }
    }
    println!("{passed} passed, {failed} failed, {broken} unreadable or unwritable");
    if broken > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A 12 MP (3024×4032) phone-size JPEG: the astronaut enlarged into a textured frame.
fn phone_jpeg(models_dir: &Path) -> Option<Vec<u8>> {
    let a = image::open(models_dir.join("astronaut.png")).ok()?.into_rgb8();
    let big = image::imageops::resize(&a, 2800, 2800, image::imageops::FilterType::CatmullRom);
    let mut phone = image::RgbImage::from_fn(3024, 4032, |x, y| {
        image::Rgb([(120 + (x * 7 + y * 3) % 40) as u8, 118, (110 + (y % 50)) as u8])
    });
    image::imageops::replace(&mut phone, &big, 112, 300);
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::Cursor::new(&mut out), 92);
    enc.encode_image(&phone).ok()?;
    Some(out)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn bench(args: &Args, models: &Models) -> ExitCode {
    let spec = PhotoSpec::preset(Preset::Chsi);
    let Some(phone) = phone_jpeg(&args.models) else {
        eprintln!("yunzhao: models/astronaut.png missing (run `make models`)");
        return ExitCode::from(2);
    };
    let astronaut = std::fs::read(args.models.join("astronaut.png")).unwrap_or_default();
    println!("one core: {} run(s) each, after one warm-up; milliseconds min / median / max", args.runs);
    for (name, bytes) in [("12 MP JPEG 3024×4032", &phone), ("astronaut PNG 512×512", &astronaut)] {
        let mut stages: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
        let _ = run_pipeline(bytes, &spec, models);
        for _ in 0..args.runs.max(1) {
            match run_pipeline(bytes, &spec, models) {
                Ok(out) => {
                    for (stage, ms) in out.report.timings_ms {
                        stages.entry(stage).or_default().push(ms);
                    }
                }
                Err(e) => {
                    eprintln!("yunzhao: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        println!("\n{name} ({} KB)", bytes.len() / 1024);
        println!("  {:<10} {:>9} {:>9} {:>9}", "stage", "min", "median", "max");
        for stage in ["decode", "detect", "frame", "mesh", "matte", "composite", "checks", "encode", "total"] {
            if let Some(v) = stages.get_mut(stage) {
                v.sort_by(f64::total_cmp);
                println!("  {stage:<10} {:>9.1} {:>9.1} {:>9.1}", v[0], v[v.len() / 2], v[v.len() - 1]);
            }
        }
    }
    println!("\npeak RSS: {:.0} MB", peak_rss_mb());
    ExitCode::SUCCESS
}
