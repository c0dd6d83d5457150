//! The synthetic corpus: any number of items made of the real titles and sentences of a seed
//! content (the public hebei-gov corpus, or the sample hall). Pure and deterministic: the same
//! seed content, size and random seed always give the same items.

use std::collections::HashSet;

use crate::content::{Body, Column, ColumnTree, Content, Date, Guide, Item, ItemKind, Material};
use crate::search::normalize::{is_han, normalize};
use crate::search::words;

/// A small deterministic random source (xorshift64*): enough for shuffling benchmark data, and it
/// keeps the corpus identical across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Any seed works, 0 included: the state must never be 0.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One real item the generator draws from: its title, where it is filed, and its sentences.
#[derive(Debug, Clone)]
struct SeedDoc {
    title: String,
    column: String,
    publisher: Option<String>,
    topic: Option<String>,
    keywords: Vec<String>,
    /// Its sentences, as a range of [`Seed::sentences`].
    sentences: std::ops::Range<usize>,
}

/// What the generator draws from, taken once from a loaded content source.
#[derive(Debug, Clone)]
pub struct Seed {
    site: crate::content::Site,
    columns: Vec<Column>,
    synonyms: Vec<crate::content::SynonymRule>,
    docs: Vec<SeedDoc>,
    sentences: Vec<String>,
}

/// Sentences shorter or longer than this (in characters) are not used: fragments and run-on
/// paragraphs without punctuation would make bodies unlike real ones.
const SENTENCE_CHARS: std::ops::RangeInclusive<usize> = 20..=200;
/// A body is topped up (to 12 sentences at most) until it is this long: real bodies are rarely shorter.
const BODY_CHARS: usize = 300;

/// Splits text into sentences after 。！？；, each keeping its closing mark.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '。' | '！' | '？' | '；') {
            let end = i + c.len_utf8();
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

impl Seed {
    /// Takes the titles and the usable sentences of every item of `content`: whole sentences
    /// (closed by 。！？；) of 20–200 characters, mostly Chinese. A sentence that repeats across
    /// items (boilerplate) is kept once.
    pub fn new(content: &Content) -> Seed {
        use std::hash::{Hash, Hasher};
        let mut seen: HashSet<u64> = HashSet::new();
        let mut pool: Vec<String> = Vec::new();
        let mut docs = Vec::with_capacity(content.items.len());
        for item in &content.items {
            let start = pool.len();
            for sentence in sentences(&item.body.plain_text()) {
                let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
                let chars = sentence.chars().count();
                let han = sentence.chars().filter(|c| is_han(*c)).count();
                // DefaultHasher::new() has fixed keys, so this is deterministic.
                let mut hasher = std::hash::DefaultHasher::new();
                sentence.hash(&mut hasher);
                let closed = sentence.ends_with(['。', '！', '？', '；']);
                if closed
                    && SENTENCE_CHARS.contains(&chars)
                    && han * 2 >= chars
                    && seen.insert(hasher.finish())
                {
                    pool.push(sentence);
                }
            }
            docs.push(SeedDoc {
                title: item.title.split_whitespace().collect::<Vec<_>>().join(" "),
                column: item.column.clone(),
                publisher: item.publisher.clone(),
                topic: item.topic.clone(),
                keywords: item.keywords.clone(),
                sentences: start..pool.len(),
            });
        }
        Seed {
            site: content.site.clone(),
            columns: content.columns.all().to_vec(),
            synonyms: content.synonyms.clone(),
            docs,
            sentences: pool,
        }
    }

    /// How many real titles there are to draw from.
    pub fn titles(&self) -> usize {
        self.docs.len()
    }

    /// How many distinct usable sentences there are to draw from.
    pub fn sentence_count(&self) -> usize {
        self.sentences.len()
    }
}

/// The share of each kind, in percent: mostly disclosures, as on a real government site.
const KIND_SHARES: [(ItemKind, usize); 4] = [
    (ItemKind::Disclosure, 72),
    (ItemKind::Guide, 10),
    (ItemKind::Interpretation, 12),
    (ItemKind::Notice, 6),
];

/// Title words that say nothing about the subject, so are never keywords.
const NOT_KEYWORDS: &[&str] = &[
    "关于",
    "通知",
    "印发",
    "有关",
    "进一步",
    "公告",
    "决定",
    "意见",
    "办法",
    "工作",
    "实施",
    "开展",
    "做好",
    "加强",
    "我省",
    "全省",
    "年度",
];

