//! The networks' imported copies (tract NNEF, written by `yunzhao import-models`) compute what
//! the ONNX files compute, and a copy that no longer matches its ONNX file is never used.

mod common;

use std::path::{Path, PathBuf};

use yunzhao_domain::campaign::{PhotoSpec, Preset};
use yunzhao_imaging::models::{import_all, imported_copies_current};
use yunzhao_imaging::{Models, run_pipeline};

/// A models directory holding links to the pinned ONNX files and their sums, nothing else.
fn bare_models_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("yunzhao-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = common::models_dir().canonicalize().expect("models/ (run `make models`)");
    let sums = std::fs::read_to_string(src.join("SHA256SUMS")).expect("SHA256SUMS");
    std::fs::write(dir.join("SHA256SUMS"), &sums).expect("write sums");
    for file in sums.lines().filter_map(|l| l.split_whitespace().nth(1)).filter(|f| f.ends_with(".onnx")) {
        std::os::unix::fs::symlink(src.join(file), dir.join(file)).expect("link");
    }
    dir
}

fn standard_photo(dir: &Path) -> Vec<u8> {
    let models = Models::load(dir).expect("models load");
    let photo = common::png(&common::astronaut());
    let out = run_pipeline(&photo, &PhotoSpec::preset(Preset::Chsi), &models).expect("pipeline");
    out.photo.expect("a standard photo").standard_jpeg
}

#[test]
fn an_imported_copy_makes_the_same_photo_as_the_onnx_and_a_stale_one_is_ignored() {
    let onnx_only = bare_models_dir("onnx");
    assert!(!imported_copies_current(&onnx_only));
    let expected = standard_photo(&onnx_only);

    let imported = bare_models_dir("imported");
    let written = import_all(&imported).expect("import");
    assert_eq!(written.len(), 8, "a copy and a key per network: {written:?}");
    assert!(imported_copies_current(&imported));
    assert!(standard_photo(&imported) == expected, "the same bytes from the imported copies");

    // A new version of a network (its pinned hash changes): the old copy is stale, and
    // loading imports the ONNX file again rather than using it.
    let sums = std::fs::read_to_string(imported.join("SHA256SUMS")).expect("sums");
    let changed = sums.replacen("b7a7", "0000", 1);
    assert_ne!(changed, sums);
    std::fs::write(imported.join("SHA256SUMS"), changed).expect("write sums");
    assert!(!imported_copies_current(&imported));
    assert!(standard_photo(&imported) == expected);

    for dir in [onnx_only, imported] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
