//! Query planning: what a visitor typed, turned into the words to look for. Pure.
//!
//! A plan is an OR of conjunctions (the query as typed, a spelling put right, and the query with
//! the plain-language rules applied); a conjunction is a list of groups, of which a share that
//! grows with their number must match ([`required`]); a group is an OR of alternatives (a
//! Chinese word, the candidates a pinyin string spells, the official terms of a plain phrase).
//! Question frames and function words (怎么办, 能不能, 我想) are dropped; generic words
//! (办理, 材料, 单字) only rank. Phrases are boosted when they appear whole.

use super::normalize::{compact, is_han, normalize, runs, Run};
use super::pinyin;
use super::synonyms::{Piece, Synonyms};
use super::vocab::Vocabulary;
use super::words;
use crate::content::SynonymRule;

/// Queries are cut to this many characters: nobody types more on a kiosk, and it bounds the work.
pub const MAX_QUERY_CHARS: usize = 64;
/// Pinyin candidates kept for one typed string.
const MAX_CANDIDATES: usize = 5;

/// Words that carry no meaning in a visitor's question (怎么办理营业执照 → 办理 营业执照): question
/// frames, pronouns, particles and function words.
const STOPWORDS: &[&str] = &[
    // Question words and frames.
    "怎么",
    "怎样",
    "怎么样",
    "怎么办",
    "如何",
    "咋",
    "咋办",
    "咋整",
    "怎么弄",
    "怎么搞",
    "怎办",
    "哪里",
    "哪儿",
    "哪",
    "在哪",
    "在哪里",
    "在哪儿",
    "去哪",
    "去哪里",
    "去哪儿",
    "到哪",
    "到哪里",
    "什么",
    "啥",
    "哪些",
    "哪个",
    "多少",
    "多少钱",
    "几天",
    "多久",
    "多长时间",
    "什么时候",
    "啥时候",
    "谁",
    "找谁",
    "谁管",
    "归谁管",
    "问谁",
    "吗",
    "呢",
    "啊",
    "吧",
    "呀",
    "嘛",
    "么",
    "呗",
    "哦",
    "嗯",
    "能不能",
    "能否",
    "可不可以",
    "可以吗",
    "要不要",
    "需不需要",
    "有没有",
    "是不是",
    "会不会",
    "行不行",
    "好不好",
    "对不对",
    "用不用",
    "算不算",
    // The asker and the asking.
    "我",
    "我们",
    "我家",
    "俺",
    "自己",
    "自个儿",
    "你",
    "你们",
    "您",
    "请问",
    "请",
    "您好",
    "你好",
    "麻烦",
    "问一下",
    "问问",
    "咨询一下",
    "想问",
    "想知道",
    "了解一下",
    "一下",
    "我要",
    "我想",
    "想",
    "想要",
    "要",
    "能",
    "可以",
    "需要",
    "得",
    "应该",
    "该",
    "办",
    "去",
    "个",
    "有",
    "是",
    "在",
    "给",
    // Function words.
    "的",
    "了",
    "着",
    "过",
    "和",
    "与",
    "及",
    "或",
    "或者",
    "还是",
    "以及",
    "关于",
    "就",
    "都",
    "还",
    "也",
    "又",
    "才",
    "把",
    "被",
    "让",
    "对",
    "跟",
    "从",
    "为",
    "为了",
    "那个",
    "这个",
    "那些",
    "这些",
    "一个",
    "一些",
    "这",
    "那",
    "些",
    "啦",
    "嘞",
];

/// Words too general to decide what matches: they rank results that also hold them higher.
const WEAK_WORDS: &[&str] = &[
    "办理",
    "申请",
    "申办",
    "手续",
    "材料",
    "资料",
    "流程",
    "程序",
    "条件",
    "政策",
    "规定",
    "相关",
    "有关",
    "问题",
    "事项",
    "事情",
    "标准",
    "要求",
    "文件",
    "通知",
    "查询",
    "时间",
    "地点",
    "地方",
    "部门",
    "窗口",
    "情况",
    "方面",
    "具体",
    "最新",
    "新的",
    "现在",
    "今年",
    "目前",
    "哪家",
    "办法",
    "东西",
    "事儿",
    "怎么交",
    "交钱",
    "费用",
    // The setting of a question, not its subject: when, who at home, where in general.
    "冬天",
    "夏天",
    "春天",
    "秋天",
    "平时",
    "平常",
    "最近",
    "以后",
    "以前",
    "今天",
    "明天",
    "每月",
    "每年",
    "每天",
    "家里",
    "家中",
    "村里",
    "城里",
    "这里",
    "那里",
    "本地",
    "当地",
    "孩子",
    "小孩",
    "儿子",
    "女儿",
    "父母",
    "爸妈",
    "爸爸",
    "妈妈",
    "老婆",
    "老公",
    "丈夫",
    "妻子",
    "家人",
    "亲戚",
    "朋友",
    "邻居",
    "同事",
    "别人",
    "人家",
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
    /// The words of a compound (公积金提取 → 公积金, 提取; words of one character left out): the
    /// compound also matches where its words stand apart (住房公积金的提取), as many of them as
    /// [`required`] asks. Empty for one word.
    pub parts: Vec<String>,
}

