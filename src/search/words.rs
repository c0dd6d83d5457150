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
/// vocabulary and the whole-word fields of the index.
pub fn cut_for_search(text: &str) -> Vec<&str> {
    JIEBA
        .cut_for_search(text, true)
        .into_iter()
        .map(|token| token.word)
        .collect()
}

/// Whether jieba's dictionary has the word. A dictionary word in a text is one of the words the
/// text is cut into, unless the text's own words straddle it (会领 in 社会领域 is not the word).
pub fn is_word(word: &str) -> bool {
    JIEBA.has_word(word)
}

/// The words of `text` by the dictionary alone: a character it does not know stands on its own.
pub fn cut_by_dictionary(text: &str) -> Vec<&str> {
    JIEBA
        .cut(text, false)
        .into_iter()
        .map(|token| token.word)
        .collect()
}

/// Character offsets where the words of [`cut_by_dictionary`] begin and end: `0` and the
/// length of the text are always among them.
pub fn boundaries(text: &str) -> Vec<usize> {
    let mut at = 0;
    let mut out = vec![0];
    for word in cut_by_dictionary(text) {
        at += word.chars().count();
        out.push(at);
    }
    out
}
