//! Shared test helpers: content sources written to temporary directories.

use std::path::{Path, PathBuf};

use kiosk::source::Loaded;

pub const SITE: &str = r#"id = "test"
name = "测试站点"
allowed_hosts = ["www.example.gov.cn"]
"#;

pub const COLUMNS: &str = r#"[[column]]
id = "zcwj"
name = "政策文件"

[[column]]
id = "zcwj-gfxwj"
name = "规范性文件"
parent = "zcwj"

[[column]]
id = "zwfw"
name = "办事指南"
"#;

/// A content source in a temporary directory, removed when dropped.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Writes `files` (path relative to the source, contents) into a new directory.
    pub fn new(files: &[(&str, &[u8])]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        Fixture { dir }
    }

    /// The standard site and columns with one items file.
    pub fn with_items(items: &str) -> Fixture {
        Fixture::new(&[
            ("site.toml", SITE.as_bytes()),
            ("columns.toml", COLUMNS.as_bytes()),
            ("items/a.jsonl", items.as_bytes()),
        ])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn load(&self) -> Loaded {
        kiosk::source::load(self.path()).expect("a fixture directory always loads")
    }
}

/// The ids loaded and every problem, one a line: what the loader tests compare.
pub fn summary(loaded: &Loaded) -> String {
    let ids: Vec<&str> = loaded
        .content
        .items
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    let mut out = format!("loaded: {}\n", ids.join(", "));
    for problem in &loaded.problems {
        out.push_str(&problem.to_string());
        out.push('\n');
    }
    out
}

/// The repository's root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared public corpus beside the project, when it is there.
pub fn shared_corpus(name: &str) -> Option<PathBuf> {
    let dir = repo_root()
        .join("..")
        .join("shared")
        .join("corpora")
        .join(name);
    dir.join("site.toml").is_file().then_some(dir)
}

/// Renders a screen with the real `kiosk screenshot` and loads the PNG.
pub fn screenshot(page: &str, size: &str, extra: &[&str]) -> image::DynamicImage {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shot.png");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["screenshot", "--page", page, "--size", size, "-o"])
        .arg(&out)
        .args(extra)
        .current_dir(repo_root())
        .env("KIOSK_DATA_DIR", dir.path().join("data"))
        .env("KIOSK_CONFIG", repo_root().join("deploy/kiosk.toml"))
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "screenshot {page} {size}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    image::open(&out).unwrap()
}
