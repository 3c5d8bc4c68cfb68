//! Keeps `docs/rules.md` ("Where is rule X") honest: every backticked citation of a repository
//! path must name a file or directory that exists, and every `path::name` a definition that is
//! still in that file. A renamed function, a moved module or a deleted test fails this test
//! with the list of citations to update. Std only, no server: it reads files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where a citation may point: the repository's top-level folders that hold code, tests and
/// documents. Backticked text starting otherwise (`DeviceConfiguration`, `SRP_A`) is not a path.
const PREFIXES: &[&str] = &[
    "crates/", "tests/", "docs/", "bench/", "xtask/", "model/", ".ci/",
];

/// The doc cannot be emptied silently: at least this many citations.
const MIN_CITATIONS: usize = 30;

/// The header of every rule table (`concept / rule | where | proved by`).
const TABLE_HEADER: [&str; 3] = ["concept / rule", "where", "proved by"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One backticked citation: `path`, or `path::name` (`name` may itself be `Type::method`),
/// with, for JavaScript tests, the test title quoted right after it.
#[derive(Debug)]
struct Citation {
    line: usize,
    text: String,
    path: String,
    names: Vec<String>,
    title: Option<String>,
}

/// Every backticked span of `doc` outside fenced code blocks, with its line number and the
/// text that follows it on the line.
fn backticked(doc: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find('`') {
            let after = &rest[start + 1..];
            let Some(len) = after.find('`') else { break };
            let span = &after[..len];
            let tail = &after[len + 1..];
            out.push((i + 1, span.to_string(), tail.to_string()));
            rest = tail;
        }
    }
    out
}

/// The citations among the backticked spans.
fn citations(doc: &str) -> Vec<Citation> {
    backticked(doc)
        .into_iter()
        .filter(|(_, span, _)| PREFIXES.iter().any(|p| span.starts_with(p)))
        .map(|(line, span, tail)| {
            let (path, names) = match span.split_once("::") {
                Some((path, names)) => (
                    path.to_string(),
                    names.split("::").map(str::to_string).collect(),
                ),
                None => (span.clone(), Vec::new()),
            };
            // `tests/node/x.test.mjs` "a test's title": the title must be in the file too.
            let title = if is_js(&path) {
                tail.trim_start()
                    .strip_prefix('"')
                    .and_then(|t| t.split_once('"'))
                    .map(|(title, _)| title.to_string())
            } else {
                None
            };
            Citation {
                line,
                text: span,
                path,
                names,
                title,
            }
        })
        .collect()
}

