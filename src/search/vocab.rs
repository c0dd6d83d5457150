//! The vocabulary: the words of the content's titles and keywords, with their pinyin. It turns
//! what a visitor types in Latin letters into Chinese words (`yyzz` → 营业执照), offers the
//! candidates of the on-screen keyboard and the suggestions of the first keystrokes, and finds the
//! "did you mean" word for a query that found nothing. Pure: built from content, saved as JSON.

use std::collections::HashMap;

use super::normalize::{is_han, normalize};
use super::pinyin::{self, Match, Syllable, Typed};
use super::words;
use crate::content::Content;

/// How many suggestions are kept for each one- or two-keystroke prefix.
const SUGGESTIONS_PER_PREFIX: usize = 10;
/// Words that join others without meaning of their own: no compound is made with them.
const FUNCTION_WORDS: &[&str] = &[
    "和", "与", "及", "的", "了", "等", "对", "在", "为", "于", "或", "并", "关于", "以及", "和与",
    "之", "其", "从", "由", "向", "将", "把", "被", "是", "有", "也", "都", "而", "中",
];
/// Longest term, in characters, kept in the vocabulary.
const MAX_TERM_CHARS: usize = 8;

/// One word of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    pub text: String,
    /// How useful the word is: the number of titles and keywords (keywords count twice) it is in.
    pub weight: u32,
}

/// The reading of a term word by word, so that a polyphone word never straddles two words
/// (注重 + 建设 is not 重建).
fn reading_by_words(term: &str) -> Vec<Syllable> {
    words::cut(term)
        .into_iter()
        .flat_map(pinyin::reading)
        .collect()
}

/// The saved form: terms in weight order and the precomputed first-keystroke suggestions.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct VocabularyData {
    pub terms: Vec<Term>,
    /// Prefix (one or two letters, or one or two Chinese characters) → term indexes.
    pub suggestions: HashMap<String, Vec<u32>>,
}

/// The vocabulary, ready to match against.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    data: VocabularyData,
    readings: Vec<Vec<Syllable>>,
    /// First letter of the reading → term indexes, to try only terms that can match.
    by_first_letter: HashMap<u8, Vec<u32>>,
    /// Full pinyin → term indexes, for homophone typos.
    by_full: HashMap<String, Vec<u32>>,
    by_text: HashMap<String, u32>,
    /// Term indexes in text order, for completing Chinese prefixes.
    sorted: Vec<u32>,
}

/// A vocabulary term matched by what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub quality: Match,
    pub weight: u32,
}

