//! The benchmark's query sets, taken from the generated corpus: realistic queries, every prefix
//! of them as typed one character at a time, and their pinyin initials. Pure and deterministic.

use std::collections::HashSet;

use super::corpus::Rng;
use crate::content::Content;
use crate::search::normalize::{is_han, normalize};
use crate::search::{pinyin, words};

/// The kinds of query a visitor types, and their share of the set in percent: two-character
/// words (社保, 医保), words (营业执照, 公积金), short phrases (职称评审工作).
const SHAPES: [(Shape, usize); 3] = [
    (Shape::TwoChars, 30),
    (Shape::Word, 40),
    (Shape::Phrase, 30),
];

/// Title words that no visitor types as part of a phrase.
const FUNCTION_WORDS: &[&str] = &[
    "关于",
    "印发",
    "有关",
    "进一步",
    "做好",
    "开展",
    "通知",
    "公告",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Two characters.
    TwoChars,
    /// A word of three or four characters.
    Word,
    /// Neighbouring title words, five to eight characters in all.
    Phrase,
}

impl Shape {
    fn fits(self, text: &str) -> bool {
        let chars = text.chars().count();
        text.chars().all(is_han)
            && match self {
                Shape::TwoChars => chars == 2,
                Shape::Word => (3..=4).contains(&chars),
                Shape::Phrase => (5..=8).contains(&chars),
            }
    }
}

/// `n` distinct queries of 2–8 Chinese characters from the keywords and titles of `content`, in
/// the shares of [`SHAPES`]. Fewer when the content is too small to give that many.
pub fn realistic(content: &Content, n: usize, random_seed: u64) -> Vec<String> {
    let mut rng = Rng::new(random_seed);
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<String> = Vec::with_capacity(n);
    if content.items.is_empty() {
        return out;
    }
    for (shape, share) in SHAPES {
        let quota = if shape == Shape::Phrase {
            n - out.len()
        } else {
            n * share / 100
        };
        let mut found = 0;
        let mut attempts = 0;
        while found < quota && attempts < 50 * n {
            attempts += 1;
            let item = rng.pick(&content.items);
            let candidate = match shape {
                Shape::TwoChars | Shape::Word => {
                    // Keywords are what visitors type; a title word now and then too.
                    if !item.keywords.is_empty() && rng.chance(70) {
                        normalize(rng.pick::<String>(&item.keywords))
                    } else {
                        let title = normalize(&item.title);
                        let cut: Vec<&str> = words::cut(&title);
                        if cut.is_empty() {
                            continue;
                        }
                        (*rng.pick(&cut)).to_owned()
                    }
                }
                Shape::Phrase => {
                    let title = normalize(&item.title);
                    let cut: Vec<&str> = words::cut(&title);
                    if cut.is_empty() {
                        continue;
                    }
                    let start = rng.below(cut.len());
                    let len = rng.between(2, 3);
                    let phrase = &cut[start..(start + len).min(cut.len())];
                    // Visitors type whole words: no one-character fragment (和, 沧) and no
                    // function word (关于) in a phrase.
                    if phrase
                        .iter()
                        .any(|w| w.chars().count() < 2 || FUNCTION_WORDS.contains(w))
                    {
                        continue;
                    }
                    phrase.concat()
                }
            };
            if shape.fits(&candidate) && seen.insert(candidate.clone()) {
                out.push(candidate);
                found += 1;
            }
        }
    }
    out
}

/// Every prefix of a query as typed one character at a time (through an IME, a Chinese
/// character arrives whole): 社, 社会, 社会保, 社会保障.
pub fn prefixes(query: &str) -> Vec<String> {
    query
        .char_indices()
        .map(|(i, c)| query[..i + c.len_utf8()].to_owned())
        .collect()
}

/// The pinyin initials of a query (社会保障 → shbz).
pub fn initials(query: &str) -> String {
    pinyin::initials(&pinyin::reading(&normalize(query)))
}

/// The query sets measured, all derived from the realistic queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySets {
    /// The realistic queries, whole.
    pub queries: Vec<String>,
    /// Every prefix of every query, in typing order.
    pub keystrokes: Vec<String>,
    /// Every prefix of every query's pinyin initials, in typing order.
    pub initials: Vec<String>,
}

impl QuerySets {
    pub fn new(queries: Vec<String>) -> QuerySets {
        let keystrokes = queries.iter().flat_map(|q| prefixes(q)).collect();
        let initials = queries
            .iter()
            .flat_map(|q| prefixes(&initials(q)))
            .collect();
        QuerySets {
            queries,
            keystrokes,
            initials,
        }
    }
}
