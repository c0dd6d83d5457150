//! robots.txt, pure: which paths a crawler that calls itself `agent` may fetch (RFC 9309: the
//! group of the agent, else the `*` group; the longest matching rule wins, Allow on a tie; `*`
//! and `$` in rules), and the Crawl-delay it asks for.

/// The rules of one robots.txt for one agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Robots {
    rules: Vec<(bool, String)>,
    /// Seconds between requests the site asks for, if it does.
    pub crawl_delay: Option<f64>,
}

impl Robots {
    /// Everything allowed: a site without robots.txt (404), as the RFC says.
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Parses the text for the agent named `agent` (its product token, e.g. `kiosk-import`).
    pub fn parse(text: &str, agent: &str) -> Robots {
        let agent = agent.to_ascii_lowercase();
        // Groups: the agents named at their start, then their rules.
        let mut groups: Vec<(Vec<String>, Robots)> = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push((Vec::new(), Robots::default()));
                        in_agents = true;
                    }
                    if let Some(group) = groups.last_mut() {
                        group.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(group) = groups.last_mut() {
                        // An empty Disallow allows everything: no rule.
                        if !value.is_empty() {
                            group.1.rules.push((key == "allow", value.to_owned()));
                        }
                    }
                }
                "crawl-delay" => {
                    in_agents = false;
                    if let Some(group) = groups.last_mut() {
                        group.1.crawl_delay = value
                            .parse::<f64>()
                            .ok()
                            .filter(|d| d.is_finite() && *d >= 0.0);
                    }
                }
                _ => {}
            }
        }
        let mut mine = Robots::default();
        let mut found = false;
        for (agents, rules) in &groups {
            if agents
                .iter()
                .any(|a| a != "*" && agent.contains(a.as_str()))
            {
                mine.rules.extend(rules.rules.iter().cloned());
                mine.crawl_delay = mine.crawl_delay.or(rules.crawl_delay);
                found = true;
            }
        }
        if !found {
            for (agents, rules) in &groups {
                if agents.iter().any(|a| a == "*") {
                    mine.rules.extend(rules.rules.iter().cloned());
                    mine.crawl_delay = mine.crawl_delay.or(rules.crawl_delay);
                }
            }
        }
        mine
    }

    /// Whether a path (with its query, as in the URL) may be fetched.
    pub fn allows(&self, path_and_query: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path_and_query) {
                let len = pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, *allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// A rule matches a path from its start; `*` is any run, `$` at the end anchors it.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            at = part.len();
        } else if i == parts.len() - 1 && anchored {
            return path.len() >= at + part.len() && path.ends_with(part);
        } else {
            match path[at..].find(part) {
                Some(found) => at += found + part.len(),
                None => return false,
            }
        }
    }
    !anchored || at == path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(robots: &str, path: &str, allowed: bool) {
        assert_eq!(
            Robots::parse(robots, "kiosk-import/0.1").allows(path),
            allowed,
            "{path} under\n{robots}"
        );
    }

    #[test]
    fn the_star_group_applies_unless_the_agent_has_its_own() {
        let text = "User-agent: *\nDisallow: /search/\nDisallow: /internal/\n\nUser-agent: Baiduspider\nDisallow: /\n";
        check(text, "/search/index.html?q=1", false);
        check(text, "/internal/a.html", false);
        check(text, "/zwgk/index.html", true);
        check(text, "/", true);
        let own = "User-agent: *\nDisallow: /\n\nUser-agent: kiosk-import\nDisallow: /tmp/\n";
        check(own, "/zwgk/", true);
        check(own, "/tmp/x", false);
    }

    #[test]
    fn the_longest_rule_wins_and_wildcards_match() {
        let text = "User-agent: *\nDisallow: /xxgk/\nAllow: /xxgk/fdzdgknr/\nDisallow: /*.pdf$\nDisallow: /*?from=\n";
        check(text, "/xxgk/ysqgk/index.html", false);
        check(text, "/xxgk/fdzdgknr/ghxx/index.html", true);
        check(text, "/a/b.pdf", false);
        check(text, "/a/b.pdf.html", true);
        check(text, "/art/1.html?from=index", false);
        check("", "/anything", true);
        check("User-agent: *\nDisallow:\n", "/anything", true);
    }

    #[test]
    fn crawl_delay_is_read() {
        let robots = Robots::parse("User-agent: *\nCrawl-delay: 2\n", "kiosk-import");
        assert_eq!(robots.crawl_delay, Some(2.0));
    }
}
