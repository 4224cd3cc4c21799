//! prometheus-operator `AlertmanagerConfig` resources (`monitoring.coreos.com/v1alpha1` and
//! `v1beta1`), converted as the operator converts them (`pkg/alertmanager/amcfg.go`:
//! `convertRoute`, `convertReceiver`, `convertInhibitRule`, `makeNamespacedString` and the
//! namespace enforcers) into an Alertmanager config that is audited as an embedded file whose
//! bytes map back into the resource:
//!
//! - receiver, mute and active time interval names become `<namespace>/<name>/<name>`;
//! - the top route gets `continue: true` and, by the matcher strategy (`OnNamespace`, the
//!   default; `OnNamespaceExceptForAlertmanagerNamespace`; `None`), the matcher
//!   `namespace="<namespace>"` appended to its matchers; inhibit rules get it on both sides;
//! - matchers `{name, value, matchType}` (v1alpha1 also `regex: true` without `matchType`)
//!   become `name="value"` strings (the value quoted as Go's `strconv.Quote` does);
//! - receivers' `*Configs` and their fields become Alertmanager's snake_case keys; a secret
//!   reference (`{name, key}`, as `apiURL`, `urlSecret`, `routingKey`) stays a reference
//!   (`k8s://<namespace>/<secret>/<key>`), never a value written in the resource.
//!
//! The operator places each resource's top route first under the root route of the base
//! config. Audited on its own, the converted config has a root route whose receiver is the top
//! route's (`standalone`); what reaches it from the other resources and the base config is not
//! known here.

use crate::parse::k8s::Embedded;
use crate::parse::yaml::{Node, Value};

/// The operator's `alertmanagerConfigMatcherStrategy.type`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    OnNamespace,
    /// `OnNamespaceExceptForAlertmanagerNamespace`, with the Alertmanager's namespace.
    ExceptAlertmanagerNamespace(String),
    None,
}

impl Strategy {
    /// Does the operator add the namespace matcher for a resource in `ns`?
    fn enforces(&self, ns: &str) -> bool {
        match self {
            Strategy::OnNamespace => true,
            Strategy::ExceptAlertmanagerNamespace(am) => am != ns,
            Strategy::None => false,
        }
    }
}

/// The key of a converted resource among embedded files: it is read as an Alertmanager config
/// whatever it holds (a resource with inhibit rules only has no route: the base config has).
pub const CONVERTED_KEY: &str = "alertmanagerconfig.yaml";

/// Is this document an `AlertmanagerConfig` resource?
pub fn detect(doc: &Node) -> bool {
    doc.get("kind").and_then(Node::as_str) == Some("AlertmanagerConfig")
        && matches!(
            doc.get("apiVersion").and_then(Node::as_str),
            Some("monitoring.coreos.com/v1alpha1") | Some("monitoring.coreos.com/v1beta1")
        )
}

/// Text with runs mapping it into the resource.
struct Gen<'a> {
    src: &'a str,
    text: String,
    segments: Vec<(usize, usize, usize)>,
}

impl Gen<'_> {
    /// Generated text, located at `at` of the resource.
    fn raw(&mut self, s: &str, at: usize) {
        self.segments.push((self.text.len(), at, 0));
        self.text.push_str(s);
    }

    /// A scalar of the resource, written as a double-quoted YAML string (its bytes mapped when
    /// it needs no escaping).
    fn scalar(&mut self, node: &Node, value: &str) {
        let quoted = go_quote(value);
        if quoted.len() == value.len() + 2 {
            self.raw("\"", node.span.start);
            let base = self.text.len();
            for (i, o, l) in crate::parse::k8s::segments(self.src, node, value) {
                self.segments.push((base + i, o, l));
            }
            self.text.push_str(value);
            self.raw("\"", node.span.end);
        } else {
            self.raw(&quoted, node.span.start);
        }
    }
}

