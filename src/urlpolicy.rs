//! The URL policy: which addresses in content may become a link or a QR code.
//!
//! Pure code. An address becomes a link only when it is a well-formed `http`/`https` URL, without
//! user info, whose host is on the site's `allowed_hosts` list. Anything else stays plain text, and the
//! refusal says why in words a content author understands.

use std::fmt;

/// The longest address we turn into a link; longer ones are refused rather than encoded.
pub const MAX_URL_LEN: usize = 2048;

/// An address found in content, with the verdict of the URL policy on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// The address exactly as the content gave it.
    pub raw: String,
    /// `Some(normalised URL)` when the policy allows it as a link.
    pub href: Option<String>,
    /// Why it is not a link, when it is not.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub refusal: Option<Refusal>,
}

fn display_opt<S: serde::Serializer>(value: &Option<Refusal>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(refusal) => s.collect_str(refusal),
        None => s.serialize_none(),
    }
}

impl Link {
    /// The address to open or encode, only when the policy allows it.
    pub fn href(&self) -> Option<&str> {
        self.href.as_deref()
    }
}

/// Why an address is not allowed to become a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    ControlCharacter,
    TooLong(usize),
    RunTogether,
    Unparsable(String),
    Scheme(String),
    UserInfo,
    NoHost,
    HostNotAllowed(String),
}

impl Refusal {
    /// A malformed address is an error in the content; a well-formed one on a host that is not
    /// allowed is only a warning (it is kept and shown as text).
    pub fn is_malformed(&self) -> bool {
        !matches!(self, Refusal::HostNotAllowed(_))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "the address is empty"),
            Refusal::ControlCharacter => write!(f, "the address contains control characters"),
            Refusal::TooLong(len) => {
                write!(
                    f,
                    "the address is {len} characters long (at most {MAX_URL_LEN})"
                )
            }
            Refusal::RunTogether => write!(f, "two addresses are run together"),
            Refusal::Unparsable(why) => write!(f, "the address is malformed ({why})"),
            Refusal::Scheme(scheme) => {
                write!(
                    f,
                    "only http and https addresses can be links, not “{scheme}:”"
                )
            }
            Refusal::UserInfo => {
                write!(
                    f,
                    "the address carries a user name or password before its host"
                )
            }
            Refusal::NoHost => write!(f, "the address has no host"),
            Refusal::HostNotAllowed(host) => {
                write!(f, "the host {host} is not in the site's allowed_hosts")
            }
        }
    }
}

/// Normalises a host the way the URL parser does (lowercase, IDN to punycode, no trailing dot),
/// so that the allowed list and addresses compare equal. `None` when it is not a valid host name.
pub fn normalise_host(host: &str) -> Option<String> {
    let trimmed = host.trim().trim_end_matches('.');
    if trimmed.is_empty() || trimmed.contains(['/', '@', ':', '?', '#']) {
        return None;
    }
    match url::Host::parse(trimmed).ok()? {
        url::Host::Domain(domain) => Some(domain),
        other => Some(other.to_string()),
    }
}

/// Applies the policy to an address from content. `allowed_hosts` must already be normalised
/// with [`normalise_host`].
pub fn check(raw: &str, allowed_hosts: &[String]) -> Link {
    let verdict = verdict(raw, allowed_hosts);
    let (href, refusal) = match verdict {
        Ok(href) => (Some(href), None),
        Err(refusal) => (None, Some(refusal)),
    };
    Link {
        raw: raw.to_owned(),
        href,
        refusal,
    }
}

