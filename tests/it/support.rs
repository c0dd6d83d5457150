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

/// A small hall at a content version: five items every version has, and one only this
/// version has (`only-v<N>`, titled [`only_title`]), so a search tells the versions apart.
pub fn hall(version: u32) -> Fixture {
    let mut items = String::new();
    let common = [
        (
            "c-1",
            "notice",
            "zcwj",
            "关于开展城乡居民医疗保险集中参保登记的通知",
        ),
        ("c-2", "disclosure", "zcwj-gfxwj", "青岚区城市绿化管理办法"),
        (
            "c-3",
            "notice",
            "zcwj",
            "关于调整公共租赁住房租金标准的公告",
        ),
        (
            "c-4",
            "disclosure",
            "zcwj-gfxwj",
            "青岚区农村宅基地审批管理规定",
        ),
        ("c-5", "notice", "zcwj", "关于做好冬季供暖保障工作的通知"),
    ];
    for (id, kind, column, title) in common {
        items.push_str(&format!(
            "{{\"id\": \"{id}\", \"kind\": \"{kind}\", \"column\": \"{column}\", \"title\": \"{title}\", \"date\": \"2026-0{version}-10\", \"body\": \"{title}。版本{version}。\"}}\n"
        ));
    }
    items.push_str(&format!(
        "{{\"id\": \"only-v{version}\", \"kind\": \"notice\", \"column\": \"zcwj\", \"title\": \"{}\", \"date\": \"2026-03-01\"}}\n",
        only_title(version)
    ));
    Fixture::with_items(&items)
}

/// The title of the item only version `version` of [`hall`] has.
pub fn only_title(version: u32) -> String {
    match version {
        1 => "旧版独有古城墙修缮工程公示".into(),
        2 => "新版增设智慧停车场建设公告".into(),
        n => format!("第{n}版增设事项公告"),
    }
}

/// A signing key made from a fixed seed (so failures reproduce).
pub fn key(seed: u8) -> kiosk::bundle::SecretKey {
    kiosk::bundle::SecretKey::from_seed([seed; 32])
}

/// Builds a bundle of `source` with `seq`, signed by `key`, into `dir/test-<seq>.kbundle`.
pub fn build_bundle(
    source: &Path,
    seq: u64,
    key: &kiosk::bundle::SecretKey,
    dir: &Path,
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join(format!("test-{seq}.kbundle"));
    let options = kiosk::bundle::BuildOptions {
        source,
        key,
        seq,
        version: Some(format!("第{seq}版")),
        created: 1_790_000_000 + seq as i64,
        level: 3,
    };
    kiosk::bundle::build(&options, &out).expect("the fixture bundles build");
    out
}

/// Copies a folder tree, keeping symbolic links as links (a data directory's `current`).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below a folder, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
