//! Pinyin: readings of words, and matching what a visitor types in Latin letters (full pinyin,
//! initials, a mix of both, Chinese characters mixed in, one typo) against them. Pure.
//!
//! Readings are chosen per word: a hand-kept list of polyphone words (`polyphones.txt`: 银行
//! `yin hang`, 会计 `kuai ji`) overrides the per-character default. `ü` is written `v`.

use std::collections::HashMap;
use std::sync::LazyLock;

use pinyin::ToPinyin;

use super::normalize::is_han;

/// Word-level readings that differ from the per-character default.
static POLYPHONES: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    include_str!("polyphones.txt")
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (word, reading) = line.split_once('\t')?;
            let syllables: Vec<&str> = reading.split_whitespace().collect();
            (word.chars().count() == syllables.len()).then(|| (word.trim(), syllables))
        })
        .collect()
});

/// The longest polyphone word in the list, in characters.
const MAX_POLYPHONE_LEN: usize = 4;

/// One syllable of a reading: the character it reads (`None` for a run of letters or digits in
/// the word, which reads as itself) and its toneless pinyin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syllable {
    pub ch: Option<char>,
    pub py: String,
}

/// The default toneless reading of one character, `ü` as `v`.
pub fn char_reading(c: char) -> Option<String> {
    c.to_pinyin().map(|p| p.plain().replace('ü', "v"))
}

/// The reading of a word (normalised text): one syllable per Chinese character, one per run of
/// letters or digits; other characters are skipped.
pub fn reading(word: &str) -> Vec<Syllable> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_han(c) {
            // The longest polyphone word starting here wins.
            let longest = (2..=MAX_POLYPHONE_LEN.min(chars.len() - i))
                .rev()
                .find_map(|len| {
                    let candidate: String = chars[i..i + len].iter().collect();
                    POLYPHONES
                        .get(candidate.as_str())
                        .map(|syllables| (len, syllables))
                });
            if let Some((len, syllables)) = longest {
                for (k, py) in syllables.iter().enumerate() {
                    out.push(Syllable {
                        ch: Some(chars[i + k]),
                        py: (*py).to_owned(),
                    });
                }
                i += len;
                continue;
            }
            if let Some(py) = char_reading(c) {
                out.push(Syllable { ch: Some(c), py });
            }
            i += 1;
        } else if c.is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let py: String = chars[start..i]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            out.push(Syllable { ch: None, py });
        } else {
            i += 1;
        }
    }
    out
}

/// Full pinyin of a reading, syllables run together (`yingyezhizhao`).
pub fn full(reading: &[Syllable]) -> String {
    reading.iter().map(|s| s.py.as_str()).collect()
}

/// Initials of a reading (`yyzz`).
pub fn initials(reading: &[Syllable]) -> String {
    reading.iter().filter_map(|s| s.py.chars().next()).collect()
}

/// What a visitor typed, for matching: Latin letters and Chinese characters, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    Letter(u8),
    Han(char),
}

/// Turns normalised query text into a typing pattern. `None` when it holds no Latin letter (then
/// it is not pinyin) or holds digits or other letters (then it is not only pinyin).
pub fn pattern(text: &str) -> Option<Vec<Typed>> {
    let mut out = Vec::new();
    let mut letters = false;
    for c in text.chars() {
        if c.is_ascii_lowercase() {
            letters = true;
            out.push(Typed::Letter(c as u8));
        } else if is_han(c) {
            out.push(Typed::Han(c));
        } else if c.is_whitespace() || c == '\'' {
            continue;
        } else {
            return None;
        }
    }
    (letters && !out.is_empty()).then_some(out)
}

/// How well a typing pattern matches a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    /// Typos used (0 or 1).
    pub typos: u8,
    /// Whether every syllable was reached (else the pattern is a prefix of the reading).
    pub partial: bool,
    /// Syllables typed by a prefix (initials) rather than spelled out.
    pub abbreviated: u8,
}

