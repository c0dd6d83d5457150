//! Chinese word segmentation: one jieba dictionary for the whole process, loaded on first use.

use std::sync::LazyLock;

use jieba_rs::Jieba;

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Loads the dictionary now (it takes about 0.1 s), so that the first search does not wait.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// The words of normalised text, in order, for a query: jieba's precise mode.
pub fn cut(text: &str) -> Vec<&str> {
    JIEBA
        .cut(text, true)
        .into_iter()
        .map(|token| token.word)
        .collect()
}

/// Words and the shorter words inside them (`营业执照` also gives `营业`, `执照`): for the
/// vocabulary and the whole-word field of the index.
pub fn cut_for_search(text: &str) -> Vec<&str> {
    JIEBA
        .cut_for_search(text, true)
        .into_iter()
        .map(|token| token.word)
        .collect()
}
