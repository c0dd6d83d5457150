//! Text normalisation and the bigram tokens the index is built from. Pure.
//!
//! Everything that is indexed or searched goes through [`normalize`] first: traditional to
//! simplified Chinese, full-width to half-width, lowercase. Chinese text is then indexed as
//! overlapping character bigrams, so that any substring of two or more characters is found as
//! a phrase (2-character queries included), and runs of letters or digits as whole words.

/// Simplified, half-width, lowercase text.
pub fn normalize(text: &str) -> String {
    let half: String = text
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    if half.chars().any(is_han) {
        fast2s::convert(&half)
    } else {
        half
    }
}

/// A Chinese character (CJK unified ideographs and their extensions).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A piece of normalised text: a run of Chinese characters, or a run of other letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run<'a> {
    Han(&'a str),
    Word(&'a str),
}

/// Splits normalised text into runs; anything that is neither Chinese nor alphanumeric separates.
pub fn runs(text: &str) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let mut current: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let class = if is_han(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        if let Some((start, han)) = current {
            if class == Some(han) {
                continue;
            }
            out.push(run(&text[start..i], han));
        }
        current = class.map(|han| (i, han));
    }
    if let Some((start, han)) = current {
        out.push(run(&text[start..], han));
    }
    out
}

fn run(text: &str, han: bool) -> Run<'_> {
    if han {
        Run::Han(text)
    } else {
        Run::Word(text)
    }
}

/// The tokens of normalised text for indexing, in position order: each Chinese run as its
/// bigrams followed by its last character alone (so that a one-character query finds the end of
/// a run), each word run whole.
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for piece in runs(text) {
        match piece {
            Run::Han(han) => {
                let chars: Vec<char> = han.chars().collect();
                for pair in chars.windows(2) {
                    tokens.push(pair.iter().collect());
                }
                if let Some(last) = chars.last() {
                    tokens.push(last.to_string());
                }
            }
            Run::Word(word) => tokens.push(word.to_owned()),
        }
    }
    tokens
}

/// The tokens of a query phrase with their positions relative to the first: like
/// [`index_tokens`], but a Chinese run of two or more characters is only its bigrams (its last
/// character is already in the last bigram), while still taking as many positions as in the
/// index. A phrase of these tokens matches exactly where the text contains the phrase.
pub fn query_tokens(text: &str) -> Vec<(usize, String)> {
    let mut tokens = Vec::new();
    let mut position = 0;
    for piece in runs(text) {
        match piece {
            Run::Han(han) => {
                let chars: Vec<char> = han.chars().collect();
                if chars.len() == 1 {
                    tokens.push((position, han.to_owned()));
                }
                for (i, pair) in chars.windows(2).enumerate() {
                    tokens.push((position + i, pair.iter().collect()));
                }
                position += chars.len();
            }
            Run::Word(word) => {
                tokens.push((position, word.to_owned()));
                position += 1;
            }
        }
    }
    tokens
}

/// Document numbers (`经开管发〔2024〕3号`) are matched with every bracket, space and punctuation
/// mark removed, so that `经开管发[2024]3号` and `经开管发20243号` find the same document.
/// `第` between the year and the number (`〔2020〕第3号`) is dropped as well: pages write it or not.
pub fn compact(text: &str) -> String {
    let kept: Vec<char> = text
        .chars()
        .filter(|c| is_han(*c) || c.is_alphanumeric())
        .collect();
    kept.iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !(c == '第'
                && i > 0
                && kept[i - 1].is_ascii_digit()
                && kept.get(i + 1).is_some_and(char::is_ascii_digit))
        })
        .map(|(_, &c)| c)
        .collect()
}