/// Matches a pattern against a reading. Each syllable is typed in full or by a non-empty prefix
/// (`zz` for 执照), Chinese characters match themselves, and the whole pattern must be used. The
/// pattern may stop before the reading ends (search-as-you-type): that is a partial match. With
/// `max_typos` 1, one letter may be wrong, missing or extra in a syllable typed in full; typos and
/// abbreviations do not mix, except that the last syllable may be cut short.
pub fn matches(pattern: &[Typed], reading: &[Syllable], max_typos: u8) -> Option<Match> {
    let mut best: Option<Match> = None;
    let mut search = Search {
        pattern,
        reading,
        max_typos,
        best: &mut best,
        steps: 0,
    };
    search.go(0, 0, 0, 0, 0);
    best
}

struct Search<'a, 'b> {
    pattern: &'a [Typed],
    reading: &'a [Syllable],
    max_typos: u8,
    best: &'b mut Option<Match>,
    /// A bound on the work for one term, so that no input can make matching slow.
    steps: u32,
}

impl Search<'_, '_> {
    /// The letter of the reading at syllable `j`, letter `t`, if it belongs to a character.
    fn letter(&self, j: usize, t: usize) -> Option<u8> {
        let syllable = self.reading.get(j)?;
        syllable.ch?;
        syllable.py.as_bytes().get(t).copied()
    }

    /// The position one letter on from syllable `j`, letter `t`.
    fn step(&self, j: usize, t: usize) -> (usize, usize) {
        match self.reading.get(j) {
            Some(syllable) if t + 1 < syllable.py.len() => (j, t + 1),
            _ => (j + 1, 0),
        }
    }