const DOC_NUMBER_PREFIXES: &[&str] = &[
    "冀政字",
    "冀政办字",
    "冀人社字",
    "冀科政字",
    "冀工信规",
    "冀教办",
    "冀财社",
];
const MATERIALS: &[&str] = &[
    "居民身份证",
    "营业执照",
    "申请表",
    "授权委托书",
    "户口簿",
    "不动产权证书",
    "社会保障卡",
    "承诺书",
    "结婚证",
    "出生医学证明",
    "劳动合同",
    "法定代表人身份证明",
];
const GUIDE_TYPES: &[&str] = &[
    "行政许可",
    "公共服务",
    "行政确认",
    "行政给付",
    "其他行政权力",
];
const APPLICANTS: &[&str] = &[
    "自然人",
    "企业法人",
    "自然人、企业法人",
    "事业单位法人",
    "社会组织法人",
];
const STEPS: &[&str] = &["申请", "受理", "审查", "决定", "制证", "送达"];

/// The part of a title before 关于: who issued it (`人力资源社会保障部`).
fn issuer(title: &str) -> Option<&str> {
    let (issuer, _) = title.split_once("关于")?;
    (issuer.chars().count() >= 2).then_some(issuer)
}

/// The part of a title after 关于: what it is about.
fn subject(title: &str) -> Option<&str> {
    let (_, subject) = title.split_once("关于")?;
    (subject.chars().count() >= 4).then_some(subject)
}

fn han_word(word: &str) -> bool {
    word.chars().all(is_han)
}

/// Builds `n` items from the seed. Titles are real titles, recombined (one issuer with
/// another's subject) or suffixed so they vary; each item has 2–5 keywords taken from its title,
/// a body of 3–12 real sentences (mostly a run from the same real item as its title), a kind
/// drawn like a real site's, a date in 2015–2026, and the column of the real item its title
/// comes from.
pub fn generate(seed: &Seed, n: usize, random_seed: u64) -> Content {
    let mut rng = Rng::new(random_seed);
    let mut items = Vec::with_capacity(n);
    let mut last_disclosure: Option<String> = None;
    if !seed.docs.is_empty() {
        for i in 0..n {
            let item = seed.item(&mut rng, i, last_disclosure.as_deref());
            if item.kind == ItemKind::Disclosure {
                last_disclosure = Some(item.id.clone());
            }
            items.push(item);
        }
    }
    Content::new(
        seed.site.clone(),
        ColumnTree::new(seed.columns.clone()),
        items,
        seed.synonyms.clone(),
    )
}

impl Seed {
    fn item(&self, rng: &mut Rng, i: usize, last_disclosure: Option<&str>) -> Item {
        let doc = rng.pick(&self.docs);
        let mut roll = rng.below(100);
        let kind = KIND_SHARES
            .iter()
            .find(|(_, share)| {
                let hit = roll < *share;
                roll = roll.saturating_sub(*share);
                hit
            })
            .map_or(ItemKind::Disclosure, |(kind, _)| *kind);
        let year = 2015 + rng.below(12) as u16;
        let title = self.title(rng, doc, kind, year);
        let body_sentences = self.body(rng, doc);
        let keywords = keywords(rng, &title, doc, body_sentences.first().map(String::as_str));
        let markdown = paragraphs(rng, &body_sentences);
        let (body, _) = Body::parse(&markdown);
        let date = Date::new(year, 1 + rng.below(12) as u8, 1 + rng.below(28) as u8);
        let doc_number = (kind == ItemKind::Disclosure && rng.chance(40)).then(|| {
            format!(
                "{}〔{year}〕{}号",
                rng.pick(DOC_NUMBER_PREFIXES),
                1 + rng.below(80)
            )
        });
        let guide = (kind == ItemKind::Guide).then(|| self.guide(rng));
        Item {
            id: format!("syn-{i:06}"),
            kind,
            column: doc.column.clone(),
            title,
            date,
            url: None,
            publisher: doc.publisher.clone(),
            doc_number,
            index_number: None,
            topic: doc.topic.clone(),
            validity: None,
            keywords,
            body,
            attachments: Vec::new(),
            interprets: if kind == ItemKind::Interpretation {
                last_disclosure.map(str::to_owned)
            } else {
                None
            },
            guide,
        }
    }

