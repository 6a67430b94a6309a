//! The standardization pipeline on local files, for operators and for trying a spec before a
//! campaign opens, and its benchmark.
//!
//!   yunzhao standardize IN... [--spec chsi|degree|new_student|resident_id_card] [--out DIR] [--models DIR]
//!       writes <name>.jpg, <name>.preview.jpg, <name>.cutout.png and <name>.json per input;
//!       goes through every input; exits 1 when any fails a check, 2 when any cannot be read
//!       or written (after the others), or on a usage or model error.
//!   yunzhao import-models [--models DIR]
//!       imports each network from its ONNX file once and keeps it beside it as tract NNEF, so
//!       a new process only compiles it for its CPU (run by `make models`; nothing to do when
//!       the copies are current).
//!   yunzhao bench [--runs N] [--models DIR] [--profile]
//!       per-stage and total milliseconds (min/median/max) and peak RSS, for a 12 MP phone-size
//!       JPEG made from the astronaut and for the astronaut itself, a new process's first photo
//!       against a warm one, on one thread and two; --profile adds the matting network's time
//!       per kind of operation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use yunzhao_domain::campaign::{PhotoSpec, Preset};
use yunzhao_imaging::{Models, run_pipeline};

fn usage() -> ExitCode {
    eprintln!(
        "usage: yunzhao standardize IN... [--spec chsi|degree|new_student|resident_id_card] [--out DIR] [--models DIR]"
    );
    eprintln!("       yunzhao import-models [--models DIR]");
    eprintln!("       yunzhao bench [--runs N] [--models DIR] [--profile]");
    ExitCode::from(2)
}

struct Args {
    inputs: Vec<PathBuf>,
    spec: Preset,
    out: PathBuf,
    models: PathBuf,
    runs: usize,
    profile: bool,
}

fn parse(args: &[String]) -> Option<Args> {
    let mut a = Args {
        inputs: Vec::new(),
        spec: Preset::Chsi,
        out: ".".into(),
        models: "models".into(),
        runs: 10,
        profile: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--spec" => a.spec = serde_json::from_value(serde_json::Value::String(it.next()?.clone())).ok()?,
            "--out" => a.out = it.next()?.into(),
            "--models" => a.models = it.next()?.into(),
            "--runs" => a.runs = it.next()?.parse().ok()?,
            "--profile" => a.profile = true,
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
    match command.as_str() {
        "bench" => return bench(&args),
        "import-models" => return import_models(&args),
        _ => {}
    }
    let models = match Models::load(&args.models) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("yunzhao: {e} (run `make models`)");
            return ExitCode::from(2);
        }
    };
    match command.as_str() {
        "standardize" if !args.inputs.is_empty() => standardize(&args, &models),
        _ => usage(),
    }
}

