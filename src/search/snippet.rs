//! Snippets: the part of a text around the words a query matched, with those words marked. Pure.

use std::ops::Range;

use super::normalize::normalize;

/// A short excerpt with the matched words' character ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snippet {
    pub text: String,
    /// Character ranges of `text` that matched, in order, not overlapping.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// The text with matches marked in Markdown bold (`…持**营业执照**到…`).
    pub fn marked(&self) -> String {
        let chars: Vec<char> = self.text.chars().collect();
        let mut out = String::with_capacity(self.text.len() + 4 * self.highlights.len());
        let mut at = 0;
        for range in &self.highlights {
            out.extend(&chars[at..range.start]);
            out.push_str("**");
            out.extend(&chars[range.clone()]);
            out.push_str("**");
            at = range.end;
        }
        out.extend(&chars[at..]);
        out
    }
}

/// Occurrences looked at, at most, so that a huge text with a common word stays cheap.
const MAX_OCCURRENCES: usize = 256;

/// The best window of about `width` characters of `text` for `words` (normalised, longest
/// first): the one that shows the most different words, starting at a sentence break when one is
/// close before. Without any match, the start of the text.
pub fn snippet(text: &str, words: &[String], width: usize) -> Snippet {
    let original: Vec<char> = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let normalized: Vec<char> = normalize(text)
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    // Normalisation keeps one character for one almost always; where it does not, show the
    // normalised text so that ranges stay right.
    let shown = if normalized.len() == original.len() {
        &original
    } else {
        &normalized
    };

    let mut occurrences: Vec<(Range<usize>, usize)> = Vec::new();
    for (w, word) in words.iter().enumerate() {
        let needle: Vec<char> = word.chars().collect();
        if needle.is_empty() || needle.len() > normalized.len() {
            continue;
        }
        let mut start = 0;
        while start + needle.len() <= normalized.len() && occurrences.len() < MAX_OCCURRENCES {
            if normalized[start..start + needle.len()] == needle[..] {
                occurrences.push((start..start + needle.len(), w));
                start += needle.len();
            } else {
                start += 1;
            }
        }
    }
    // Longer words were searched first; drop shorter ones that overlap them.
    let mut kept: Vec<(Range<usize>, usize)> = Vec::new();
    for (range, w) in occurrences {
        if !kept
            .iter()
            .any(|(k, _)| k.start < range.end && range.start < k.end)
        {
            kept.push((range, w));
        }
    }
    kept.sort_by_key(|(range, _)| range.start);

    let lead = width / 5;
    let window_start = kept
        .iter()
        .map(|(range, _)| range.start.saturating_sub(lead))
        .max_by_key(|&start| {
            let end = start + width;
            let mut seen: Vec<usize> = kept
                .iter()
                .filter(|(r, _)| r.start >= start && r.end <= end)
                .map(|(_, w)| *w)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            (seen.len(), std::cmp::Reverse(start))
        })
        .unwrap_or(0);
    // Start after a sentence break shortly before the window, if there is one.
    let start = (window_start.saturating_sub(lead)..window_start)
        .rev()
        .find(|&i| matches!(shown[i], '。' | '；' | '！' | '？' | '\n'))
        .map_or(window_start, |i| i + 1);
    let start = skip_spaces(shown, start);
    let end = (start + width).min(shown.len());

    let mut out = String::new();
    let mut offset = 0;
    if start > 0 {
        out.push('…');
        offset = 1;
    }
    out.extend(&shown[start..end]);
    if end < shown.len() {
        out.push('…');
    }
    // Words that touch (申领 and 居住证 in 申领居住证) are one highlight: `**申领****居住证**` would
    // show its marks.
    let mut highlights: Vec<Range<usize>> = Vec::new();
    for (r, _) in kept
        .into_iter()
        .filter(|(r, _)| r.start >= start && r.end <= end)
    {
        let r = r.start - start + offset..r.end - start + offset;
        match highlights.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => highlights.push(r),
        }
    }
    Snippet {
        text: out,
        highlights,
    }
}

fn skip_spaces(chars: &[char], mut at: usize) -> usize {
    while at < chars.len() && chars[at] == ' ' {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, words: &[&str], width: usize, expected: &str) {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        assert_eq!(snippet(text, &words, width).marked(), expected);
    }

    #[test]
    fn marks_words_in_a_window() {
        check(
            "申请人持营业执照到窗口办理。",
            &["营业执照"],
            40,
            "申请人持**营业执照**到窗口办理。",
        );
        check(
            "第一句话很长很长很长很长。第二句讲到公积金提取的条件。第三句。",
            &["公积金提取"],
            14,
            "…讲到**公积金提取**的条件。第三句…",
        );
        check(
            "没有任何匹配的一段正文内容",
            &["营业执照"],
            6,
            "没有任何匹配…",
        );
        check("營業執照辦理", &["营业执照"], 20, "**營業執照**辦理");
        check(
            "执照，营业执照",
            &["营业执照", "执照"],
            20,
            "**执照**，**营业执照**",
        );
        check(
            "可以申领居住证。",
            &["居住证", "申领"],
            20,
            "可以**申领居住证**。",
        );
    }

    #[test]
    fn prefers_the_window_with_more_different_words() {
        let text = format!(
            "{}社保{}社保卡补领需要身份证{}",
            "甲".repeat(30),
            "乙".repeat(30),
            "丙".repeat(30)
        );
        let got = snippet(
            &text,
            &["社保卡".into(), "身份证".into(), "社保".into()],
            20,
        )
        .marked();
        assert!(got.contains("**社保卡**补领需要**身份证**"), "{got}");
    }
}
