//! Query planning: what a visitor typed, turned into the words to look for. Pure.
//!
//! A plan is an OR of conjunctions (the query as typed, and each plain-language rewrite of it);
//! a conjunction is a list of groups that should all match (for three groups or more, all but
//! one); a group is an OR of alternatives (a Chinese word, or the candidates a pinyin string
//! spells). Phrases are boosted when they appear whole.

use super::normalize::{compact, is_han, normalize, runs, Run};
use super::pinyin;
use super::synonyms::Synonyms;
use super::vocab::Vocabulary;
use super::words;

/// Queries are cut to this many characters: nobody types more on a kiosk, and it bounds the work.
pub const MAX_QUERY_CHARS: usize = 64;
/// Pinyin candidates kept for one typed string.
const MAX_CANDIDATES: usize = 5;

/// Words that carry no meaning in a visitor's question (怎么办理营业执照 → 办理 营业执照).
const STOPWORDS: &[&str] = &[
    "怎么",
    "怎样",
    "怎么样",
    "如何",
    "哪里",
    "在哪",
    "在哪里",
    "哪儿",
    "什么",
    "的",
    "了",
    "吗",
    "呢",
    "啊",
    "吧",
    "我",
    "我要",
    "我想",
    "想",
    "要",
    "能",
    "可以",
    "需要",
    "办",
    "去",
    "个",
    "一下",
    "请问",
    "请",
    "有",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "怎么办",
    "咋",
    "咋办",
    "哪些",
    "多少",
    "几天",
    "谁",
];

/// One thing to look for.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// Normalised text: a Chinese word, a Latin word or a number.
    pub text: String,
    /// Match it as a prefix (the visitor may still be typing it).
    pub prefix: bool,
    /// How much a match counts (1.0 for what was typed; less for guesses).
    pub weight: f32,
}

/// Alternatives of which one should match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub alternatives: Vec<Alternative>,
    /// The word the visitor is still typing: it ranks results but does not decide them.
    pub typing: bool,
}

/// Groups that should all match.
#[derive(Debug, Clone, PartialEq)]
pub struct Conjunction {
    pub groups: Vec<Group>,
    pub weight: f32,
}

/// What to search for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The query after normalisation (and shortening).
    pub normalized: String,
    /// Whether the query was cut to [`MAX_QUERY_CHARS`].
    pub shortened: bool,
    pub conjunctions: Vec<Conjunction>,
    /// Whole phrases that rank an item higher when it contains them as typed.
    pub phrases: Vec<String>,
    /// A compacted document number to match (`经开管发20243号`), when the query can be one.
    pub doc_number: Option<String>,
    /// The query with misheard characters put right (公基金提取 → 公积金提取), when it has any.
    pub corrected: Option<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.conjunctions.is_empty() && self.doc_number.is_none()
    }

    /// Every Chinese or Latin word searched for, longest first: for highlighting.
    pub fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .conjunctions
            .iter()
            .flat_map(|c| &c.groups)
            .flat_map(|g| &g.alternatives)
            .map(|a| a.text.clone())
            .chain(self.phrases.iter().cloned())
            .collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        words.dedup();
        words
    }
}

/// Plans a query.
pub fn plan(query: &str, vocabulary: &Vocabulary, synonyms: &Synonyms) -> Plan {
    let mut normalized = normalize(query);
    let shortened = normalized.chars().count() > MAX_QUERY_CHARS;
    if shortened {
        normalized = normalized.chars().take(MAX_QUERY_CHARS).collect();
    }
    // Still typing unless the query ends in a space.
    let typing = !normalized.ends_with(char::is_whitespace);
    let normalized = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut plan = Plan {
        normalized: normalized.clone(),
        shortened,
        ..Plan::default()
    };
    if runs(&normalized).is_empty() {
        return plan;
    }
    let planner = Planner { vocabulary, typing };
    let groups = planner.groups(&normalized);
    if !groups.is_empty() {
        plan.conjunctions.push(Conjunction {
            groups,
            weight: 1.0,
        });
    }
    // What the visitor meant in Chinese characters, when they typed pinyin: the best reading.
    let chinese: Option<String> = plan.conjunctions.first().and_then(|c| {
        let firsts: Option<Vec<&str>> = c
            .groups
            .iter()
            .map(|g| g.alternatives.first().map(|a| a.text.as_str()))
            .collect();
        let text = firsts?.join(" ");
        let typed_letters = normalized.chars().any(|c| c.is_ascii_lowercase());
        (typed_letters && text.chars().all(|c| is_han(c) || c == ' ')).then_some(text)
    });
    // A Chinese query with a wrong character that sounds right (公基金 for 公积金).
    if let Some(corrected) = planner.corrected(&normalized) {
        let groups = planner.groups(&corrected);
        if !groups.is_empty() {
            plan.conjunctions.push(Conjunction {
                groups,
                weight: 0.7,
            });
            plan.corrected = Some(corrected);
        }
    }
    let mut rewrites: Vec<String> = synonyms.expand(&normalized).into_iter().collect();
    if let Some(chinese) = &chinese {
        rewrites.extend(synonyms.expand(chinese));
    }
    for rewrite in rewrites {
        let groups = planner.groups(&rewrite);
        if !groups.is_empty() {
            plan.conjunctions.push(Conjunction {
                groups,
                weight: 0.9,
            });
        }
    }
    for piece in runs(&normalized) {
        if let Run::Han(han) = piece {
            if han.chars().count() >= 2 {
                plan.phrases.push(han.to_owned());
            }
        }
    }
    let compacted = compact(&normalized);
    if compacted.chars().any(|c| c.is_ascii_digit()) && compacted.chars().any(is_han) {
        plan.doc_number = Some(compacted);
    }
    plan
}