fn import_models(args: &Args) -> ExitCode {
    if yunzhao_imaging::models::imported_copies_current(&args.models) {
        return ExitCode::SUCCESS;
    }
    match yunzhao_imaging::models::import_all(&args.models) {
        Ok(files) => {
            files.iter().for_each(|f| println!("{}", f.display()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The whole chain: which layer tract could not write, and why.
            let mut why = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                why = format!("{why}: {c}");
                cause = c.source();
            }
            eprintln!("yunzhao: {why}");
            ExitCode::from(2)
        }
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

/// A 12 MP (3024×4032) phone portrait: the astronaut enlarged to the full width under a wall
/// that continues her background (her face about a fifth of the width, as a half-body photo
/// taken by someone else), with sensor-like noise.
fn phone_jpeg(models_dir: &Path) -> Option<Vec<u8>> {
    let a = image::open(models_dir.join("astronaut.png")).ok()?.into_rgb8();
    let big = image::imageops::resize(&a, 3024, 3024, image::imageops::FilterType::CatmullRom);
    let mut wall = [0f32; 3];
    for x in 0..a.width() {
        for y in 0..8 {
            (0..3).for_each(|c| wall[c] += a.get_pixel(x, y)[c] as f32 / (8 * a.width()) as f32);
        }
    }
    let mut seed: u32 = 2_463_534_242;
    let phone = image::RgbImage::from_fn(3024, 4032, |x, y| {
        let p = if y < 1008 { wall } else { big.get_pixel(x, y - 1008).0.map(f32::from) };
        let t = if y < 1008 { 0.0 } else { ((y - 1008) as f32 / 140.0).min(1.0) };
        image::Rgb([0, 1, 2].map(|c| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed >> 29) as f32 - 3.5;
            (p[c] * t + wall[c] * (1.0 - t) + noise).clamp(0.0, 255.0) as u8
        }))
    });
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

/// Per-stage min / median / max over `runs` warm runs of `bytes`; the warm median total.
fn stages(bytes: &[u8], spec: &PhotoSpec, models: &Models, runs: usize) -> Result<f64, String> {
    let mut stages: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    run_pipeline(bytes, spec, models).map_err(|e| e.to_string())?;
    for _ in 0..runs.max(1) {
        let out = run_pipeline(bytes, spec, models).map_err(|e| e.to_string())?;
        for (stage, ms) in out.report.timings_ms {
            stages.entry(stage).or_default().push(ms);
        }
    }
    println!("  {:<10} {:>9} {:>9} {:>9}", "stage", "min", "median", "max");
    let mut median = 0.0;
    for stage in ["decode", "detect", "matte", "frame", "mesh", "composite", "checks", "encode", "total"] {
        if let Some(v) = stages.get_mut(stage) {
            v.sort_by(f64::total_cmp);
            println!("  {stage:<10} {:>9.1} {:>9.1} {:>9.1}", v[0], v[v.len() / 2], v[v.len() - 1]);
            median = v[v.len() / 2];
        }
    }
    Ok(median)
}

/// The bench: a new process's first photo (models loaded and compiled, then one photo) against
/// warm photos, on one thread and on two, and the peak memory.
fn bench(args: &Args) -> ExitCode {
    let spec = PhotoSpec::preset(Preset::Chsi);
    let Some(phone) = phone_jpeg(&args.models) else {
        eprintln!("yunzhao: models/astronaut.png missing (run `make models`)");
        return ExitCode::from(2);
    };
    let astronaut = std::fs::read(args.models.join("astronaut.png")).unwrap_or_default();
    // Making the 12 MP test photo is the bench's own work, not the pipeline's: the peak is
    // measured from here on (Linux resets the high-water mark on this write).
    let making = peak_rss_mb();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    println!("{} warm run(s) each after one warm-up; milliseconds min / median / max", args.runs);
    let imported = yunzhao_imaging::models::imported_copies_current(&args.models);
    for threads in [1, 2] {
        yunzhao_imaging::use_threads(threads);
        // As a new process would: compile the networks, then the first photo.
        let cold = std::time::Instant::now();
        let models = match Models::load(&args.models) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("yunzhao: {e}");
                return ExitCode::from(2);
            }
        };
        let loaded = cold.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = run_pipeline(&phone, &spec, &models) {
            eprintln!("yunzhao: {e}");
            return ExitCode::from(2);
        }
        let first = cold.elapsed().as_secs_f64() * 1000.0;
        for (name, bytes) in [("12 MP phone portrait JPEG 3024×4032", &phone), ("astronaut PNG 512×512", &astronaut)]
        {
            println!("\n{name} ({} KB), {threads} thread(s)", bytes.len() / 1024);
            match stages(bytes, &spec, &models, args.runs) {
                Ok(warm) if bytes.len() == phone.len() => println!(
                    "  cold start ({}): models {loaded:.0} ms, models + first photo {first:.0} ms = {:.2}× a warm photo",
                    if imported { "from the imported NNEF copies" } else { "importing the ONNX files" },
                    first / warm.max(1e-3)
                ),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("yunzhao: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    if args.profile {
        let models = match Models::load(&args.models) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("yunzhao: {e}");
                return ExitCode::from(2);
            }
        };
        let view = image::open(args.models.join("astronaut.png")).map(|i| i.into_rgb8()).unwrap_or_default();
        println!("\nthe matting network on one thread, per kind of operation (ms, nodes):");
        yunzhao_imaging::use_threads(1);
        let _ = models.profile_matte(&view);
        match models.profile_matte(&view) {
            Ok(ops) => ops.iter().take(15).for_each(|(op, ms, n)| println!("  {op:<28} {ms:>8.1} {n:>5}")),
            Err(e) => eprintln!("yunzhao: {e}"),
        }
    }
    if reset {
        println!(
            "\npeak RSS from loading the models on: {:.0} MB (making the test photo before: {making:.0} MB)",
            peak_rss_mb()
        );
    } else {
        println!("\npeak RSS: {:.0} MB (including making the test photo)", peak_rss_mb());
    }
    ExitCode::SUCCESS
}