/// The document numbers printed in a text (`冀人社发〔2024〕24号`, `国办发[2016]1号`,
/// `河北省人民政府令〔2020〕第3号`), as `(character offset, number)`, in order: a short run of
/// Chinese characters (the issuer's abbreviation), a year of four digits in any brackets or none,
/// `第` or not, a serial number and `号`.
pub fn doc_numbers(text: &str) -> Vec<(usize, String)> {
    const OPEN: &[char] = &['〔', '[', '【', '(', '（', '﹝', '{', '［'];
    const CLOSE: &[char] = &['〕', ']', '】', ')', '）', '﹞', '}', '］'];
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for end in 0..chars.len() {
        if chars[end] != '号' {
            continue;
        }
        let mut i = end;
        let digits = |i: &mut usize, max: usize| {
            let mut n = 0;
            while *i > 0 && n < max && chars[*i - 1].is_ascii_digit() {
                *i -= 1;
                n += 1;
            }
            n
        };
        if !(1..=4).contains(&digits(&mut i, 4)) {
            continue;
        }
        if i > 0 && chars[i - 1] == '第' {
            i -= 1;
        }
        let bracketed = i > 0 && CLOSE.contains(&chars[i - 1]);
        if bracketed {
            i -= 1;
        }
        let year_end = i;
        if digits(&mut i, 4) != 4 || !matches!(&chars[i..i + 2], ['1', '9'] | ['2', '0']) {
            continue;
        }
        if i > 0 && OPEN.contains(&chars[i - 1]) {
            i -= 1;
        } else if bracketed || year_end == end {
            continue;
        }
        let mut start = i;
        while start > 0 && i - start < 10 && is_han(chars[start - 1]) {
            start -= 1;
        }
        if i - start < 2 {
            continue;
        }
        found.push((start, chars[start..=end].iter().collect()));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_and_script() {
        assert_eq!(normalize("ＡＢＣ１２３　營業執照"), "abc123 营业执照");
        assert_eq!(normalize("YingYe"), "yingye");
        assert_eq!(normalize("經開管發〔2024〕3號"), "经开管发〔2024〕3号");
    }

    #[test]
    fn splits_runs() {
        assert_eq!(
            runs("营业zz 2024年，abc"),
            vec![
                Run::Han("营业"),
                Run::Word("zz"),
                Run::Word("2024"),
                Run::Han("年"),
                Run::Word("abc")
            ]
        );
        assert_eq!(runs("，。！"), vec![]);
    }

    #[test]
    fn tokens_for_index_and_query() {
        assert_eq!(
            index_tokens("营业执照 pdf"),
            ["营业", "业执", "执照", "照", "pdf"]
        );
        assert_eq!(index_tokens("号"), ["号"]);
        let q = |text: &str| {
            query_tokens(text)
                .into_iter()
                .map(|(p, t)| format!("{p}:{t}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(q("营业执照"), ["0:营业", "1:业执", "2:执照"]);
        assert_eq!(q("税"), ["0:税"]);
        assert_eq!(q("2024年"), ["0:2024", "1:年"]);
        // The run 经开管发 takes four positions in the index (three bigrams and 发).
        assert_eq!(
            q("经开管发20243号"),
            ["0:经开", "1:开管", "2:管发", "4:20243", "5:号"]
        );
    }

    #[test]
    fn finds_document_numbers_in_text() {
        let numbers =
            |text: &str| -> Vec<String> { doc_numbers(text).into_iter().map(|(_, n)| n).collect() };
        assert_eq!(
            numbers("冀人社发【2017】20号根据（安监总安健[2012]89号）精神"),
            ["冀人社发【2017】20号", "安监总安健[2012]89号"]
        );
        assert_eq!(
            numbers("(2020年12月15日河北省人民政府令〔2020〕第3号公布)"),
            ["日河北省人民政府令〔2020〕第3号"]
        );
        assert_eq!(numbers("冀科平规2024 1号"), Vec::<String>::new());
        assert_eq!(numbers("共有2024人12号楼"), Vec::<String>::new());
        assert_eq!(numbers("国办函〔2023〕7号"), ["国办函〔2023〕7号"]);
    }

    #[test]
    fn compacts_document_numbers() {
        assert_eq!(
            compact("河北省人民政府令〔2020〕第3号"),
            "河北省人民政府令20203号"
        );
        assert_eq!(compact("第3号"), "第3号");
        assert_eq!(compact("经开管发〔2024〕3号"), "经开管发20243号");
        assert_eq!(compact("经开管发 [2024] 3 号"), "经开管发20243号");
    }
}