fn is_js(path: &str) -> bool {
    path.ends_with(".mjs") || path.ends_with(".js")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `source` has `keyword name` as a whole word, followed by something that is not part
/// of an identifier (`fn name(`, `fn name<`, `struct Name {`, `const NAME:`).
fn defines(source: &str, keyword: &str, name: &str) -> bool {
    let needle = format!("{keyword} {name}");
    source.match_indices(&needle).any(|(at, _)| {
        let before = source[..at].bytes().next_back();
        let after = source[at + needle.len()..].bytes().next();
        before.is_none_or(|b| !is_ident_byte(b)) && after.is_none_or(|b| !is_ident_byte(b))
    })
}

/// Whether the file at `path` (its text `source`) still defines or names `name`.
fn has_name(path: &str, source: &str, name: &str) -> bool {
    if path.ends_with(".rs") {
        // A function or test (`fn name(`, `async fn`, `pub(crate) fn` alike), or the item a
        // rule lives in: a constant, a type, a trait, a macro.
        [
            "fn", "const", "static", "struct", "enum", "trait", "type", "mod",
        ]
        .iter()
        .any(|kw| defines(source, kw, name))
            || source.contains(&format!("macro_rules! {name}"))
    } else if path.ends_with(".py") {
        source.contains(&format!("def {name}(")) || defines(source, "class", name)
    } else {
        // JavaScript test titles, tables (`operations.txt`), SQL: the name is in the file.
        source.contains(name)
    }
}

/// The rule-table rows (cells of the lines under a `concept / rule | where | proved by` header)
/// as (line number, cells).
fn rule_rows(doc: &str) -> Vec<(usize, Vec<String>)> {
    let cells = |line: &str| -> Vec<String> {
        let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
        inner.split('|').map(|c| c.trim().to_string()).collect()
    };
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in doc.lines().enumerate() {
        if !line.trim_start().starts_with('|') {
            in_table = false;
            continue;
        }
        let c = cells(line);
        if c.len() == 3 && c.iter().zip(TABLE_HEADER).all(|(a, b)| a == b) {
            in_table = true;
            continue;
        }
        let separator = c.iter().all(|x| x.chars().all(|ch| ch == '-' || ch == ':'));
        if in_table && !separator {
            rows.push((i + 1, c));
        }
    }
    rows
}

#[test]
fn every_citation_in_docs_rules_md_exists() {
    let root = repo_root();
    let doc_path = root.join("docs/rules.md");
    let doc = std::fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", doc_path.display()));

    let cited = citations(&doc);
    let mut problems = Vec::new();
    for c in &cited {
        let file = root.join(&c.path);
        if !file.exists() {
            problems.push(format!(
                "docs/rules.md:{}: `{}`: no such path {}",
                c.line, c.text, c.path
            ));
            continue;
        }
        if c.names.is_empty() && c.title.is_none() {
            continue;
        }
        let Ok(source) = std::fs::read_to_string(&file) else {
            problems.push(format!(
                "docs/rules.md:{}: `{}`: {} cannot be read as text",
                c.line, c.text, c.path
            ));
            continue;
        };
        for name in &c.names {
            if !has_name(&c.path, &source, name) {
                let what = if c.path.ends_with(".rs") {
                    format!("no `fn {name}` (nor const/struct/enum/trait {name})")
                } else if c.path.ends_with(".py") {
                    format!("no `def {name}(`")
                } else {
                    format!("no `{name}`")
                };
                problems.push(format!(
                    "docs/rules.md:{}: `{}`: {what} in {}",
                    c.line, c.text, c.path
                ));
            }
        }
        if let Some(title) = &c.title {
            if !source.contains(title.as_str()) {
                problems.push(format!(
                    "docs/rules.md:{}: `{}`: no test titled \"{title}\" in {}",
                    c.line, c.text, c.path
                ));
            }
        }
    }

    // Every row says where its rule is and what proves it.
    let rows = rule_rows(&doc);
    for (line, cells) in &rows {
        let has_citation = |cell: &str| !citations(cell).is_empty();
        if cells.len() != 3 {
            problems.push(format!(
                "docs/rules.md:{line}: a rule row needs 3 cells (concept / rule | where | proved by), found {}",
                cells.len()
            ));
            continue;
        }
        if !has_citation(&cells[1]) {
            problems.push(format!(
                "docs/rules.md:{line}: \"{}\" cites no code in `where`",
                cells[0]
            ));
        }
        if !has_citation(&cells[2]) {
            problems.push(format!(
                "docs/rules.md:{line}: \"{}\" cites no test in `proved by`",
                cells[0]
            ));
        }
    }

    let distinct: BTreeSet<&str> = cited.iter().map(|c| c.text.as_str()).collect();
    assert!(
        problems.is_empty(),
        "docs/rules.md is out of date ({} problem(s)); fix the citations (or the code):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(
        cited.len() >= MIN_CITATIONS,
        "docs/rules.md has only {} citations ({} distinct), fewer than {MIN_CITATIONS}: was it emptied?",
        cited.len(),
        distinct.len()
    );
    assert!(
        !rows.is_empty(),
        "docs/rules.md has no table under a `concept / rule | where | proved by` header"
    );
}

#[test]
fn citations_are_parsed_as_documented() {
    let doc = "| concept / rule | where | proved by |\n| --- | --- | --- |\n\
               | x | `crates/a.rs::f`, `Other` | `tests/node/t.test.mjs` \"a title\" |\n\
               ```\n`crates/in_a_fence.rs`\n```\n";
    let c = citations(doc);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(
        (c[0].path.as_str(), c[0].names.as_slice()),
        ("crates/a.rs", &["f".to_string()][..])
    );
    assert_eq!(c[1].title.as_deref(), Some("a title"));
    assert_eq!(rule_rows(doc).len(), 1);
    assert!(defines(
        "pub(crate) async fn after_failure(c",
        "fn",
        "after_failure"
    ));
    assert!(!defines("fn after_failure_twice(", "fn", "after_failure"));
    assert!(has_name(
        "x.rs",
        "pub const FREE_FAILURES: u32 = 5;",
        "FREE_FAILURES"
    ));
    assert!(has_name("x.py", "async def test_a(x):", "test_a"));
    assert!(!has_name("x.py", "def test_ab(x):", "test_a"));
}
