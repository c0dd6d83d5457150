//! `synonyms.txt`: one rule a line, `通俗说法 => 规范用语 [更多用语]`, `#` starts a comment.

use super::{decode_text, Problem, SYNONYMS_FILE};
use crate::content::SynonymRule;

pub(super) fn parse(bytes: &[u8], problems: &mut Vec<Problem>) -> Vec<SynonymRule> {
    let Some(text) = decode_text(SYNONYMS_FILE, bytes, problems) else {
        return Vec::new();
    };
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = Some(index + 1);
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((phrase, terms)) = line.split_once("=>") else {
            problems.push(Problem::warning(
                SYNONYMS_FILE,
                line_no,
                "a rule needs `=>` between the plain phrase and the official terms; this line is ignored",
            ));
            continue;
        };
        let phrase = phrase.trim();
        let terms: Vec<String> = terms.split_whitespace().map(str::to_owned).collect();
        if phrase.is_empty() || terms.is_empty() {
            problems.push(Problem::warning(
                SYNONYMS_FILE,
                line_no,
                "a rule needs text on both sides of `=>`; this line is ignored",
            ));
            continue;
        }
        rules.push(SynonymRule {
            phrase: phrase.to_owned(),
            terms,
        });
    }
    rules
}