impl Vocabulary {
    /// Collects the words of every title and keyword of the content.
    pub fn build(content: &Content) -> Vocabulary {
        let mut weights: HashMap<String, u32> = HashMap::new();
        let mut add = |word: &str, weight: u32| {
            let han = word.chars().filter(|c| is_han(*c)).count();
            let chars = word.chars().count();
            if han >= 2 && han == chars && chars <= MAX_TERM_CHARS {
                *weights.entry(word.to_owned()).or_default() += weight;
            }
        };
        for item in &content.items {
            let title = normalize(&item.title);
            let cut = words::cut(&title);
            for word in words::cut_for_search(&title) {
                add(word, 1);
            }
            // Neighbouring words make the compounds visitors type (残疾人 + 证), but not with
            // a function word (人力资源 + 和).
            for pair in cut.windows(2) {
                if !pair.iter().any(|w| FUNCTION_WORDS.contains(w)) {
                    add(&pair.concat(), 1);
                    // The end of a longer word with the next one (企业资质 + 复核 → 资质复核):
                    // visitors name the thing, not the words around it.
                    let (left, right) = (pair[0], pair[1]);
                    if left.chars().count() >= 4 {
                        for tail in words::cut_for_search(left) {
                            if tail.chars().count() >= 2 && tail != left && left.ends_with(tail) {
                                add(&format!("{tail}{right}"), 1);
                            }
                        }
                    }
                }
            }
            // A word of one character binds to the two before it (技术 + 先进 + 型).
            for triple in cut.windows(3) {
                let last = triple[2];
                if last.chars().count() == 1
                    && !FUNCTION_WORDS.contains(&last)
                    && !triple[..2].iter().any(|w| FUNCTION_WORDS.contains(w))
                {
                    add(&triple.concat(), 1);
                }
            }
            for keyword in &item.keywords {
                let keyword = normalize(keyword);
                add(&keyword, 2);
                for word in words::cut_for_search(&keyword) {
                    add(word, 1);
                }
            }
        }
        for rule in &content.synonyms {
            add(&normalize(&rule.phrase), 1);
        }
        let mut terms: Vec<Term> = weights
            .into_iter()
            .map(|(text, weight)| Term { text, weight })
            .collect();
        terms.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.text.cmp(&b.text)));
        let mut vocabulary = Vocabulary::from_data(VocabularyData {
            terms,
            suggestions: HashMap::new(),
        });
        vocabulary.data.suggestions = vocabulary.compute_suggestions();
        vocabulary
    }

    /// Rebuilds the lookup tables of a saved vocabulary.
    pub fn from_data(data: VocabularyData) -> Vocabulary {
        let readings: Vec<Vec<Syllable>> = data
            .terms
            .iter()
            .map(|t| reading_by_words(&t.text))
            .collect();
        let mut by_first_letter: HashMap<u8, Vec<u32>> = HashMap::new();
        let mut by_full: HashMap<String, Vec<u32>> = HashMap::new();
        let mut by_text = HashMap::new();
        for (i, reading) in readings.iter().enumerate() {
            let i = i as u32;
            if let Some(first) = reading.first().and_then(|s| s.py.bytes().next()) {
                by_first_letter.entry(first).or_default().push(i);
            }
            by_full.entry(pinyin::full(reading)).or_default().push(i);
            by_text.insert(data.terms[i as usize].text.clone(), i);
        }
        let mut sorted: Vec<u32> = (0..data.terms.len() as u32).collect();
        sorted.sort_by(|&a, &b| {
            data.terms[a as usize]
                .text
                .cmp(&data.terms[b as usize].text)
        });
        Vocabulary {
            data,
            readings,
            by_first_letter,
            by_full,
            by_text,
            sorted,
        }
    }

    /// Known words that start with a Chinese prefix and are longer than it, with their weights,
    /// most useful first.
    pub fn completions(&self, prefix: &str, limit: usize) -> Vec<(&str, u32)> {
        let start = self
            .sorted
            .partition_point(|&i| self.data.terms[i as usize].text.as_str() < prefix);
        let mut found: Vec<&Term> = self.sorted[start..]
            .iter()
            .map(|&i| &self.data.terms[i as usize])
            .take_while(|t| t.text.starts_with(prefix))
            .filter(|t| t.text != prefix)
            .take(256)
            .collect();
        found.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then_with(|| a.text.chars().count().cmp(&b.text.chars().count()))
        });
        found
            .into_iter()
            .take(limit)
            .map(|t| (t.text.as_str(), t.weight))
            .collect()
    }

    pub fn data(&self) -> &VocabularyData {
        &self.data
    }

    pub fn len(&self) -> usize {
        self.data.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.terms.is_empty()
    }

    pub fn contains(&self, word: &str) -> bool {
        self.by_text.contains_key(word)
    }

    /// Keys under which a term is suggested after one or two keystrokes.
    fn suggestion_keys(term: &str, reading: &[Syllable]) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let chars: Vec<char> = term.chars().collect();
        keys.push(chars[..1].iter().collect());
        keys.push(chars[..2.min(chars.len())].iter().collect());
        let full = pinyin::full(reading);
        keys.push(full.chars().take(1).collect());
        keys.push(full.chars().take(2).collect());
        keys.push(pinyin::initials(reading).chars().take(2).collect());
        keys.sort();
        keys.dedup();
        keys.retain(|k| !k.is_empty());
        keys
    }

    fn compute_suggestions(&self) -> HashMap<String, Vec<u32>> {
        let mut map: HashMap<String, Vec<u32>> = HashMap::new();
        // Terms are in weight order, so the first ones under a key are the best.
        for (i, term) in self.data.terms.iter().enumerate() {
            for key in Self::suggestion_keys(&term.text, &self.readings[i]) {
                let list = map.entry(key).or_default();
                if list.len() < SUGGESTIONS_PER_PREFIX {
                    list.push(i as u32);
                }
            }
        }
        map
    }

    /// The precomputed suggestions for one or two keystrokes (`y`, `yy`, `营`), most useful first.
    pub fn precomputed(&self, typed: &str, limit: usize) -> Vec<String> {
        self.data
            .suggestions
            .get(typed)
            .map(|list| {
                list.iter()
                    .take(limit)
                    .map(|&i| self.data.terms[i as usize].text.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Suggestions for what has been typed so far: precomputed for one or two keystrokes,
    /// matched against the vocabulary after that.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<String> {
        let typed = normalize(typed).split_whitespace().collect::<String>();
        if typed.chars().count() <= 2 {
            if let Some(list) = self.data.suggestions.get(&typed) {
                return list
                    .iter()
                    .take(limit)
                    .map(|&i| self.data.terms[i as usize].text.clone())
                    .collect();
            }
        }
        if typed.chars().all(is_han) {
            return self
                .completions(&typed, limit)
                .into_iter()
                .map(|(word, _)| word.to_owned())
                .collect();
        }
        self.candidates(&typed, limit, 0)
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    /// Terms that what was typed (pinyin, initials, a mix with Chinese characters) spells, best
    /// first: complete before partial, fewer typos, spelled out before abbreviated, more useful.
    pub fn candidates(&self, typed: &str, limit: usize, max_typos: u8) -> Vec<Candidate> {
        let Some(pattern) = pinyin::pattern(typed) else {
            return Vec::new();
        };
        let first = match pattern[0] {
            Typed::Letter(letter) => letter,
            Typed::Han(c) => match pinyin::char_reading(c).and_then(|py| py.bytes().next()) {
                Some(letter) => letter,
                None => return Vec::new(),
            },
        };
        let mut found = Vec::new();
        for &i in self
            .by_first_letter
            .get(&first)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let reading = &self.readings[i as usize];
            if let Some(quality) = pinyin::matches(&pattern, reading, max_typos) {
                let term = &self.data.terms[i as usize];
                found.push(Candidate {
                    text: term.text.clone(),
                    quality,
                    weight: term.weight,
                });
            }
        }
        found.sort_by(|a, b| {
            a.quality
                .typos
                .cmp(&b.quality.typos)
                .then(a.quality.partial.cmp(&b.quality.partial))
                .then(a.quality.abbreviated.cmp(&b.quality.abbreviated))
                .then(b.weight.cmp(&a.weight))
                .then(a.text.chars().count().cmp(&b.text.chars().count()))
        });
        found.truncate(limit);
        found
    }

    /// The most useful known word that sounds like `word` but is written differently
    /// (公基金 → 公积金).
    pub fn homophone(&self, word: &str) -> Option<&str> {
        let reading = reading_by_words(word);
        if reading.len() < 2 || reading.iter().any(|s| s.ch.is_none()) {
            return None;
        }
        self.by_full
            .get(&pinyin::full(&reading))?
            .iter()
            .map(|&i| self.data.terms[i as usize].text.as_str())
            .find(|text| *text != word && text.chars().count() == reading.len())
    }

    /// A known word close to an unknown Chinese word: one that sounds the same, or (for words of
    /// three characters or more) differs in one character. The most useful one wins.
    pub fn did_you_mean(&self, word: &str) -> Option<String> {
        if self.contains(word) || word.chars().count() < 2 {
            return None;
        }
        if let Some(term) = self.homophone(word) {
            return Some(term.to_owned());
        }
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 3 {
            return None;
        }
        self.data
            .terms
            .iter()
            .find(|term| {
                let other: Vec<char> = term.text.chars().collect();
                other.len() == chars.len()
                    && other.iter().zip(&chars).filter(|(a, b)| a != b).count() == 1
            })
            .map(|term| term.text.clone())
    }
}
