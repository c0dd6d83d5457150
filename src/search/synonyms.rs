//! Plain-language search: rules that turn what visitors say (`办身份证`) into the terms official
//! pages use (`居民身份证 申领`). The content's own `synonyms.txt` comes first, then a built-in
//! general list (`synonyms-builtin.txt`). Pure.

use super::normalize::normalize;
use crate::content::SynonymRule;

/// Rules ready to apply: normalised, longest phrase first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Synonyms {
    rules: Vec<(String, String)>,
}

/// The built-in general rules, in the `synonyms.txt` format.
const BUILTIN: &str = include_str!("synonyms-builtin.txt");

impl Synonyms {
    /// The content's rules followed by the built-in ones; a phrase the content defines is not
    /// redefined by the built-in list.
    pub fn new(content_rules: &[SynonymRule]) -> Synonyms {
        let mut rules: Vec<(String, String)> = Vec::new();
        let builtin = BUILTIN.lines().filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let (phrase, terms) = line.split_once("=>")?;
            let terms: Vec<String> = terms.split_whitespace().map(str::to_owned).collect();
            (!phrase.trim().is_empty() && !terms.is_empty()).then(|| SynonymRule {
                phrase: phrase.trim().to_owned(),
                terms,
            })
        });
        for rule in content_rules.iter().cloned().chain(builtin) {
            let phrase = normalize(&rule.phrase);
            if phrase.is_empty() || rules.iter().any(|(p, _)| *p == phrase) {
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

    /// The query a normalised query also stands for: every rule whose phrase it contains
    /// (longest first, never overlapping an earlier one) applied at once, the phrase replaced by
    /// the rule's terms. `None` when no rule applies.
    pub fn expand(&self, query: &str) -> Option<String> {
        // Character spans of the query already rewritten, with their replacement.
        let chars: Vec<char> = query.chars().collect();
        let mut replaced: Vec<(usize, usize, &str)> = Vec::new();
        for (phrase, terms) in &self.rules {
            // The phrase is only part of a term the query already holds (执照 => 营业执照 on
            // 营业执照): nothing to rewrite.
            if terms
                .split(' ')
                .any(|term| term.contains(phrase.as_str()) && query.contains(term))
            {
                continue;
            }
            let needle: Vec<char> = phrase.chars().collect();
            let Some(start) = (0..chars.len().saturating_sub(needle.len() - 1))
                .find(|&i| chars[i..].starts_with(&needle))
            else {
                continue;
            };
            let end = start + needle.len();
            if replaced.iter().all(|&(s, e, _)| end <= s || start >= e) {
                replaced.push((start, end, terms));
            }
        }
        if replaced.is_empty() {
            return None;
        }
        replaced.sort_by_key(|&(start, _, _)| start);
        let mut out = String::new();
        let mut at = 0;
        for (start, end, terms) in replaced {
            out.extend(&chars[at..start]);
            out.push(' ');
            out.push_str(terms);
            out.push(' ');
            at = end;
        }
        out.extend(&chars[at..]);
        Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(phrase: &str, terms: &str) -> SynonymRule {
        SynonymRule {
            phrase: phrase.into(),
            terms: terms.split(' ').map(Into::into).collect(),
        }
    }

    #[test]
    fn expands_with_the_longest_rule_first() {
        let synonyms = Synonyms::new(&[
            rule("办身份证", "居民身份证 申领"),
            rule("身份证", "居民身份证"),
        ]);
        assert_eq!(
            synonyms.expand("怎么办身份证").as_deref(),
            Some("怎么 居民身份证 申领")
        );
        // The built-in 丢了 => 补领 applies too.
        assert_eq!(
            synonyms.expand("身份证丢了").as_deref(),
            Some("居民身份证 补领")
        );
        assert_eq!(synonyms.expand("营业执照"), None);
        let synonyms = Synonyms::new(&[rule("执照", "营业执照")]);
        assert_eq!(synonyms.expand("营业执照"), None);
        assert_eq!(synonyms.expand("执照").as_deref(), Some("营业执照"));
    }

    #[test]
    fn applies_every_rule_that_fits_at_once() {
        let synonyms = Synonyms::new(&[
            rule("租房子", "租房"),
            rule("提公积金", "公积金提取"),
            rule("公积金", "住房公积金"),
        ]);
        assert_eq!(
            synonyms.expand("租房子提公积金").as_deref(),
            Some("租房 公积金提取")
        );
    }

    #[test]
    fn content_rules_win_over_builtin_ones() {
        let synonyms = Synonyms::new(&[rule("低保", "特别用语")]);
        assert_eq!(synonyms.expand("低保").as_deref(), Some("特别用语"));
    }
}