/// Go's `strconv.Quote` for the characters matchers hold (what `Matcher.String()` writes).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `apiURL` -> `api_url`, `chatID` -> `chat_id`, `sendResolved` -> `send_resolved`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && !chars[i - 1].is_ascii_uppercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Fields whose Alertmanager name is not the snake_case of the resource's.
fn field_name(name: &str) -> String {
    match name {
        "urlSecret" => "url".into(),
        "webhookURL" => "webhook_url".into(),
        "bearerTokenSecret" => "bearer_token".into(),
        "pagerDutyImageConfigs" => "images".into(),
        "pagerDutyLinkConfigs" => "links".into(),
        "confirm" => "confirm".into(),
        n => snake(n),
    }
}

/// Alertmanager fields with a `_file` twin that reads the secret from a file.
const FILE_TWINS: &[&str] = &[
    "url",
    "api_url",
    "webhook_url",
    "routing_key",
    "service_key",
    "api_key",
    "bot_token",
    "password",
    "username",
    "token",
    "user_key",
    "credentials",
    "auth_password",
    "api_secret",
    "client_secret",
    "bearer_token",
];

/// A reference to a key of a Kubernetes Secret (`{name, key}`, or `secretKeyRef`)?
fn secret_ref(node: &Node) -> Option<(&str, &str)> {
    let node = node.get("secretKeyRef").unwrap_or(node);
    let keys_ok = node
        .entries()
        .iter()
        .all(|(k, _)| matches!(k.name.as_str(), "name" | "key" | "optional"));
    if !node.is_map() || !keys_ok {
        return None;
    }
    Some((
        node.get("name").and_then(Node::as_str)?,
        node.get("key").and_then(Node::as_str)?,
    ))
}

/// The resource converted, as an embedded Alertmanager config.
pub fn convert(doc: &Node, src: &str, strategy: &Strategy) -> Option<Embedded> {
    if !detect(doc) {
        return None;
    }
    let meta = doc.get("metadata");
    let ns_node = meta.and_then(|m| m.get("namespace"));
    let ns = ns_node
        .and_then(Node::as_str)
        .unwrap_or("default")
        .to_string();
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let spec = doc.get("spec")?;
    let here = ns_node.map_or(doc.span.start, |n| n.span.start);
    let prefix = format!("{ns}/{name}/");
    let mut g = Gen {
        src,
        text: String::new(),
        segments: Vec::new(),
    };
    let c = Conv {
        prefix: &prefix,
        ns: &ns,
        enforce: strategy.enforces(&ns),
        here,
    };
    if let Some(route) = spec.get("route") {
        let top = route.get("receiver");
        g.raw("route:\n  receiver: ", route.span.start);
        match top.and_then(Node::as_str) {
            Some(r) if !r.is_empty() => {
                g.raw(&format!("\"{prefix}"), top.unwrap().span.start);
                g.scalar_plain(top.unwrap(), r);
                g.raw("\"\n", route.span.start);
            }
            _ => g.raw("\"\"\n", route.span.start),
        }
        g.raw("  routes:\n", route.span.start);
        c.route(&mut g, route, 2, true);
    }
    if let Some(rs) = spec.get("receivers") {
        g.raw("receivers:\n", rs.span.start);
        for r in rs.items() {
            c.receiver(&mut g, r);
        }
    }
    if let Some(irs) = spec.get("inhibitRules") {
        g.raw("inhibit_rules:\n", irs.span.start);
        for ir in irs.items() {
            c.inhibit(&mut g, ir);
        }
    }
    for key in ["muteTimeIntervals", "timeIntervals"] {
        if let Some(tis) = spec.get(key) {
            g.raw("time_intervals:\n", tis.span.start);
            for ti in tis.items() {
                g.raw("- name: ", ti.span.start);
                match ti.get("name") {
                    Some(n) => {
                        let v = n.as_str().unwrap_or("");
                        g.raw(&format!("\"{prefix}"), n.span.start);
                        g.scalar_plain(n, v);
                        g.raw("\"\n", n.span.end);
                    }
                    None => g.raw("\"\"\n", ti.span.start),
                }
                g.raw("  time_intervals:\n", ti.span.start);
                for t in ti.get("timeIntervals").map(Node::items).unwrap_or(&[]) {
                    g.raw("  -", t.span.start);
                    let mut first = true;
                    for (k, v) in t.entries() {
                        g.raw(if first { " " } else { "    " }, k.span.start);
                        first = false;
                        g.raw(&format!("{}: ", snake(&k.name)), k.span.start);
                        c.value(&mut g, v, 6);
                    }
                    if first {
                        g.raw(" {}\n", t.span.start);
                    }
                }
            }
        }
    }
    Some(Embedded {
        label: format!("AlertmanagerConfig {ns}/{name}"),
        key: CONVERTED_KEY.into(),
        text: g.text,
        segments: g.segments,
        whole: None,
        substituted: Vec::new(),
        unresolved: false,
        notes: Vec::new(),
    })
}

