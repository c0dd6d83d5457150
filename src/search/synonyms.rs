//! Plain-language search: rules that turn what visitors say (`暂住证`) into the terms official
//! pages use (`居住证`). The content's own `synonyms.txt` comes first, then the built-in
//! thesaurus (`synonyms-builtin.txt`, over a thousand rules by domain). Pure.
//!
//! A rule is `phrase => term term ...`: a query that holds the phrase as whole words also stands
//! for the same query with the phrase replaced by any one of the terms (the first is the most
//! precise).

use super::normalize::normalize;
use super::words;
use crate::content::SynonymRule;

/// Rules ready to apply: normalised, longest phrase first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Synonyms {
    rules: Vec<(String, String)>,
}

/// A query cut by the rules that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// The visitor's own words, between the phrases rules replace.
    Text(String),
    /// A phrase a rule replaces, and the official terms it stands for.
    Terms { phrase: String, terms: Vec<String> },
}

/// The built-in thesaurus, in the `synonyms.txt` format.
const BUILTIN: &str = include_str!("synonyms-builtin.txt");

impl Synonyms {
    /// The content's rules followed by the built-in ones; a phrase the content defines is not
    /// redefined by the built-in list.
    pub fn new(content_rules: &[SynonymRule]) -> Synonyms {
        let mut seen = std::collections::HashSet::new();
        let mut rules: Vec<(String, String)> = Vec::new();
        for rule in content_rules
            .iter()
            .cloned()
            .chain(crate::source::synonym_rules(BUILTIN))
        {
            let phrase = normalize(&rule.phrase);
            if phrase.is_empty() || !seen.insert(phrase.clone()) {
                continue;
            }
            rules.push((phrase, normalize(&rule.terms.join(" "))));
        }
        rules.sort_by_key(|(phrase, _)| std::cmp::Reverse(phrase.chars().count()));
        Synonyms { rules }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A normalised query cut by every rule whose phrase it holds as whole words (longest
    /// first, never overlapping an earlier one): `None` when no rule applies. A phrase inside a
    /// longer word of the query (上学 in 上学期) is not the phrase.
    pub fn expand(&self, query: &str) -> Option<Vec<Piece>> {
        let chars: Vec<char> = query.chars().collect();
        let mut boundaries: Option<Vec<usize>> = None;
        // Character spans of the query already rewritten, with their rule.
        let mut replaced: Vec<(usize, usize, &str, &str)> = Vec::new();
        for (phrase, terms) in &self.rules {
            // Most rules do not apply at all: the cheap test first, on every keystroke.
            if !query.contains(phrase.as_str()) {
                continue;
            }
            // The phrase is only part of a term the query already holds (执照 => 营业执照 on
            // 营业执照): nothing to rewrite.
            if terms
                .split(' ')
                .any(|term| term.contains(phrase.as_str()) && query.contains(term))
            {
                continue;
            }
            let needle: Vec<char> = phrase.chars().collect();
            let boundaries = boundaries.get_or_insert_with(|| words::boundaries(query));
            let Some(start) = (0..=chars.len() - needle.len()).find(|&i| {
                chars[i..].starts_with(&needle)
                    && boundaries.contains(&i)
                    && boundaries.contains(&(i + needle.len()))
            }) else {
                continue;
            };
            let end = start + needle.len();
            if replaced.iter().all(|&(s, e, _, _)| end <= s || start >= e) {
                replaced.push((start, end, phrase, terms));
            }
        }
        if replaced.is_empty() {
            return None;
        }
        replaced.sort_by_key(|&(start, ..)| start);
        let mut pieces = Vec::new();
        let mut at = 0;
        let text = |from: usize, to: usize, pieces: &mut Vec<Piece>| {
            let between: String = chars[from..to].iter().collect();
            if !between.trim().is_empty() {
                pieces.push(Piece::Text(between.trim().to_owned()));
            }
        };
        for (start, end, phrase, terms) in replaced {
            text(at, start, &mut pieces);
            pieces.push(Piece::Terms {
                phrase: phrase.to_owned(),
                terms: terms.split(' ').map(str::to_owned).collect(),
            });
            at = end;
        }
        text(at, chars.len(), &mut pieces);
        Some(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces as one line, each replaced phrase as its terms joined by `|`.
    fn show(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Terms { terms, .. } => terms.join("|"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn rule(phrase: &str, terms: &str) -> SynonymRule {
        SynonymRule {
            phrase: phrase.into(),
            terms: terms.split(' ').map(Into::into).collect(),
        }
    }

    fn check(synonyms: &Synonyms, query: &str, expected: Option<&str>) {
        assert_eq!(
            synonyms.expand(query).map(|p| show(&p)).as_deref(),
            expected,
            "{query}"
        );
    }

    #[test]
    fn expands_with_the_longest_rule_first() {
        let synonyms = Synonyms::new(&[
            rule("办身份证", "居民身份证 申领"),
            rule("身份证", "居民身份证"),
        ]);
        check(&synonyms, "怎么办身份证", Some("怎么办 居民身份证"));
        check(&synonyms, "我想办身份证", Some("我想 居民身份证|申领"));
        check(&synonyms, "营业执照", None);
        let synonyms = Synonyms::new(&[rule("执照", "营业执照")]);
        check(&synonyms, "营业执照", None);
        check(&synonyms, "执照", Some("营业执照"));
    }

    #[test]
    fn applies_every_rule_that_fits_at_once() {
        let synonyms = Synonyms::new(&[
            rule("租房子", "租房"),
            rule("提公积金", "公积金提取"),
            rule("公积金", "住房公积金"),
        ]);
        check(&synonyms, "租房子提公积金", Some("租房 公积金提取"));
    }

    #[test]
    fn a_phrase_inside_a_longer_word_of_the_query_is_not_the_phrase() {
        let synonyms = Synonyms::new(&[rule("上学", "入学")]);
        check(
            &synonyms,
            "学生上学要办什么手续",
            Some("学生 入学 要办什么手续"),
        );
        check(&synonyms, "上学期期末考试安排", None);
    }

    #[test]
    fn content_rules_win_over_builtin_ones() {
        let synonyms = Synonyms::new(&[rule("低保", "特别用语")]);
        check(&synonyms, "低保", Some("特别用语"));
    }

    #[test]
    fn the_builtin_thesaurus_is_large_well_formed_and_has_no_repeated_phrase() {
        let rules = crate::source::synonym_rules(BUILTIN);
        assert!(rules.len() >= 1000, "{} rules", rules.len());
        let mut seen = std::collections::HashSet::new();
        for rule in &rules {
            assert!(rule.phrase.chars().count() >= 2, "{rule:?}");
            assert!((1..=3).contains(&rule.terms.len()), "{rule:?}");
            assert!(seen.insert(rule.phrase.clone()), "{} twice", rule.phrase);
            assert!(
                !rule.terms.contains(&rule.phrase),
                "{rule:?} rewrites to itself"
            );
        }
        let domains = BUILTIN.lines().filter(|l| l.starts_with("# ")).count();
        assert!(domains >= 16, "{domains} domain comments");
    }
}