    /// `i`: position in the pattern; `j`: syllable; `t`: letters of syllable `j` already typed.
    fn go(&mut self, i: usize, j: usize, t: usize, typos: u8, abbreviated: u8) {
        self.steps += 1;
        if self.steps > 20_000 {
            return;
        }
        if typos > 0 && abbreviated > 0 {
            return;
        }
        if i == self.pattern.len() {
            // Everything typed. A syllable left half-typed counts as reached, and as abbreviated.
            let reached = if t > 0 { j + 1 } else { j };
            let cut_short = t > 0 && self.reading.get(j).is_some_and(|s| t < s.py.len());
            let abbreviated = abbreviated + u8::from(cut_short);
            let found = Match {
                typos,
                partial: reached < self.reading.len(),
                abbreviated,
            };
            if self.best.is_none_or(|best| found < best) {
                *self.best = Some(found);
            }
            return;
        }
        let Some(syllable) = self.reading.get(j) else {
            // Syllables used up with letters left: only an extra letter (a typo) can help.
            if typos < self.max_typos {
                self.go(i + 1, j, t, typos + 1, abbreviated);
            }
            return;
        };
        let py = syllable.py.as_bytes();
        match self.pattern[i] {
            Typed::Han(c) => {
                if t == 0 && syllable.ch == Some(c) {
                    self.go(i + 1, j + 1, 0, typos, abbreviated);
                } else if t > 0 && t < py.len() {
                    // A Chinese character after a half-typed syllable: that syllable was an initial.
                    self.go(i, j + 1, 0, typos, abbreviated + 1);
                }
            }
            Typed::Letter(letter) => {
                if t < py.len() && py[t] == letter {
                    if t + 1 == py.len() {
                        self.go(i + 1, j + 1, 0, typos, abbreviated);
                    } else {
                        self.go(i + 1, j, t + 1, typos, abbreviated);
                    }
                }
                if t > 0 && t < py.len() {
                    // Stop typing this syllable here: it was abbreviated.
                    self.go(i, j + 1, 0, typos, abbreviated + 1);
                }
                if typos < self.max_typos && syllable.ch.is_some() {
                    let next = |t: usize| if t >= py.len() { (j + 1, 0) } else { (j, t) };
                    if t < py.len() && py[t] != letter {
                        let (nj, nt) = next(t + 1);
                        self.go(i + 1, nj, nt, typos + 1, abbreviated); // wrong letter
                    }
                    let (nj, nt) = next(t + 1);
                    if t < py.len() {
                        self.go(i, nj, nt, typos + 1, abbreviated); // missing letter
                    }
                    self.go(i + 1, j, t, typos + 1, abbreviated); // extra letter
                                                                  // Two neighbouring letters swapped (yignye for yingye), within a syllable
                                                                  // or across two.
                    if t < py.len() && py[t] != letter {
                        let (nj, nt) = next(t + 1);
                        let swapped = self.letter(nj, nt) == Some(letter)
                            && self.pattern.get(i + 1) == Some(&Typed::Letter(py[t]));
                        if swapped {
                            let (aj, at) = self.step(nj, nt);
                            self.go(i + 2, aj, at, typos + 1, abbreviated);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(word: &str) -> String {
        reading(word)
            .iter()
            .map(|s| s.py.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn readings_are_chosen_per_word() {
        assert_eq!(py("营业执照"), "ying ye zhi zhao");
        assert_eq!(py("中国银行"), "zhong guo yin hang");
        assert_eq!(py("重庆"), "chong qing");
        assert_eq!(py("会计"), "kuai ji");
        assert_eq!(py("绿色"), "lv se");
        assert_eq!(py("2024年度pdf"), "2024 nian du pdf");
    }

    fn check(typed: &str, word: &str, max_typos: u8, expected: Option<(u8, bool, u8)>) {
        let pattern = pattern(typed).unwrap();
        let got = matches(&pattern, &reading(word), max_typos)
            .map(|m| (m.typos, m.partial, m.abbreviated));
        assert_eq!(got, expected, "{typed} ~ {word}");
    }

    #[test]
    fn matches_full_pinyin_initials_and_mixes() {
        check("yingyezhizhao", "营业执照", 0, Some((0, false, 0)));
        check("ying ye zhi zhao", "营业执照", 0, Some((0, false, 0)));
        check("yyzz", "营业执照", 0, Some((0, false, 4)));
        check("yingyzz", "营业执照", 0, Some((0, false, 3)));
        check("yingyezhi", "营业执照", 0, Some((0, true, 0)));
        check("yy", "营业执照", 0, Some((0, true, 2)));
        check("营业zz", "营业执照", 0, Some((0, false, 2)));
        check("营业zhizhao", "营业执照", 0, Some((0, false, 0)));
        check("zhizhao", "营业执照", 0, None);
        check("yinhang", "中国银行", 0, None);
        check("zgyh", "中国银行", 0, Some((0, false, 4)));
        check("lvse", "绿色", 0, Some((0, false, 0)));
    }

    #[test]
    fn tolerates_one_typo_in_full_pinyin() {
        check("yingyezhizao", "营业执照", 0, None);
        check("yingyezhizao", "营业执照", 1, Some((1, false, 0)));
        check("yingyezhizhso", "营业执照", 1, Some((1, false, 0)));
        check("yingyezhizhaoo", "营业执照", 1, Some((1, false, 0)));
        check("gongjijing", "公积金", 1, Some((1, false, 0)));
        // A typo in the syllable still being typed: 'zaa' is 'zha' mistyped.
        check("yingyezhizaa", "营业执照", 1, Some((1, false, 1)));
        check("yingyezhixxx", "营业执照", 1, None);
        check("yyzzx", "营业执照", 1, None);
    }

    #[test]
    fn two_swapped_letters_are_one_typo() {
        check("yignyezhizhao", "营业执照", 0, None);
        check("yignyezhizhao", "营业执照", 1, Some((1, false, 0)));
        // Across two syllables: yingye typed yinyge.
        check("yinygezhizhao", "营业执照", 1, Some((1, false, 0)));
        check("gognjijin", "公积金", 1, Some((1, false, 0)));
        // Two swaps are two typos.
        check("yignyezhizaho", "营业执照", 1, None);
    }

    #[test]
    fn place_names_read_as_their_people_say_them() {
        assert_eq!(py("蚌埠"), "beng bu");
        assert_eq!(py("六安"), "lu an");
        assert_eq!(py("乐清"), "yue qing");
        assert_eq!(py("番禺"), "pan yu");
    }

    #[test]
    fn pattern_needs_letters_and_nothing_else() {
        assert!(pattern("营业执照").is_none());
        assert!(pattern("2024nian").is_none());
        assert!(pattern("yyzz").is_some());
        assert!(pattern("").is_none());
    }
}
