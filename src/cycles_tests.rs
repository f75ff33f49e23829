//! No import circle at any depth (`#[cfg(test)] mod cycles_tests` in
//! lib.rs): among the modules side by side in any module (the top-level
//! ones in the crate, `local::idp` beside `local::signup`,
//! `resources::cognito::pool` beside `resources::cognito::user_pool`),
//! one uses another when code in it names an item defined in the other (a
//! path through a re-export counts for the module that defines the item).
//! A module's use of its parent's own items, or a parent's of its
//! children's, is not a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each file's module path (`local::idp::token`; "" for lib.rs) and its
/// code outside tests and comments.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    walk(&src, &mut files);
    let module_of_file = |f: &Path| {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut segs: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
            segs.pop();
        }
        segs.join("::")
    };
    // `#[path = "x.rs"] mod name;`: x.rs is `name` inside the declaring
    // file's module, wherever it lies.
    let mut declared_at: BTreeMap<PathBuf, String> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(file) = l
                .strip_prefix("#[path = \"")
                .and_then(|r| r.strip_suffix("\"]"))
            else {
                continue;
            };
            let Some(name) = lines
                .get(i + 1)
                .map(|n| match n.strip_prefix("pub") {
                    Some(r) if r.starts_with('(') => r[r.find(')').unwrap_or(0) + 1..].trim_start(),
                    Some(r) => r.trim_start(),
                    None => n,
                })
                .and_then(|n| n.strip_prefix("mod "))
                .and_then(|n| n.strip_suffix(';'))
            else {
                continue;
            };
            let at = f.parent().unwrap().join(file);
            declared_at.insert(at, join(&module_of_file(f), name));
        }
    }
    let mut out = BTreeMap::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name == "main.rs" || name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        let module = declared_at
            .get(&f)
            .cloned()
            .unwrap_or_else(|| module_of_file(&f));
        let text = std::fs::read_to_string(&f).unwrap();
        let code: Vec<&str> = super::layering::without_tests(&text)
            .into_iter()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        out.insert(module, code.join("\n"));
    }
    out
}

fn parent(m: &str) -> String {
    m.rsplit_once("::")
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}::{b}")
    }
}

/// Every path in `code` that starts with `crate`, `super`, `self` or one
/// of `children`, its brace groups expanded: `super::{a, b::c}` gives
/// `super::a` and `super::b::c`.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if !ident(b[i]) || (i > 0 && (ident(b[i - 1]) || b[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        let first = &code[start..i];
        let starts = matches!(first, "crate" | "super" | "self") || children.contains(first);
        if starts && code[i..].starts_with("::") {
            let (found, end) = path_from(code, start);
            out.extend(found);
            i = end;
        }
    }
    out
}

/// The paths of the path (with brace groups) at `at`, and where it ends.
fn path_from(code: &str, at: usize) -> (Vec<Vec<String>>, usize) {
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut segs = vec![];
    let mut i = at;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            let mut out = vec![];
            i += 1;
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return (out, i + 1);
                }
                if b[i] == b'*' {
                    out.push(segs.clone());
                    i += 1;
                    continue;
                }
                let (inner, end) = path_from(code, i);
                for p in inner {
                    let mut full = segs.clone();
                    full.extend(p);
                    out.push(full);
                }
                i = end;
            }
        }
        let s = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        if s == i {
            return (vec![segs], i);
        }
        segs.push(code[s..i].to_string());
        // `as NAME`: the alias is the name this module knows it by.
        if code[i..].starts_with(" as ") {
            let a = i + 4;
            let mut e = a;
            while e < b.len() && ident(b[e]) {
                e += 1;
            }
            segs.push(format!("as {}", &code[a..e]));
            return (vec![segs], e);
        }
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![segs], i);
        }
    }
}

/// Where the `use ` of a `use` item in `stmt` starts: on a line that
/// begins with `use `, `pub use ` or `pub(...) use `.
fn use_at(stmt: &str) -> Option<usize> {
    let mut offset = 0;
    for line in stmt.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let after_vis = match t.strip_prefix("pub") {
            Some(r) if r.starts_with('(') => r.find(')').map(|i| &r[i + 1..]),
            Some(r) => Some(r),
            None => Some(t),
        };
        if let Some(rest) = after_vis {
            let rest_trim = rest.trim_start();
            if rest_trim.starts_with("use ") {
                return Some(offset + indent + (t.len() - rest_trim.len()));
            }
        }
        offset += line.len();
    }
    None
}

struct Crate {
    code: BTreeMap<String, String>,
    /// Per module, the names its `use` lines bring in: name -> the module
    /// that defines it.
    names: BTreeMap<String, BTreeMap<String, String>>,
}

impl Crate {
    fn children(&self, m: &str) -> BTreeSet<String> {
        self.code
            .keys()
            .filter(|k| !k.is_empty() && parent(k) == m && *k != m)
            .map(|k| k.rsplit("::").next().unwrap().to_string())
            .collect()
    }