impl Alternative {
    fn new(text: impl Into<String>, prefix: bool, weight: f32) -> Alternative {
        Alternative {
            text: text.into(),
            prefix,
            weight,
            parts: Vec::new(),
        }
    }

    /// Chinese the visitor typed, or an official term: also matched where its words stand
    /// apart. (A word spelled in pinyin or completed from a prefix is a word of the content's
    /// titles, matched whole: that keeps every keystroke cheap.)
    fn compound(text: impl Into<String>, weight: f32) -> Alternative {
        let text = text.into();
        Alternative {
            parts: parts(&text),
            ..Alternative::new(text, false, weight)
        }
    }
}

/// The meaningful words of a Chinese compound of two or more of them.
fn parts(text: &str) -> Vec<String> {
    if !text.chars().all(is_han) || text.chars().count() < 3 {
        return Vec::new();
    }
    let cut: Vec<&str> = words::cut(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(w) && w.chars().count() >= 2)
        .collect();
    if cut.len() < 2 {
        return Vec::new();
    }
    cut.into_iter().map(str::to_owned).collect()
}

/// Alternatives of which one should match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub alternatives: Vec<Alternative>,
    /// The word the visitor is still typing: it ranks results but does not decide them.
    pub typing: bool,
    /// A general word (办理) or a single character: it ranks results but does not decide them.
    pub weak: bool,
}

impl Group {
    fn of(alternatives: Vec<Alternative>) -> Group {
        Group {
            alternatives,
            ..Group::default()
        }
    }

    /// Whether the group decides what matches (it is not being typed and not weak).
    pub fn firm(&self) -> bool {
        !self.typing && !self.weak
    }
}

/// How many of `n` firm groups must match: all of one or two, then a share that grows with the
/// query (2 of 3, 3 of 4 and 5, 4 of 6, 5 of 7 and 8 ...), so a long question is matched by how much
/// of it an item covers rather than by every word.
pub fn required(n: usize) -> usize {
    if n <= 2 {
        n
    } else {
        (3 * n).div_ceil(5)
    }
}

/// Groups that should all match.
#[derive(Debug, Clone, PartialEq)]
pub struct Conjunction {
    pub groups: Vec<Group>,
    pub weight: f32,
}