fn verdict(raw: &str, allowed_hosts: &[String]) -> Result<String, Refusal> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    if text.chars().any(char::is_control) {
        return Err(Refusal::ControlCharacter);
    }
    let len = text.chars().count();
    if len > MAX_URL_LEN {
        return Err(Refusal::TooLong(len));
    }
    if let Some(first) = text.find("://") {
        let rest = text[first + 3..].to_ascii_lowercase();
        if ["http://", "https://", "mailto:"]
            .iter()
            .any(|scheme| rest.contains(scheme))
        {
            return Err(Refusal::RunTogether);
        }
    }
    let url = url::Url::parse(text).map_err(|err| Refusal::Unparsable(err.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(Refusal::Scheme(other.to_owned())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    let host = match url.host() {
        Some(url::Host::Domain(domain)) => domain.trim_end_matches('.').to_owned(),
        Some(other) => other.to_string(),
        None => return Err(Refusal::NoHost),
    };
    if host.is_empty() {
        return Err(Refusal::NoHost);
    }
    if !allowed_hosts.iter().any(|allowed| *allowed == host) {
        return Err(Refusal::HostNotAllowed(host));
    }
    Ok(url.to_string())
}

/// A URL as it may be shown: any password in it replaced by `***`. Text that is no URL is
/// shown up to its first `@` only, as it may hold one too.
pub fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => match text.rsplit_once('@') {
            Some((_, host)) => match text.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://***@{host}"),
                None => format!("***@{host}"),
            },
            None => text.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        ["www.qljkq.gov.cn", "zwfw.qljkq.gov.cn", "例子.中国"]
            .iter()
            .map(|h| normalise_host(h).unwrap())
            .collect()
    }

    fn check_url(raw: &str, expected: Result<&str, &str>) {
        let link = check(raw, &allowed());
        match (&link.href, &link.refusal, expected) {
            (Some(href), None, Ok(want)) => assert_eq!(href, want, "{raw}"),
            (None, Some(refusal), Err(want)) => assert_eq!(refusal.to_string(), want, "{raw}"),
            _ => panic!("{raw}: got {link:?}, want {expected:?}"),
        }
    }

    #[test]
    fn allows_only_well_formed_addresses_on_allowed_hosts() {
        check_url(
            "https://www.qljkq.gov.cn/art/1.html",
            Ok("https://www.qljkq.gov.cn/art/1.html"),
        );
        check_url(
            "  https://WWW.QLJKQ.GOV.CN/a  ",
            Ok("https://www.qljkq.gov.cn/a"),
        );
        check_url(
            "http://zwfw.qljkq.gov.cn/bs?x=1",
            Ok("http://zwfw.qljkq.gov.cn/bs?x=1"),
        );
        check_url(
            "https://www.qljkq.gov.cn./a",
            Ok("https://www.qljkq.gov.cn./a"),
        );
        check_url("https://例子.中国/", Ok("https://xn--fsqu00a.xn--fiqs8s/"));
        check_url(
            "https://evil.com/a",
            Err("the host evil.com is not in the site's allowed_hosts"),
        );
        check_url(
            "https://www.qljkq.gov.cn.evil.com/",
            Err("the host www.qljkq.gov.cn.evil.com is not in the site's allowed_hosts"),
        );
        check_url(
            "https://www.qljkq.gov.cn@evil.com/",
            Err("the address carries a user name or password before its host"),
        );
        check_url(
            "https://kjt.hebei.gov.cnhttps://www.most.gov.cn/a.doc",
            Err("two addresses are run together"),
        );
        check_url(
            "http://jyt.hebei.gov.cnmailto:someone@163.com",
            Err("two addresses are run together"),
        );
        check_url(
            "javascript:alert(1)",
            Err("only http and https addresses can be links, not “javascript:”"),
        );
        check_url(
            "ftp://www.qljkq.gov.cn/a",
            Err("only http and https addresses can be links, not “ftp:”"),
        );
        check_url(
            "www.qljkq.gov.cn/a",
            Err("the address is malformed (relative URL without a base)"),
        );
        check_url("", Err("the address is empty"));
        check_url(
            "https://www.qljkq.gov.cn/\u{7}",
            Err("the address contains control characters"),
        );
        let long = format!("https://www.qljkq.gov.cn/{}", "a".repeat(3000));
        check_url(
            &long,
            Err("the address is 3025 characters long (at most 2048)"),
        );
    }

    #[test]
    fn refuses_the_usual_tricks() {
        let host = "the host evil.com is not in the site's allowed_hosts";
        check_url(
            "https://www.qljkq.gov.cn@evil.com/",
            Err("the address carries a user name or password before its host"),
        );
        check_url(
            "https://user:pass@www.qljkq.gov.cn/",
            Err("the address carries a user name or password before its host"),
        );
        check_url("https://evil.com#@www.qljkq.gov.cn", Err(host));
        check_url("https://evil.com?@www.qljkq.gov.cn/", Err(host));
        check_url("https://evil.com/www.qljkq.gov.cn", Err(host));
        check_url("https://evil.com\\@www.qljkq.gov.cn", Err(host));
        check_url(
            "https://www.qljkq.gov.cn%2Eevil.com/",
            Err("the host www.qljkq.gov.cn.evil.com is not in the site's allowed_hosts"),
        );
        check_url(
            "https://xn--fsqu00a.xn--fiqs8s.evil.com/",
            Err("the host xn--fsqu00a.xn--fiqs8s.evil.com is not in the site's allowed_hosts"),
        );
        check_url(
            "https://127.0.0.1/",
            Err("the host 127.0.0.1 is not in the site's allowed_hosts"),
        );
        check_url(
            "http://[::1]/",
            Err("the host [::1] is not in the site's allowed_hosts"),
        );
        check_url(
            "https://www.qljkq.gov.cn\n.evil.com/",
            Err("the address contains control characters"),
        );
        check_url(
            "https://www.qljkq.gov.cn/\u{202E}gpj.exe",
            Ok("https://www.qljkq.gov.cn/%E2%80%AEgpj.exe"),
        );
        check_url(
            "//www.qljkq.gov.cn/a",
            Err("the address is malformed (relative URL without a base)"),
        );
        check_url(
            "data:text/html,<script>",
            Err("only http and https addresses can be links, not “data:”"),
        );
        check_url(
            "file:///etc/passwd",
            Err("only http and https addresses can be links, not “file:”"),
        );
        check_url(
            "mailto:office@qljkq.gov.cn",
            Err("only http and https addresses can be links, not “mailto:”"),
        );
        check_url(
            "HTTPS://WWW.QLJKQ.GOV.CN:8443/A",
            Ok("https://www.qljkq.gov.cn:8443/A"),
        );
        check_url(
            "https://例子.中国/路径",
            Ok("https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84"),
        );
    }

    #[test]
    fn normalises_hosts_for_the_allowed_list() {
        assert_eq!(
            normalise_host("WWW.Example.CN."),
            Some("www.example.cn".into())
        );
        assert_eq!(
            normalise_host("例子.中国"),
            Some("xn--fsqu00a.xn--fiqs8s".into())
        );
        assert_eq!(normalise_host("https://x.cn"), None);
        assert_eq!(normalise_host(""), None);
    }
}