    /// The module that defines what `path` (written in module `m`) names.
    fn resolve(&self, m: &str, path: &[String]) -> Option<String> {
        let mut segs = path.iter().filter(|s| !s.starts_with("as ")).peekable();
        let mut cur = match segs.peek()?.as_str() {
            "crate" => {
                segs.next();
                String::new()
            }
            "self" => {
                segs.next();
                m.to_string()
            }
            "super" => {
                let mut p = m.to_string();
                while segs.peek().is_some_and(|s| *s == "super") {
                    segs.next();
                    p = parent(&p);
                }
                p
            }
            _ => m.to_string(),
        };
        for seg in segs {
            let next = join(&cur, seg);
            if self.code.contains_key(&next) {
                cur = next;
            } else {
                return Some(
                    self.names
                        .get(&cur)
                        .and_then(|n| n.get(seg))
                        .cloned()
                        .unwrap_or(cur),
                );
            }
        }
        Some(cur)
    }

    fn new() -> Crate {
        let code = modules();
        let mut c = Crate {
            code,
            names: BTreeMap::new(),
        };
        // Re-exports of re-exports: a few rounds settle them.
        for _ in 0..4 {
            let mut names: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for (m, code) in &c.code {
                let children = c.children(m);
                for stmt in code.split(';') {
                    // The statement's `use` where a line starts with it
                    // (after a visibility), not the word in a string.
                    let Some(at) = use_at(stmt) else { continue };
                    let body = &stmt[at + 4..];
                    let first: String = body
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !(matches!(first.as_str(), "crate" | "super" | "self")
                        || children.contains(&first))
                    {
                        continue;
                    }
                    let start = at + 4 + (body.len() - body.trim_start().len());
                    for p in path_from(stmt, start).0 {
                        let Some(last) = p.last() else { continue };
                        let name = match last.strip_prefix("as ") {
                            Some(alias) => alias.to_string(),
                            None => last.clone(),
                        };
                        if let Some(t) = c.resolve(m, &p) {
                            names.entry(m.clone()).or_default().insert(name, t);
                        }
                    }
                }
            }
            c.names = names;
        }
        c
    }

    /// Per parent module, its children's uses of each other.
    fn sibling_uses(&self) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (m, code) in &self.code {
            for p in paths(code, &self.children(m)) {
                let Some(t) = self.resolve(m, &p) else {
                    continue;
                };
                let (a, b): (Vec<&str>, Vec<&str>) = (
                    m.split("::").filter(|s| !s.is_empty()).collect(),
                    t.split("::").filter(|s| !s.is_empty()).collect(),
                );
                let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
                if common == a.len() || common == b.len() {
                    continue; // itself, an ancestor's own items, a child's
                }
                out.entry(a[..common].join("::"))
                    .or_default()
                    .entry(a[common].to_string())
                    .or_default()
                    .insert(b[common].to_string());
            }
        }
        out
    }
}

/// The circles of a graph, each as the path that closes it.
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut out = vec![];
    for start in g.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((n, path)) = stack.pop() {
            for next in g.get(&n).into_iter().flatten() {
                if next == start {
                    let mut c = path.clone();
                    c.push(next.clone());
                    out.push(c);
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    out
}

#[test]
fn a_use_is_found_at_the_start_of_its_line_only() {
    let stmt = "fn f() { \"refuse this\" }\npub(crate) use crate::model::Protect";
    assert_eq!(&stmt[use_at(stmt).unwrap()..], "use crate::model::Protect");
    assert_eq!(use_at("let x = \"no use here\""), None);
    assert_eq!(use_at("    use super::x"), Some(4));
}

#[test]
fn paths_are_read_with_their_groups() {
    let children: BTreeSet<String> = ["pool".to_string()].into();
    let p = paths(
        "use super::{a, b::{c, d as e}};\nlet x = crate::kind::Cx::new(pool::f(), other::g);",
        &children,
    );
    let s: Vec<String> = p.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        s,
        vec![
            "super::a",
            "super::b::c",
            "super::b::d::as e",
            "crate::kind::Cx::new",
            "pool::f"
        ]
    );
}

#[test]
fn no_import_circle_at_any_depth() {
    let c = Crate::new();
    // The test sees what it must: the engine uses the kinds' common parts,
    // a route its API's helpers through a re-export.
    assert_eq!(
        c.resolve(
            "engine::read",
            &["crate".into(), "kind".into(), "Cx".into()]
        ),
        Some("kind".into())
    );
    assert_eq!(
        c.resolve(
            "resources::lambda::function",
            &[
                "crate".into(),
                "resources".into(),
                "lambda".into(),
                "Role".into()
            ]
        ),
        Some("resources::iam::role".into())
    );
    // A file declared with `#[path]` is the module that declares it names.
    assert!(c.code.contains_key("resources::cognito::pool::triggers"));
    assert!(c
        .code
        .contains_key("resources::cognito::user_pool::settings"));
    let uses = c.sibling_uses();
    assert!(uses[""]["engine"].contains("kind"), "{:?}", uses[""]);
    let mut found = vec![];
    for (parent, g) in &uses {
        for circle in circles(g) {
            found.push(format!(
                "in `{}`: {}",
                if parent.is_empty() { "crate" } else { parent },
                circle.join(" -> ")
            ));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}