struct Planner<'a> {
    vocabulary: &'a Vocabulary,
    typing: bool,
}

impl Planner<'_> {
    /// The groups of one query text.
    fn groups(&self, text: &str) -> Vec<Group> {
        // The whole text as pinyin (letters, perhaps with Chinese characters among them).
        if pinyin::pattern(text).is_some() {
            if let Some(mut group) = self.pinyin_group(text, self.typing) {
                if text.bytes().all(|b| b.is_ascii_lowercase()) {
                    // It may also be a Latin word in the text (pdf, app).
                    group.alternatives.push(Alternative {
                        text: text.to_owned(),
                        prefix: self.typing,
                        weight: 0.5,
                    });
                }
                return vec![group];
            }
            if text.contains(' ') {
                return text.split(' ').flat_map(|part| self.groups(part)).collect();
            }
            if let Some(groups) = self.split_pinyin(text) {
                return groups;
            }
        }
        let pieces = runs(text);
        let last = pieces.len().saturating_sub(1);
        let mut groups = Vec::new();
        for (n, piece) in pieces.into_iter().enumerate() {
            let at_end = n == last && self.typing;
            match piece {
                Run::Han(han) => groups.extend(self.han_groups(han, at_end)),
                Run::Word(word) => {
                    let literal = Alternative {
                        text: word.to_owned(),
                        prefix: at_end,
                        weight: 1.0,
                    };
                    if word.bytes().all(|b| b.is_ascii_lowercase()) {
                        let mut group = self.pinyin_group(word, at_end).unwrap_or_default();
                        group.alternatives.push(Alternative {
                            weight: 0.5,
                            ..literal
                        });
                        groups.push(group);
                    } else {
                        groups.push(Group {
                            alternatives: vec![literal],
                            typing: false,
                        });
                    }
                }
            }
        }
        groups
    }

    /// The query with unknown Chinese words replaced by known words that sound the same, when
    /// there are any: spans of two to four characters, longest first.
    fn corrected(&self, text: &str) -> Option<String> {
        // Only text the vocabulary does not already explain: a run made of known words is
        // what the visitor meant.
        let explained = runs(text).into_iter().all(|piece| match piece {
            Run::Han(han) => {
                self.vocabulary.contains(han)
                    || words::cut(han)
                        .iter()
                        .all(|w| self.vocabulary.contains(w) || STOPWORDS.contains(w))
            }
            Run::Word(_) => true,
        });
        if explained {
            return None;
        }
        // A word still being typed is not misheard: 社会保 is on its way to 社会保障.
        let last_run = runs(text).into_iter().last();
        if let Some(Run::Han(han)) = last_run {
            if self.typing && !self.vocabulary.completions(han, 1).is_empty() {
                return None;
            }
        }
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::new();
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            let replacement = (2..=4.min(chars.len() - i)).rev().find_map(|len| {
                let span: String = chars[i..i + len].iter().collect();
                if !span.chars().all(is_han) || self.vocabulary.contains(&span) {
                    return None;
                }
                self.vocabulary
                    .homophone(&span)
                    .map(|word| (len, word.to_owned()))
            });
            match replacement {
                Some((len, word)) => {
                    out.push_str(&word);
                    changed = true;
                    i += len;
                }
                None => {
                    out.push(chars[i]);
                    i += 1;
                }
            }
        }
        changed.then_some(out)
    }

    /// The words of a Chinese run, without stopwords (unless nothing else is left).
    fn han_groups(&self, han: &str, at_end: bool) -> Vec<Group> {
        let whole = Alternative {
            text: han.to_owned(),
            prefix: false,
            weight: 1.0,
        };
        if self.vocabulary.contains(han) {
            return vec![Group {
                alternatives: vec![whole],
                typing: false,
            }];
        }
        if at_end && han.chars().count() >= 2 {
            // Still typing: the known words this is the start of (营业执 → 营业执照).
            let completions = self.vocabulary.completions(han, 3);
            // Only the usual completions: the rare ones would outweigh what was typed.
            let best = completions.first().map_or(0, |(_, weight)| *weight);
            let completions: Vec<&str> = completions
                .into_iter()
                .filter(|(_, weight)| weight * 3 >= best)
                .map(|(word, _)| word)
                .collect();
            if !completions.is_empty() {
                let mut alternatives = vec![whole];
                alternatives.extend(completions.into_iter().enumerate().map(|(rank, word)| {
                    Alternative {
                        text: word.to_owned(),
                        prefix: false,
                        weight: 0.9 - 0.1 * rank as f32,
                    }
                }));
                return vec![Group {
                    alternatives,
                    typing: false,
                }];
            }
        }
        let cut = words::cut(han);
        let meaningful: Vec<&str> = cut
            .iter()
            .copied()
            .filter(|w| !STOPWORDS.contains(w))
            .collect();
        let chosen = if meaningful.is_empty() {
            cut
        } else {
            meaningful
        };
        let last = chosen.len().saturating_sub(1);
        chosen
            .into_iter()
            .enumerate()
            .map(|(i, word)| {
                // A lone last character may be the start of a word still being typed: the
                // precomputed most useful words it starts stand for it.
                let prefix = at_end && i == last && word.chars().count() == 1;
                let words = if prefix {
                    self.vocabulary.precomputed(word, 3)
                } else {
                    Vec::new()
                };
                let alternatives = if words.is_empty() {
                    vec![Alternative {
                        text: word.to_owned(),
                        prefix,
                        weight: 1.0,
                    }]
                } else {
                    words
                        .into_iter()
                        .enumerate()
                        .map(|(rank, text)| Alternative {
                            text,
                            prefix: false,
                            weight: 0.9 - 0.1 * rank as f32,
                        })
                        .collect()
                };
                Group {
                    alternatives,
                    typing: prefix,
                }
            })
            .collect()
    }

    /// The vocabulary words a pinyin string spells; with one typo allowed when nothing matches
    /// exactly and the string is long enough to tell.
    fn pinyin_group(&self, typed: &str, at_end: bool) -> Option<Group> {
        let letters = typed.bytes().filter(u8::is_ascii_lowercase).count();
        if at_end && letters <= 2 && typed.len() == letters {
            // The first keystrokes: the precomputed most useful words, no live matching.
            let words = self.vocabulary.precomputed(typed, 3);
            if !words.is_empty() {
                let alternatives = words
                    .into_iter()
                    .enumerate()
                    .map(|(rank, text)| Alternative {
                        text,
                        prefix: false,
                        weight: 1.0 - 0.1 * rank as f32,
                    })
                    .collect();
                return Some(Group {
                    alternatives,
                    typing: true,
                });
            }
        }
        let mut candidates = self.vocabulary.candidates(typed, MAX_CANDIDATES, 0);
        if !at_end {
            candidates.retain(|c| !c.quality.partial);
        }
        if candidates.is_empty() && letters >= 5 {
            candidates = self.vocabulary.candidates(typed, MAX_CANDIDATES, 1);
            candidates.retain(|c| !c.quality.partial || at_end);
        }
        if candidates.is_empty() {
            return None;
        }
        // A word typed in full means that word, not the longer words it starts.
        if candidates.iter().any(|c| !c.quality.partial) {
            candidates.retain(|c| !c.quality.partial);
        }
        // Of the words it could be the start of, the rare ones are unlikely to be meant.
        let best = candidates.iter().map(|c| c.weight).max().unwrap_or(0);
        candidates.retain(|c| !c.quality.partial || c.weight * 3 >= best);
        let alternatives = candidates
            .into_iter()
            .enumerate()
            .map(|(rank, c)| {
                let mut weight = 1.0 - 0.1 * rank as f32;
                if c.quality.typos > 0 {
                    weight *= 0.7;
                }
                Alternative {
                    text: c.text,
                    prefix: false,
                    weight,
                }
            })
            .collect();
        Some(Group {
            alternatives,
            typing: false,
        })
    }

    /// A long pinyin string without spaces that spells no single word: split it in two where both
    /// halves spell words (`yingyezhizhaobanli` → 营业执照 + 办理).
    fn split_pinyin(&self, text: &str) -> Option<Vec<Group>> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() < 4 {
            return None;
        }
        for cut in (2..chars.len() - 1).rev() {
            let left: String = chars[..cut].iter().collect();
            let right: String = chars[cut..].iter().collect();
            let exact = self.vocabulary.candidates(&left, 1, 0);
            if exact.first().is_some_and(|c| !c.quality.partial) {
                if let Some(right_group) = self.pinyin_group(&right, self.typing) {
                    let left_group = self.pinyin_group(&left, false)?;
                    return Some(vec![left_group, right_group]);
                }
            }
        }
        None
    }
}
