//! Keeping visitors' personal data out of the records: digit runs that look like an ID-card,
//! phone or case number are masked before a query is stored. Pure.

/// Masks what looks like personal numbers in a (normalised) query:
/// - 15 or 18 characters of digits (the last may be X): an ID-card number → `[身份证号]`;
/// - 11 digits starting with 1: a mobile number → `[手机号]`;
/// - any other run of 7 or more digits (landlines, case and account numbers, possibly with
///   `-` or spaces between groups) → `[号码]`.
///
/// Years, dates and document numbers (`〔2024〕3号`) have shorter runs and are kept.
pub fn mask(query: &str) -> String {
    let original: Vec<char> = query.chars().collect();
    // Digits written in Chinese numerals (一三八…, 〇/零, 幺 as phone numbers are read) and
    // full-width digits count as digits.
    let chars: Vec<char> = original.iter().copied().map(digit_of).collect();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(original[i]);
            i += 1;
            continue;
        }
        // A run of digits, with single separators between digit groups, and an ID card's X.
        let start = i;
        let mut end = i;
        let mut digits = 0;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits += 1;
                j += 1;
                end = j;
            } else if (c == '-' || c == ' ')
                && j + 1 < chars.len()
                && chars[j + 1].is_ascii_digit()
                && j > start
            {
                j += 1;
            } else if (c == 'x' || c == 'X') && (digits == 17 || digits == 14) {
                digits += 1;
                j += 1;
                end = j;
                break;
            } else {
                break;
            }
        }
        let first = chars[start];
        let label = match digits {
            15 | 18 => Some("[身份证号]"),
            11 if first == '1' => Some("[手机号]"),
            n if n >= 7 => Some("[号码]"),
            _ => None,
        };
        match label {
            Some(label) => out.push_str(label),
            None => out.extend(&original[start..end]),
        }
        i = end;
    }
    out
}

/// A digit written another way (Chinese numerals, full width), as an ASCII digit; other
/// characters as they are.
fn digit_of(c: char) -> char {
    match c {
        '〇' | '零' | '０' => '0',
        '一' | '幺' | '壹' | '１' => '1',
        '二' | '贰' | '２' => '2',
        '三' | '叁' | '３' => '3',
        '四' | '肆' | '４' => '4',
        '五' | '伍' | '５' => '5',
        '六' | '陆' | '６' => '6',
        '七' | '柒' | '７' => '7',
        '八' | '捌' | '８' => '8',
        '九' | '玖' | '９' => '9',
        other => other,
    }
}

/// The query as it is recorded: normalised like a search, masked while it is whole (so a cut
/// cannot leave part of a number unmasked), then cut to the length a search uses.
pub fn for_record(query: &str) -> String {
    let normalized = crate::search::normalize::normalize(query);
    let masked = mask(
        normalized
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    );
    masked
        .chars()
        .take(crate::search::plan::MAX_QUERY_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{for_record, mask};

    fn check(input: &str, expected: &str) {
        assert_eq!(mask(input), expected, "{input}");
    }

    #[test]
    fn personal_numbers_are_masked() {
        check("110101199003074578 社保", "[身份证号] 社保");
        check("身份证11010119900307457x补办", "身份证[身份证号]补办");
        check("110101900307457", "[身份证号]");
        check("13812345678", "[手机号]");
        check("电话 138-1234-5678", "电话 [手机号]");
        check("138 1234 5678 查询", "[手机号] 查询");
        check("0576-88120000", "[号码]");
        check("案号2024012345678", "案号[号码]");
    }

    #[test]
    fn numbers_in_chinese_numerals_are_masked_too() {
        check("一三八一二三四五六七八", "[手机号]");
        check("我的电话幺三八一二三四五六七八", "我的电话[手机号]");
        check(
            "身份证一一〇一〇一一九九〇〇三〇七四五七八",
            "身份证[身份证号]",
        );
        check("１３８１２３４５６７８", "[手机号]");
        check("零五七六八八一二〇〇〇〇", "[号码]");
        // Short runs of numerals are words, not numbers.
        check("第一二三条", "第一二三条");
        check("二〇二四年", "二〇二四年");
    }

    #[test]
    fn a_number_is_masked_before_the_query_is_cut() {
        let long = format!("{}110101199003074578", "社".repeat(60));
        let recorded = for_record(&long);
        assert!(recorded.len() <= long.len());
        assert!(!recorded.chars().any(|c| c.is_ascii_digit()), "{recorded}");
        assert!(recorded.chars().count() <= crate::search::plan::MAX_QUERY_CHARS);
    }

    #[test]
    fn ordinary_numbers_are_kept() {
        check("经开管发〔2024〕3号", "经开管发〔2024〕3号");
        check("2024年 预算", "2024年 预算");
        check("12345", "12345");
        check("营业执照", "营业执照");
        check("", "");
        check("3 12", "3 12");
    }
}