impl Conjunction {
    /// The text this conjunction searches for, one word a group (its first alternative).
    pub fn text(&self) -> String {
        self.groups
            .iter()
            .filter_map(|g| g.alternatives.first())
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
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
    /// Words of the query that are not searched for: question frames and function words.
    pub dropped: Vec<String>,
    /// Plain-language rules applied.
    pub expansions: Vec<SynonymRule>,
    /// Pinyin read as Chinese: what was typed, the word it was read as, and whether a typo was
    /// put right on the way.
    pub readings: Vec<(String, String, bool)>,
    /// What was searched for when it differs from what was typed because a rule or a
    /// correction changed it (暂住证怎么办 → 居住证): for the screen's 已为您查找 line.
    pub searched_as: Option<String>,
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
            .flat_map(|a| std::iter::once(&a.text).chain(&a.parts))
            .chain(self.phrases.iter())
            .cloned()
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
    let planner = Planner {
        vocabulary,
        typing,
        dropped: Default::default(),
        readings: Default::default(),
    };
    let groups = planner.query_groups(&normalized);
    plan.dropped = planner.dropped.take();
    plan.readings = planner.readings.take();
    if !groups.is_empty() {
        plan.conjunctions.push(Conjunction {
            groups,
            weight: 1.0,
        });
    }
    // What the visitor meant in Chinese characters, when they typed pinyin: the best reading.
    let chinese: Option<String> = plan.conjunctions.first().and_then(|c| {
        let text = c.text();
        let typed_letters = normalized.chars().any(|c| c.is_ascii_lowercase());
        (typed_letters && !text.is_empty() && text.chars().all(|c| is_han(c) || c == ' '))
            .then_some(text)
    });
    if plan.readings.iter().any(|(_, _, typo)| *typo) {
        plan.searched_as = chinese.clone().map(|c| c.replace(' ', ""));
    }
    // A Chinese query with a wrong character that sounds right (公基金 for 公积金).
    if let Some(corrected) = planner.corrected(&normalized) {
        let groups = planner.query_groups(&corrected);
        if !groups.is_empty() {
            plan.conjunctions.push(Conjunction {
                groups,
                weight: 0.7,
            });
            plan.searched_as = Some(corrected.clone());
            plan.corrected = Some(corrected);
        }
    }
    // The query with the plain-language rules applied: the visitor's words and, for each plain
    // phrase, the official terms.
    let expanded = synonyms
        .expand(&normalized)
        .or_else(|| chinese.as_deref().and_then(|c| synonyms.expand(c)));
    if let Some(pieces) = expanded {
        let last = pieces.len() - 1;
        let mut groups = Vec::new();
        for (n, piece) in pieces.into_iter().enumerate() {
            match piece {
                Piece::Text(text) => {
                    let planner = Planner {
                        typing: typing && n == last,
                        ..planner.clone()
                    };
                    groups.extend(planner.groups(&text));
                }
                Piece::Terms { phrase, terms } => {
                    // The official terms, and the visitor's own phrase after them: the rewrite
                    // still finds the pages that say it the visitor's way.
                    let mut alternatives: Vec<Alternative> = terms
                        .iter()
                        .enumerate()
                        .map(|(rank, term)| {
                            Alternative::compound(term.as_str(), 1.0 - 0.05 * rank as f32)
                        })
                        .collect();
                    alternatives.push(Alternative::new(phrase.as_str(), false, 0.9));
                    // A rule for a general phrase (什么材料) does not decide either.
                    let weak = words::cut(&phrase)
                        .iter()
                        .all(|w| STOPWORDS.contains(w) || WEAK_WORDS.contains(w));
                    groups.push(Group {
                        alternatives,
                        typing: false,
                        weak,
                    });
                    plan.expansions.push(SynonymRule { phrase, terms });
                }
            }
        }
        if !groups.is_empty() {
            let conjunction = Conjunction {
                groups: decide(groups),
                weight: 0.9,
            };
            let text = conjunction.text();
            if plan.searched_as.is_none() {
                // Only the firm words: 居住证, not 居住证 办理.
                let firm: Vec<&str> = conjunction
                    .groups
                    .iter()
                    .filter(|g| g.firm())
                    .filter_map(|g| g.alternatives.first())
                    .map(|a| a.text.as_str())
                    .collect();
                plan.searched_as = Some(if firm.is_empty() {
                    text
                } else {
                    firm.join(" ")
                });
            }
            plan.conjunctions.push(conjunction);
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

/// A run of Chinese characters cut at its yes-or-no frames (`X不X`, `X没X`: 能不能, 是不是,
/// 有没有), each piece with whether it is such a frame.
fn without_frames(han: &str) -> Vec<(&str, bool)> {
    let chars: Vec<(usize, char)> = han.char_indices().collect();
    let mut out = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while i + 2 < chars.len() {
        let (start, first) = chars[i];
        if matches!(chars[i + 1].1, '不' | '没') && chars[i + 2].1 == first {
            let end = chars.get(i + 3).map_or(han.len(), |c| c.0);
            if start > from {
                out.push((&han[from..start], false));
            }
            out.push((&han[start..end], true));
            from = end;
            i += 3;
        } else {
            i += 1;
        }
    }
    if from < han.len() {
        out.push((&han[from..], false));
    }
    out
}

/// Groups of which at least one decides: general words alone (办理流程) are what was asked.
fn decide(mut groups: Vec<Group>) -> Vec<Group> {
    if groups.iter().all(|g| g.weak || g.typing) {
        for group in &mut groups {
            group.weak = false;
        }
    }
    groups
}

#[derive(Clone)]
struct Planner<'a> {
    vocabulary: &'a Vocabulary,
    typing: bool,
    /// Words left out, as the planning goes.
    dropped: std::cell::RefCell<Vec<String>>,
    /// Pinyin read as Chinese, as the planning goes.
    readings: std::cell::RefCell<Vec<(String, String, bool)>>,
}

impl Planner<'_> {
    /// The groups of a query text, with at least one that decides: a query of general words
    /// only (办理流程) is searched for them, and one of question words only (什么) for those.
    fn query_groups(&self, text: &str) -> Vec<Group> {
        let mut groups = self.groups(text);
        if groups.is_empty() && !self.dropped.borrow().is_empty() {
            self.dropped.borrow_mut().clear();
            groups = runs(text)
                .into_iter()
                .filter_map(|piece| match piece {
                    Run::Han(han) => Some(han),
                    Run::Word(_) => None,
                })
                .map(|han| Group::of(vec![Alternative::new(han, false, 1.0)]))
                .collect();
        }
        decide(groups)
    }

    /// The groups of one query text.
    fn groups(&self, text: &str) -> Vec<Group> {
        // The whole text as pinyin (letters, perhaps with Chinese characters among them).
        if pinyin::pattern(text).is_some() {
            if let Some(mut group) = self.pinyin_group(text, self.typing) {
                if text.bytes().all(|b| b.is_ascii_lowercase()) {
                    // It may also be a Latin word in the text (pdf, app).
                    group
                        .alternatives
                        .push(Alternative::new(text, self.typing, 0.5));
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
                Run::Han(han) => {
                    // A yes-or-no frame (能不能, 有没有, 要不要) splits the run and is dropped.
                    let parts = without_frames(han);
                    let last_part = parts.len().saturating_sub(1);
                    for (i, (part, framed)) in parts.into_iter().enumerate() {
                        if framed {
                            self.dropped.borrow_mut().push(part.to_owned());
                        } else {
                            groups.extend(self.han_groups(part, at_end && i == last_part));
                        }
                    }
                }
                Run::Word(word) => {
                    if word.bytes().all(|b| b.is_ascii_lowercase()) {
                        let mut group = self.pinyin_group(word, at_end).unwrap_or_default();
                        group.alternatives.push(Alternative::new(word, at_end, 0.5));
                        groups.push(group);
                    } else {
                        groups.push(Group::of(vec![Alternative::new(word, at_end, 1.0)]));
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
        // A span is replaced only whole words at a time: 小时发 is not 小师法.
        let boundaries = words::boundaries(text);
        let mut out = String::new();
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            let replacement = (2..=4.min(chars.len() - i)).rev().find_map(|len| {
                let span: String = chars[i..i + len].iter().collect();
                if !span.chars().all(is_han)
                    || self.vocabulary.contains(&span)
                    || !boundaries.contains(&i)
                    || !boundaries.contains(&(i + len))
                {
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
        let general = STOPWORDS.contains(&han) || WEAK_WORDS.contains(&han);
        if self.vocabulary.contains(han) && !general {
            return vec![Group::of(vec![Alternative::compound(han, 1.0)])];
        }
        if at_end && han.chars().count() >= 2 && !general {
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
                let mut alternatives = vec![Alternative::compound(han, 1.0)];
                alternatives.extend(
                    completions
                        .into_iter()
                        .enumerate()
                        .map(|(rank, word)| Alternative::new(word, false, 0.9 - 0.1 * rank as f32)),
                );
                return vec![Group::of(alternatives)];
            }
        }
        let cut: Vec<&str> = words::cut(han)
            .into_iter()
            .flat_map(|word| self.unglued(word))
            .collect();
        let last = cut.len().saturating_sub(1);
        let mut groups = Vec::new();
        for (i, word) in cut.into_iter().enumerate() {
            if STOPWORDS.contains(&word) {
                self.dropped.borrow_mut().push(word.to_owned());
                continue;
            }
            // A lone last character may be the start of a word still being typed: the
            // precomputed most useful words it starts stand for it.
            let prefix = at_end && i == last && word.chars().count() == 1;
            let words = if prefix {
                self.vocabulary.precomputed(word, 3)
            } else {
                Vec::new()
            };
            let alternatives = if words.is_empty() {
                vec![Alternative::new(word, prefix, 1.0)]
            } else {
                words
                    .into_iter()
                    .enumerate()
                    .map(|(rank, text)| Alternative::new(text, false, 0.9 - 0.1 * rank as f32))
                    .collect()
            };
            let weak = !prefix
                && (WEAK_WORDS.contains(&word)
                    || (word.chars().count() == 1 && word.chars().all(is_han)));
            groups.push(Group {
                alternatives,
                typing: prefix,
                weak,
            });
        }
        groups
    }

    /// A word jieba made up from characters it does not know (想评 in 想评省级) that is neither in
    /// its dictionary nor in the content's vocabulary: two characters are two words; a longer
    /// one is cut again by the dictionary alone when that shows a question word glued to it.
    /// Any other word as it is.
    fn unglued<'t>(&self, word: &'t str) -> Vec<&'t str> {
        let chars = word.chars().count();
        if chars < 2 || words::is_word(word) || self.vocabulary.contains(word) {
            return vec![word];
        }
        // Two characters that are no word anyone wrote are two words of one character (会领 in
        // 养老金会领吗): searched as a pair they would match across words (社会领域).
        let pieces = words::cut_by_dictionary(word);
        if chars == 2 || pieces.iter().any(|p| STOPWORDS.contains(p)) {
            pieces
        } else {
            vec![word]
        }
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
                    .map(|(rank, text)| Alternative::new(text, false, 1.0 - 0.1 * rank as f32))
                    .collect();
                return Some(Group {
                    alternatives,
                    typing: true,
                    weak: false,
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
        if let Some(first) = candidates.first() {
            self.readings.borrow_mut().push((
                typed.to_owned(),
                first.text.clone(),
                first.quality.typos > 0,
            ));
        }
        let alternatives = candidates
            .into_iter()
            .enumerate()
            .map(|(rank, c)| {
                let mut weight = 1.0 - 0.1 * rank as f32;
                if c.quality.typos > 0 {
                    weight *= 0.7;
                }
                Alternative::new(c.text, false, weight)
            })
            .collect();
        Some(Group::of(alternatives))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::from_data(Default::default())
    }

    /// The deciding words of the query as typed, and the words dropped.
    fn check(query: &str, deciding: &[&str], dropped: &[&str]) {
        let plan = plan(query, &vocabulary(), &Synonyms::new(&[]));
        let firm: Vec<&str> = plan.conjunctions[0]
            .groups
            .iter()
            .filter(|g| g.firm())
            .map(|g| g.alternatives[0].text.as_str())
            .collect();
        assert_eq!(firm, deciding, "{query}");
        assert_eq!(plan.dropped, dropped, "{query}");
    }

    #[test]
    fn question_frames_and_function_words_are_dropped() {
        check(
            "老师能不能惩罚学生 ",
            &["老师", "惩罚", "学生"],
            &["能不能"],
        );
        check("交社保在哪交 ", &["社保"], &["在", "哪"]);
        check("请问有没有养老补贴", &["养老", "补贴"], &["请问", "有没有"]);
        check("怎么办理营业执照 ", &["营业执照"], &["怎么"]);
        // The setting (when, who at home) ranks; the subject decides.
        check("冬天家里暖气不热 ", &["暖气"], &[]);
    }

    #[test]
    fn general_words_alone_are_what_was_asked() {
        check("办理流程 ", &["办理", "流程"], &[]);
        check("什么 ", &["什么"], &[]);
    }

    #[test]
    fn a_compound_also_matches_its_words_apart() {
        assert_eq!(
            Alternative::compound("公积金提取", 1.0).parts,
            ["公积金", "提取"]
        );
        assert_eq!(
            Alternative::compound("养老保险转移", 1.0).parts,
            ["养老保险", "转移"]
        );
        assert!(Alternative::compound("营业", 1.0).parts.is_empty());
    }

    #[test]
    fn the_share_of_words_that_must_match_grows_with_the_query() {
        let shares: Vec<usize> = (1..=8).map(required).collect();
        assert_eq!(shares, [1, 2, 2, 3, 3, 4, 5, 5]);
    }

    #[test]
    fn a_rule_says_what_was_searched_and_keeps_the_visitors_phrase() {
        let synonyms = Synonyms::new(&[SynonymRule {
            phrase: "暂住证".into(),
            terms: vec!["居住证".into()],
        }]);
        let plan = plan("暂住证怎么办", &vocabulary(), &synonyms);
        assert_eq!(plan.searched_as.as_deref(), Some("居住证"));
        assert_eq!(plan.dropped, ["怎么办"]);
        let rewritten = &plan.conjunctions[1].groups[0].alternatives;
        let texts: Vec<&str> = rewritten.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["居住证", "暂住证"]);
    }
}