impl Gen<'_> {
    /// A scalar's bytes inside a string being written (no quotes added), mapped when it needs
    /// no escaping.
    fn scalar_plain(&mut self, node: &Node, value: &str) {
        let quoted = go_quote(value);
        if quoted.len() == value.len() + 2 {
            let base = self.text.len();
            for (i, o, l) in crate::parse::k8s::segments(self.src, node, value) {
                self.segments.push((base + i, o, l));
            }
            self.text.push_str(value);
        } else {
            self.raw(&quoted[1..quoted.len() - 1], node.span.start);
        }
    }
}

struct Conv<'a> {
    prefix: &'a str,
    ns: &'a str,
    enforce: bool,
    /// Where generated matchers point (`metadata.namespace`).
    here: usize,
}

impl Conv<'_> {
    fn route(&self, g: &mut Gen, r: &Node, indent: usize, top: bool) {
        let pad = " ".repeat(indent);
        let at = r.span.start;
        g.raw(&format!("{pad}- "), at);
        let inner = " ".repeat(indent + 2);
        let mut first = true;
        let mut key = |g: &mut Gen, k: &str, at: usize| {
            let p = if first { String::new() } else { inner.clone() };
            first = false;
            g.raw(&format!("{p}{k}: "), at);
        };
        if let Some(rc) = r.get("receiver") {
            if let Some(v) = rc.as_str().filter(|v| !v.is_empty()) {
                key(g, "receiver", rc.span.start);
                g.raw(&format!("\"{}", self.prefix), rc.span.start);
                g.scalar_plain(rc, v);
                g.raw("\"\n", rc.span.end);
            }
        }
        for (k, name) in [
            ("groupBy", "group_by"),
            ("groupWait", "group_wait"),
            ("groupInterval", "group_interval"),
            ("repeatInterval", "repeat_interval"),
        ] {
            if let Some(v) = r.get(k) {
                key(g, name, v.span.start);
                self.value(g, v, indent + 4);
            }
        }
        let ms = r.get("matchers");
        let enforce = top && self.enforce;
        if ms.is_some_and(|m| !m.items().is_empty()) || enforce {
            key(g, "matchers", ms.map_or(at, |m| m.span.start));
            g.raw("\n", at);
            for m in ms.map(Node::items).unwrap_or(&[]) {
                g.raw(&format!("{inner}- "), m.span.start);
                self.matcher(g, m);
            }
            if enforce {
                g.raw(
                    &format!("{inner}- 'namespace={}'\n", go_quote(self.ns)),
                    self.here,
                );
            }
        }
        // the operator sets `continue: true` on the top route so that alerts go on to the other
        // resources' routes and the base config's; audited alone, it has no later sibling
        if !top {
            if let Some(v) = r.get("continue") {
                key(g, "continue", v.span.start);
                self.value(g, v, indent + 4);
            }
        }
        for (k, name) in [
            ("muteTimeIntervals", "mute_time_intervals"),
            ("activeTimeIntervals", "active_time_intervals"),
        ] {
            if let Some(v) = r.get(k) {
                key(g, name, v.span.start);
                g.raw("\n", v.span.start);
                for i in v.items() {
                    g.raw(&format!("{inner}- \"{}", self.prefix), i.span.start);
                    g.scalar_plain(i, i.as_str().unwrap_or(""));
                    g.raw("\"\n", i.span.end);
                }
            }
        }
        if let Some(children) = r.get("routes") {
            if !children.items().is_empty() {
                key(g, "routes", children.span.start);
                g.raw("\n", children.span.start);
                for c in children.items() {
                    self.route(g, c, indent + 2, false);
                }
            }
        }
        if first {
            g.raw("{}\n", at);
        }
    }

    /// `{name, value, matchType}` (v1alpha1: or `regex`) as the operator writes it.
    fn matcher(&self, g: &mut Gen, m: &Node) {
        let name = m.get("name").and_then(Node::as_str).unwrap_or("");
        let value = m.get("value").and_then(Node::as_str).unwrap_or("");
        let op = match m.get("matchType").and_then(Node::as_str) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ if matches!(m.get("regex").map(|r| &r.value), Some(Value::Bool(true))) => "=~".into(),
            _ => "=".into(),
        };
        // a matcher is one YAML string: written single-quoted, its parts mapped
        g.raw("'", m.span.start);
        match m.get("name") {
            Some(n) => g.scalar_plain(n, name),
            None => g.raw("", m.span.start),
        }
        g.raw(
            &op,
            m.get("matchType").map_or(m.span.start, |t| t.span.start),
        );
        let q = go_quote(value).replace('\'', "''");
        match m.get("value") {
            Some(v) if q.len() == value.len() + 2 => {
                g.raw("\"", v.span.start);
                g.scalar_plain(v, value);
                g.raw("\"", v.span.end);
            }
            _ => g.raw(&q, m.span.start),
        }
        g.raw("'\n", m.span.end);
    }

    fn inhibit(&self, g: &mut Gen, ir: &Node) {
        let at = ir.span.start;
        g.raw("- ", at);
        let mut first = true;
        for (k, name) in [
            ("sourceMatch", "source_matchers"),
            ("targetMatch", "target_matchers"),
        ] {
            let ms = ir.get(k);
            if ms.is_none() && !self.enforce {
                continue;
            }
            g.raw(
                &format!("{}{name}:\n", if first { "" } else { "  " }),
                ms.map_or(at, |m| m.span.start),
            );
            first = false;
            let mut has_ns = false;
            for m in ms.map(Node::items).unwrap_or(&[]) {
                // the enforcer drops the resource's own `namespace` matchers of the old forms
                // and adds its own (once)
                if m.get("name").and_then(Node::as_str) == Some("namespace") && self.enforce {
                    let eq = m.get("matchType").and_then(Node::as_str).unwrap_or("=") == "="
                        && m.get("value").and_then(Node::as_str) == Some(self.ns);
                    has_ns |= eq;
                }
                g.raw("  - ", m.span.start);
                self.matcher(g, m);
            }
            if self.enforce && !has_ns {
                g.raw(
                    &format!("  - 'namespace={}'\n", go_quote(self.ns)),
                    self.here,
                );
            }
        }
        if let Some(eq) = ir.get("equal") {
            g.raw(
                &format!("{}equal: ", if first { "" } else { "  " }),
                eq.span.start,
            );
            first = false;
            self.value(g, eq, 4);
        }
        if first {
            g.raw("{}\n", at);
        }
    }

    fn receiver(&self, g: &mut Gen, r: &Node) {
        g.raw("- name: ", r.span.start);
        match r.get("name") {
            Some(n) => {
                g.raw(&format!("\"{}", self.prefix), n.span.start);
                g.scalar_plain(n, n.as_str().unwrap_or(""));
                g.raw("\"\n", n.span.end);
            }
            None => g.raw("\"\"\n", r.span.start),
        }
        for (k, v) in r.entries() {
            if k.name == "name" {
                continue;
            }
            g.raw(&format!("  {}: ", field_name(&k.name)), k.span.start);
            self.value(g, v, 4);
        }
    }

    /// `name: value` of an integration's body: a secret reference becomes the field's `_file`
    /// twin (a path where the secret is mounted: a reference, as it is in the resource).
    fn field(&self, g: &mut Gen, k: &crate::parse::yaml::Key, v: &Node, pad: &str, indent: usize) {
        let name = field_name(&k.name);
        if let Some((secret, key)) = secret_ref(v) {
            if FILE_TWINS.contains(&name.as_str()) {
                g.raw(
                    &format!("{pad}{name}_file: \"/etc/alertmanager/secrets/{secret}/{key}\"\n"),
                    v.span.start,
                );
                return;
            }
        }
        g.raw(&format!("{pad}{name}: "), k.span.start);
        self.value(g, v, indent);
    }

    /// Any value, keys converted to Alertmanager's names, secret references kept as
    /// references, `details: [{key, value}]` as a map, day ranges `{start, end}` as `"s:e"`.
    fn value(&self, g: &mut Gen, v: &Node, indent: usize) {
        let pad = " ".repeat(indent);
        if let Some((secret, key)) = secret_ref(v) {
            g.raw(
                &format!("\"k8s://{}/{secret}/{key}\"\n", self.ns),
                v.span.start,
            );
            return;
        }
        match &v.value {
            Value::Map(entries) => {
                if entries.is_empty() {
                    g.raw("{}\n", v.span.start);
                    return;
                }
                // `{start, end}` ranges of time intervals
                if entries.len() == 2 && v.get("start").is_some() && v.get("end").is_some() {
                    let s = |n: &Node| n.go_string(g.src).unwrap_or_default();
                    let text = format!(
                        "\"{}:{}\"\n",
                        s(v.get("start").unwrap()),
                        s(v.get("end").unwrap())
                    );
                    g.raw(&text, v.span.start);
                    return;
                }
                g.raw("\n", v.span.start);
                for (k, x) in entries {
                    self.field(g, k, x, &pad, indent + 2);
                }
            }
            Value::Seq(items) => {
                if items.is_empty() {
                    g.raw("[]\n", v.span.start);
                    return;
                }
                // pagerduty/opsgenie `details: [{key, value}]`: a map in Alertmanager
                let kv = items.iter().all(|i| {
                    i.entries().len() == 2 && i.get("key").is_some() && i.get("value").is_some()
                });
                if kv {
                    g.raw("\n", v.span.start);
                    for i in items {
                        let k = i.get("key").unwrap();
                        g.raw(&pad, k.span.start);
                        g.scalar(k, &k.go_string(g.src).unwrap_or_default());
                        g.raw(": ", k.span.end);
                        let x = i.get("value").unwrap();
                        g.scalar(x, &x.go_string(g.src).unwrap_or_default());
                        g.raw("\n", x.span.end);
                    }
                    return;
                }
                g.raw("\n", v.span.start);
                for i in items {
                    g.raw(&format!("{pad}- "), i.span.start);
                    let range = i.entries().len() == 2
                        && i.get("start").is_some()
                        && i.get("end").is_some();
                    if i.is_map() && secret_ref(i).is_none() && !i.entries().is_empty() && !range {
                        // the first key on the dash's line, the others under it
                        let mut first = true;
                        for (k, x) in i.entries() {
                            let p = if first {
                                String::new()
                            } else {
                                format!("{pad}  ")
                            };
                            first = false;
                            self.field(g, k, x, &p, indent + 4);
                        }
                    } else {
                        self.value(g, i, indent + 2);
                    }
                }
            }
            Value::Str(s) => {
                g.scalar(v, s);
                g.raw("\n", v.span.end);
            }
            _ => {
                let t = v.go_string(g.src).unwrap_or_default();
                g.raw(&t, v.span.start);
                g.raw("\n", v.span.end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::alertmanager::{parse_doc, AmConfig};
    use crate::parse::yaml::parse_documents;
    use crate::source::LineIndex;

    fn show(m: &crate::parse::alertmanager::SMatcher) -> String {
        let m = &m.matcher;
        format!("{}{}{:?}", m.name, m.op.as_str(), m.value)
    }

    fn converted(src: &str, strategy: &Strategy) -> (Embedded, AmConfig) {
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let e = convert(&docs[0], src, strategy).unwrap();
        let d = parse_documents(&e.text, &LineIndex::new(&e.text))
            .unwrap_or_else(|err| panic!("{err:?}\n{}", e.text));
        let (cfg, issues) = parse_doc(&d[0], &e.text);
        assert!(issues.is_empty(), "{issues:?}\n{}", e.text);
        (e, cfg)
    }

    /// The operator's own expected output (its `pkg/alertmanager/testdata` goldens for a
    /// resource `mynamespace/myamc` with receiver `test` and a mute time interval `test`): the
    /// route `{receiver: mynamespace/myamc/test, matchers: [namespace="mynamespace"],
    /// mute_time_intervals: [mynamespace/myamc/test]}`, the receiver and the interval renamed.
    const MYAMC: &str = "apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata:\n  name: myamc\n  namespace: mynamespace\nspec:\n  route:\n    receiver: test\n    muteTimeIntervals:\n      - test\n  receivers:\n    - name: test\n  muteTimeIntervals:\n    - name: test\n      timeIntervals:\n        - times:\n            - startTime: \"08:00\"\n              endTime: \"17:00\"\n          weekdays: [saturday, sunday]\n          daysOfMonth:\n            - start: 1\n              end: 10\n";

    #[test]
    fn the_operators_conversion() {
        let (_, cfg) = converted(MYAMC, &Strategy::OnNamespace);
        let top = &cfg.route.as_ref().unwrap().routes[0];
        assert_eq!(
            top.receiver.as_ref().unwrap().value,
            "mynamespace/myamc/test"
        );
        let ms: Vec<String> = top.matchers.iter().map(show).collect();
        assert_eq!(ms, ["namespace=\"mynamespace\""]);
        let mute: Vec<&str> = top.mute_time_intervals.iter().map(|m| &*m.value).collect();
        assert_eq!(mute, ["mynamespace/myamc/test"]);
        assert_eq!(cfg.receivers[0].name.value, "mynamespace/myamc/test");
        assert_eq!(cfg.time_intervals[0].name.value, "mynamespace/myamc/test");
    }

    #[test]
    fn matcher_strategies_and_matchers() {
        let src = MYAMC.replace(
            "    receiver: test\n    muteTimeIntervals:\n      - test\n",
            "    receiver: test\n    routes:\n      - matchers:\n          - {name: team, value: \"db|st\", regex: true}\n          - {name: sev, value: crit, matchType: \"!=\"}\n        receiver: test\n",
        );
        let (_, cfg) = converted(&src, &Strategy::None);
        let top = &cfg.route.as_ref().unwrap().routes[0];
        assert!(top.matchers.is_empty());
        let child: Vec<String> = top.routes[0].matchers.iter().map(show).collect();
        assert_eq!(child, ["team=~\"db|st\"", "sev!=\"crit\""]);
        let except = Strategy::ExceptAlertmanagerNamespace("mynamespace".into());
        let (_, cfg) = converted(&src, &except);
        assert!(cfg.route.as_ref().unwrap().routes[0].matchers.is_empty());
        let except = Strategy::ExceptAlertmanagerNamespace("monitoring".into());
        let (_, cfg) = converted(&src, &except);
        assert_eq!(cfg.route.as_ref().unwrap().routes[0].matchers.len(), 1);
    }

    #[test]
    fn inhibit_rules_get_the_namespace_on_both_sides() {
        let src = MYAMC.to_string() + "  inhibitRules:\n    - sourceMatch:\n        - {name: severity, value: critical, matchType: \"=\"}\n      targetMatch:\n        - {name: severity, value: warning, matchType: \"=\"}\n      equal: [alertname]\n";
        let (_, cfg) = converted(&src, &Strategy::OnNamespace);
        let ir = &cfg.inhibit_rules[0];
        let s: Vec<String> = ir.source_matchers.iter().map(show).collect();
        let t: Vec<String> = ir.target_matchers.iter().map(show).collect();
        assert_eq!(s, ["severity=\"critical\"", "namespace=\"mynamespace\""]);
        assert_eq!(t, ["severity=\"warning\"", "namespace=\"mynamespace\""]);
    }

    #[test]
    fn names_map_into_the_resource() {
        let (e, _) = converted(MYAMC, &Strategy::OnNamespace);
        let at = e.text.find("myamc/test").unwrap() + 6;
        let origin = crate::source::Origin {
            outer: crate::source::FileId(0),
            segments: e.segments.clone(),
            whole: None,
        };
        let o = origin.map(at, false);
        assert_eq!(&MYAMC[o..o + 4], "test");
        assert_eq!(snake("apiURL"), "api_url");
        assert_eq!(snake("chatID"), "chat_id");
        assert_eq!(snake("sendResolved"), "send_resolved");
    }
}