    fn title(&self, rng: &mut Rng, doc: &SeedDoc, kind: ItemKind, year: u16) -> String {
        let other = rng.pick(&self.docs);
        let suffixed = |rng: &mut Rng| -> String {
            let suffix = match rng.below(6) {
                0 => "（试行）".to_owned(),
                1 => "实施细则".to_owned(),
                2 => "的补充通知".to_owned(),
                3 => format!("（第{}批）", 1 + rng.below(9)),
                4 => format!("（{year}年修订）"),
                _ => format!("（{year}年版）"),
            };
            format!("{}{suffix}", doc.title)
        };
        let base = match rng.below(100) {
            0..=29 => doc.title.clone(),
            30..=59 => match (issuer(&other.title), subject(&doc.title)) {
                (Some(issuer), Some(subject)) => format!("{issuer}关于{subject}"),
                _ => suffixed(rng),
            },
            60..=84 => suffixed(rng),
            _ => format!("{year}年{}", doc.title),
        };
        match kind {
            ItemKind::Interpretation if rng.chance(50) => format!("《{base}》政策解读"),
            ItemKind::Notice if rng.chance(50) => match subject(&base) {
                Some(subject) => format!("关于{}的公告", subject.trim_end_matches("的通知")),
                None => format!("{base}公告"),
            },
            _ => base,
        }
    }

    /// 3–12 sentences, at least [`BODY_CHARS`] characters where 12 sentences allow: a run from
    /// the title's own item, continued with a run from elsewhere.
    fn body(&self, rng: &mut Rng, doc: &SeedDoc) -> Vec<String> {
        let want = rng.between(3, 12);
        let mut out: Vec<String> = Vec::with_capacity(12);
        let mut chars = 0;
        let mut next = if doc.sentences.is_empty() {
            None
        } else {
            Some(doc.sentences.start + rng.below(doc.sentences.len()))
        };
        let mut end = doc.sentences.end;
        while (out.len() < want || chars < BODY_CHARS)
            && out.len() < 12
            && !self.sentences.is_empty()
        {
            let i = match next {
                Some(i) if i < end => i,
                _ => {
                    let start = rng.below(self.sentences.len());
                    end = self.sentences.len();
                    start
                }
            };
            chars += self.sentences[i].chars().count();
            out.push(self.sentences[i].clone());
            next = Some(i + 1);
        }
        out
    }

    fn guide(&self, rng: &mut Rng) -> Guide {
        let sentence = |rng: &mut Rng| -> String {
            if self.sentences.is_empty() {
                String::new()
            } else {
                rng.pick(&self.sentences).clone()
            }
        };
        let conditions = (0..rng.between(1, 2)).map(|_| sentence(rng)).collect();
        let mut materials: Vec<Material> = Vec::new();
        for _ in 0..rng.between(2, 4) {
            let name = (*rng.pick(MATERIALS)).to_owned();
            if materials.iter().all(|m| m.name != name) {
                materials.push(Material {
                    name,
                    form: Some("原件".to_owned()),
                    copies: Some(1),
                    note: None,
                });
            }
        }
        let steps = STEPS[..rng.between(3, STEPS.len())]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        Guide {
            item_type: Some((*rng.pick(GUIDE_TYPES)).to_owned()),
            applicants: Some((*rng.pick(APPLICANTS)).to_owned()),
            conditions,
            materials,
            steps,
            location: self.site.hall.clone(),
            fee: Some("不收费".to_owned()),
            visits: Some(rng.below(2) as u32),
            ..Guide::default()
        }
    }
}

/// 2–5 keywords: the real item's own keywords when it has them, then the title's words, the
/// subject (after 关于) first, so the first keyword is the item's main subject.
fn keywords(
    rng: &mut Rng,
    title: &str,
    doc: &SeedDoc,
    first_sentence: Option<&str>,
) -> Vec<String> {
    let want = rng.between(2, 5);
    let mut out: Vec<String> = Vec::new();
    let add = |word: &str, out: &mut Vec<String>| {
        let chars = word.chars().count();
        if (2..=6).contains(&chars)
            && han_word(word)
            && !NOT_KEYWORDS.contains(&word)
            && !out.iter().any(|k| k == word)
        {
            out.push(word.to_owned());
        }
    };
    for keyword in &doc.keywords {
        add(&normalize(keyword), &mut out);
    }
    let title = normalize(title);
    let subject = subject(&title).unwrap_or(&title);
    for word in words::cut(subject).into_iter().chain(words::cut(&title)) {
        add(word, &mut out);
    }
    if out.len() < 2 {
        let sentence = normalize(first_sentence.unwrap_or_default());
        for word in words::cut(&sentence) {
            add(word, &mut out);
        }
    }
    out.truncate(want);
    out
}

/// Sentences into Markdown paragraphs of 1–4 sentences.
fn paragraphs(rng: &mut Rng, sentences: &[String]) -> String {
    let mut out = String::new();
    let mut left = 0;
    for sentence in sentences {
        if left == 0 {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            left = rng.between(1, 4);
        }
        out.push_str(sentence);
        left -= 1;
    }
    out
}
