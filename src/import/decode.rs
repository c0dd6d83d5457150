//! Turning a page's bytes into text, pure: a byte-order mark, then the page's own `<meta
//! charset>` (or `http-equiv` Content-Type), then the server's charset, then UTF-8 if the bytes
//! are UTF-8, else GB18030 (a superset of GBK and GB2312, what Chinese sites write without
//! saying so).

use encoding_rs::Encoding;

/// The text of a page and the name of the encoding it was read in.
pub fn decode_html(bytes: &[u8], http_charset: Option<&str>) -> (String, &'static str) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(encoding, _)| encoding)
        .or_else(|| sniff_meta(bytes))
        .or_else(|| http_charset.and_then(|label| lookup(label.as_bytes())))
        .unwrap_or_else(|| {
            if std::str::from_utf8(bytes).is_ok() {
                encoding_rs::UTF_8
            } else {
                encoding_rs::GB18030
            }
        });
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

/// The charset parameter of a Content-Type header value (`text/html; charset=GBK`).
pub fn charset_of_content_type(value: &str) -> Option<&str> {
    value.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
    })
}

/// A label as pages write it. GBK and GB2312 are read as GB18030, which holds them both: pages
/// that say GB2312 routinely use characters only GBK has.
fn lookup(label: &[u8]) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label)?;
    Some(if encoding == encoding_rs::GBK {
        encoding_rs::GB18030
    } else {
        encoding
    })
}

/// The charset a page declares in its first 4 KiB: `<meta charset=...>` or `<meta
/// http-equiv="Content-Type" content="...; charset=...">`. Labels are ASCII, so the bytes are
/// searched as they are, whatever the encoding.
fn sniff_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"<meta") {
        let start = from + at;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(pos) = find(tag, b"charset") {
            let rest = &tag[pos + b"charset".len()..];
            let rest = skip(rest, |b| b == b' ');
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = skip(rest, |b| matches!(b, b' ' | b'"' | b'\''));
                let label_end = rest
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b' ' | b';' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(encoding) = lookup(&rest[..label_end]) {
                    // A page saved as UTF-16 cannot declare it in ASCII; trust the bytes.
                    if encoding != encoding_rs::UTF_16LE && encoding != encoding_rs::UTF_16BE {
                        return Some(encoding);
                    }
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn skip(bytes: &[u8], what: impl Fn(u8) -> bool) -> &[u8] {
    let n = bytes.iter().take_while(|b| what(**b)).count();
    &bytes[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], http: Option<&str>, text: &str, encoding: &str) {
        let (got, used) = decode_html(bytes, http);
        assert!(got.contains(text), "{got:?}");
        assert_eq!(used, encoding);
    }

    #[test]
    fn the_page_says_which_encoding_it_is_in() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<title>关于印发通知</title>");
        let page = [
            b"<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=gb2312\">"
                .as_slice(),
            &gbk,
        ]
        .concat();
        check(&page, Some("utf-8"), "关于印发通知", "gb18030");
        let page = [b"<meta charset='GBK'>".as_slice(), &gbk].concat();
        check(&page, None, "关于印发通知", "gb18030");
        check(
            "<meta charset=\"utf-8\"><p>青岚</p>".as_bytes(),
            Some("gbk"),
            "青岚",
            "UTF-8",
        );
    }

    #[test]
    fn without_a_declaration_the_server_then_the_bytes_decide() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>政务公开</p>");
        check(&gbk, Some("gbk"), "政务公开", "gb18030");
        check(&gbk, None, "政务公开", "gb18030");
        check("<p>政务公开</p>".as_bytes(), None, "政务公开", "UTF-8");
        check(b"\xEF\xBB\xBF<p>x</p>", Some("gbk"), "x", "UTF-8");
    }

    #[test]
    fn charset_parameters_are_read_from_content_type() {
        assert_eq!(
            charset_of_content_type("text/html; charset=GBK"),
            Some("GBK")
        );
        assert_eq!(
            charset_of_content_type("text/html;charset=\"utf-8\""),
            Some("utf-8")
        );
        assert_eq!(charset_of_content_type("text/html"), None);
    }
}
