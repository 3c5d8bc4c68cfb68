//! Generates `crates/wire/src/generated.rs` from the Cognito API model (`model/*.shapes.json`),
//! and the server's operation wiring from the model and a table.
//!
//! Run: `cargo run -p gatehouse-codegen` (writes the file) or
//! `cargo run -p gatehouse-codegen -- --check` (fails when the committed file is stale; CI runs it).
//!
//! What is generated, per the model:
//! - one checked struct per structure shape (required members are plain values, optional ones
//!   `Option`), serialisable both ways, with a `Debug` that redacts sensitive members;
//! - one enum per enumerated string shape, with an `Unrecognized` variant so an unexpected value reaches
//!   validation instead of failing as a serialisation error;
//! - `raw::*` mirrors where every member is optional, which requests are decoded into, validated
//!   against the model's constraints (required, length, pattern, enum, range) and then converted;
//! - the `Operation` enum, the `CognitoIdentityProvider` trait (one method per operation),
//!   `dispatch`, and the `not_implemented!` macro;
//! - per [`SETTINGS`], the settings an Update operation replaces as a whole: a struct of every
//!   member of its request but the record's names, filled from the Update request and from the
//!   matching Create request, with the member names in the model's spelling.
//!
//! And `crates/server/src/operations.rs`, the server's implementation of that trait, from the
//! table `crates/server/operations.txt` (see `operations.rs` here).

mod operations;

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const MODEL: &str = "model/cognito-idp-2016-04-18.shapes.json";
const OUT: &str = "crates/wire/src/generated.rs";
/// Which core function answers each implemented operation (see the file's header).
const OPERATIONS_TABLE: &str = "crates/server/operations.txt";
const OPERATIONS_OUT: &str = "crates/server/src/operations.rs";

/// Update operations that reset every member they omit (Cognito's documented semantics):
/// (Update request, Create request, generated settings struct, members that name the record).
/// Core's `apply` for each destructures the struct without `..`, so a member the model adds
/// stops the build until core decides what it means.
const SETTINGS: &[(&str, &str, &str, &[&str])] = &[
    (
        "UpdateUserPoolRequest",
        "CreateUserPoolRequest",
        "UserPoolSettings",
        &["UserPoolId"],
    ),
    (
        "UpdateUserPoolClientRequest",
        "CreateUserPoolClientRequest",
        "UserPoolClientSettings",
        &["UserPoolId", "ClientId"],
    ),
];

/// Where the model lags what the service does (docs/design/client-secrets-cognito-behaviour.md
/// §0): `ALLOW_CLIENT_TOKEN_AUTH`, the flow GetClientToken needs, is missing from
/// `ExplicitAuthFlowsType`; GetClientToken is authorised by the client's secret, not SigV4
/// (its docstring says IAM is not evaluated), but lacks the model's `authtype: none`.
fn catch_up_with_the_service(model: &mut Value) {
    let flows = model["shapes"]["ExplicitAuthFlowsType"]["enum"]
        .as_array_mut()
        .expect("ExplicitAuthFlowsType is an enum");
    if !flows.iter().any(|v| v == "ALLOW_CLIENT_TOKEN_AUTH") {
        flows.push(Value::from("ALLOW_CLIENT_TOKEN_AUTH"));
    }
    model["operations"]["GetClientToken"]["authtype"] = Value::from("none");
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model_text = std::fs::read_to_string(root.join(MODEL)).expect("read model");
    let mut model: Value = serde_json::from_str(&model_text).expect("parse model");
    catch_up_with_the_service(&mut model);
    let table =
        std::fs::read_to_string(root.join(OPERATIONS_TABLE)).expect("read operations table");
    let outputs = [
        (OUT, rustfmt(&Gen::new(&model).run())),
        (
            OPERATIONS_OUT,
            rustfmt(&operations::generate(&model, &table)),
        ),
    ];
    let check = std::env::args().any(|a| a == "--check");
    let mut stale = false;
    for (path, code) in outputs {
        let out = root.join(path);
        if check {
            if std::fs::read_to_string(&out).unwrap_or_default() != code {
                eprintln!(
                    "{path} is stale: run `cargo run -p gatehouse-codegen` and commit the result"
                );
                stale = true;
            } else {
                println!("{path} is up to date");
            }
        } else {
            std::fs::write(&out, code).expect("write output");
            println!("wrote {path}");
        }
    }
    if stale {
        std::process::exit(1);
    }
}

/// Formats generated code as `cargo fmt` would, so the committed file is both readable and
/// reproducible.
fn rustfmt(code: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("rustfmt is installed (rustup component add rustfmt)");
    let mut stdin = child.stdin.take().unwrap();
    let input = code.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("rustfmt runs");
    writer.join().unwrap().expect("write to rustfmt");
    assert!(out.status.success(), "rustfmt failed on the generated code");
    String::from_utf8(out.stdout).expect("utf-8")
}

struct Gen<'a> {
    shapes: &'a Map<String, Value>,
    ops: &'a Map<String, Value>,
    /// Pattern text -> index into the generated PATTERNS table.
    patterns: BTreeMap<String, usize>,
    out: String,
}

fn snake(name: &str) -> String {
    // Acronyms with a lowercase tail read better whole: CallbackURLs -> callback_urls.
    let name = name
        .replace("OAuth", "Oauth")
        .replace("URLs", "Urls")
        .replace("URIs", "Uris")
        .replace("ARNs", "Arns")
        .replace("IdP", "Idp");
    let chars: Vec<char> = name.chars().collect();
    let mut s = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    match s.as_str() {
        "type" | "match" | "ref" | "self" | "use" | "mod" | "enum" | "struct" | "fn" | "impl" => {
            format!("r#{s}")
        }
        _ => s,
    }
}

fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn variant(value: &str) -> String {
    let mut out = String::new();
    for part in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// Shapes whose model pattern the service does not enforce. `DomainType` is both a prefix domain
/// (the pattern's form) and a custom domain such as `auth.example.com` (dots, which the pattern
/// refuses); core checks each form (`crates/core/src/domains.rs`).
const UNENFORCED_PATTERNS: &[&str] = &["DomainType"];

/// Java regular expressions (what the model's `pattern` uses, matched against the whole value)
/// translated to fancy-regex syntax: `\w` and `\s` are ASCII in Java, and a `-` after a range is a
/// literal there.
fn java_to_rust_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_class = false;
    // Inside a class: whether the previous atom was a single character that a `-` may extend.
    let mut rangeable = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            let (atom, single) = match n {
                'w' if in_class => ("0-9A-Za-z_".to_string(), false),
                'w' => ("[0-9A-Za-z_]".to_string(), false),
                's' if in_class => ("\\t\\n\\x0B\\x0C\\r ".to_string(), false),
                's' => ("[\\t\\n\\x0B\\x0C\\r ]".to_string(), false),
                'p' | 'P' => {
                    let end = chars[i..].iter().position(|&c| c == '}').unwrap() + i;
                    let s: String = chars[i..=end].iter().collect();
                    i = end + 1;
                    out.push_str(&s);
                    rangeable = false;
                    continue;
                }
                'x' => {
                    let s: String = chars[i..i + 4].iter().collect();
                    i += 4;
                    out.push_str(&s);
                    rangeable = in_class;
                    continue;
                }
                _ => (format!("\\{n}"), true),
            };
            out.push_str(&atom);
            rangeable = in_class && single;
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(c);
                }
                '-' => {
                    let next_closes = chars.get(i + 1) == Some(&']');
                    if rangeable && !next_closes {
                        out.push('-');
                        // The range's upper bound follows; copy it (escaped or not) verbatim.
                        i += 1;
                        if chars[i] == '\\' {
                            if chars[i + 1] == 'x' {
                                out.extend(&chars[i..i + 4]);
                                i += 4;
                            } else {
                                out.extend(&chars[i..i + 2]);
                                i += 2;
                            }
                        } else {
                            out.push(chars[i]);
                            i += 1;
                        }
                        rangeable = false;
                        continue;
                    }
                    out.push_str("\\-");
                    rangeable = false;
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                    rangeable = true;
                }
                _ => {
                    out.push(c);
                    rangeable = true;
                }
            }
        } else {
            if c == '[' {
                in_class = true;
                rangeable = false;
                out.push(c);
                // A leading `^` negates; it is not an atom.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
            } else {
                out.push(c);
            }
        }
        i += 1;
    }
    format!("^(?:{out})$")
}

impl<'a> Gen<'a> {
    fn new(model: &'a Value) -> Self {
        Gen {
            shapes: model["shapes"].as_object().unwrap(),
            ops: model["operations"].as_object().unwrap(),
            patterns: BTreeMap::new(),
            out: String::new(),
        }
    }

    fn shape(&self, name: &str) -> &'a Value {
        &self.shapes[name]
    }

    fn kind(&self, name: &str) -> &'a str {
        self.shape(name)["type"].as_str().unwrap()
    }

    fn is_enum(&self, name: &str) -> bool {
        self.shape(name).get("enum").is_some()
    }

    fn is_document(&self, name: &str) -> bool {
        self.shape(name).get("document").is_some()
    }

    /// Sensitive in the model, or a secret the model forgot to mark: confirmation and
    /// verification codes are as secret as passwords, and AWS does not echo them either.
    fn sensitive(&self, name: &str) -> bool {
        const ALSO_SECRET: &[&str] = &["ConfirmationCodeType"];
        ALSO_SECRET.contains(&name)
            || self.shape(name).get("sensitive").and_then(Value::as_bool) == Some(true)
    }

    /// The Rust type of a shape in the checked (`raw == false`) or raw model.
    fn ty(&self, name: &str, raw: bool) -> String {
        match self.kind(name) {
            "string" if self.is_enum(name) && !raw => name.to_string(),
            "string" | "blob" => "String".into(),
            "integer" => "i32".into(),
            "long" => "i64".into(),
            "boolean" => "bool".into(),
            "timestamp" => "f64".into(),
            "structure" if self.is_document(name) => "serde_json::Value".into(),
            "structure" if raw => format!("raw::{name}"),
            "structure" => name.to_string(),
            "list" => format!("Vec<{}>", self.ty(self.member_of(name), raw)),
            "map" => format!(
                "std::collections::BTreeMap<String, {}>",
                self.ty(self.shape(name)["value"]["shape"].as_str().unwrap(), raw)
            ),
            k => panic!("unknown shape kind {k}"),
        }
    }

    fn member_of(&self, list: &str) -> &'a str {
        self.shape(list)["member"]["shape"].as_str().unwrap()
    }

    /// Whether values of this shape carry any constraint worth a check function.
    fn has_checks(&self, name: &str) -> bool {
        let s = self.shape(name);
        match self.kind(name) {
            "structure" => !self.is_document(name),
            "list" => {
                s.get("min").is_some()
                    || s.get("max").is_some()
                    || self.has_checks(self.member_of(name))
            }
            "map" => {
                s.get("min").is_some()
                    || s.get("max").is_some()
                    || self.has_checks(s["key"]["shape"].as_str().unwrap())
                    || self.has_checks(s["value"]["shape"].as_str().unwrap())
            }
            _ => {
                s.get("min").is_some()
                    || s.get("max").is_some()
                    || s.get("pattern").is_some()
                    || s.get("enum").is_some()
            }
        }
    }

    fn run(mut self) -> String {
        let mut names: Vec<&String> = self.shapes.keys().collect();
        names.sort();
        for (_, s) in self.shapes.iter() {
            if let Some(p) = s.get("pattern").and_then(Value::as_str) {
                let n = self.patterns.len();
                self.patterns.entry(p.to_string()).or_insert(n);
            }
        }
        let mut o = String::new();
        o.push_str(
            "// @generated by `cargo run -p gatehouse-codegen` from model/cognito-idp-2016-04-18.shapes.json.\n\
             // Do not edit by hand.\n\
             #![allow(clippy::all, non_camel_case_types, non_snake_case, unused_variables, unused_imports, missing_docs)]\n\n\
             use serde::{Deserialize, Serialize};\n\
             use crate::validate::{Path, Errors};\n\
             use crate::error::ApiError;\n\
             use crate::RequestContext;\n\n",
        );
        // Patterns table.
        let mut pats: Vec<(&String, &usize)> = self.patterns.iter().collect();
        pats.sort_by_key(|(_, i)| **i);
        writeln!(
            o,
            "/// (pattern as the model writes it, the same translated for fancy-regex)"
        )
        .unwrap();
        writeln!(o, "pub static PATTERNS: [(&str, &str); {}] = [", pats.len()).unwrap();
        for (p, _) in &pats {
            writeln!(o, "    ({:?}, {:?}),", p, java_to_rust_regex(p)).unwrap();
        }
        o.push_str("];\n\n");
        self.out = o;

        for n in &names {
            let n = n.as_str();
            match self.kind(n) {
                "string" if self.is_enum(n) => self.gen_enum(n),
                "structure" if !self.is_document(n) => self.gen_struct(n),
                _ => {}
            }
        }
        self.out.push_str("pub mod raw {\n    //! Requests as decoded, before validation: every member optional.\n    use super::*;\n\n");
        for n in &names {
            let n = n.as_str();
            if self.kind(n) == "structure" && !self.is_document(n) {
                self.gen_raw_struct(n);
            }
        }
        self.out.push_str("}\n\n");
        for n in &names {
            let n = n.as_str();
            if self.kind(n) != "structure" && self.has_checks(n) {
                self.gen_check_fn(n);
            }
        }
        for (update, create, name, names) in SETTINGS {
            self.gen_settings(update, create, name, names);
        }
        self.gen_operations();
        self.out.clone()
    }

    fn gen_enum(&mut self, n: &str) {
        let values: Vec<&str> = self.shape(n)["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut seen = BTreeSet::new();
        for v in &values {
            assert!(
                seen.insert(variant(v)),
                "enum {n}: variant collision for {v}"
            );
        }
        let o = &mut self.out;
        writeln!(
            o,
            "#[derive(Debug, Clone, PartialEq, Eq, Hash)]\npub enum {n} {{"
        )
        .unwrap();
        for v in &values {
            writeln!(o, "    /// `{v}`\n    {},", variant(v)).unwrap();
        }
        writeln!(o, "    /// A value the model does not list; validation refuses it.\n    Unrecognized(String),\n}}\n").unwrap();
        writeln!(o, "impl {n} {{").unwrap();
        writeln!(
            o,
            "    pub const VALUES: &'static [&'static str] = &[{}];",
            values
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        writeln!(
            o,
            "    pub fn as_str(&self) -> &str {{\n        match self {{"
        )
        .unwrap();
        for v in &values {
            writeln!(o, "            Self::{} => {:?},", variant(v), v).unwrap();
        }
        writeln!(
            o,
            "            Self::Unrecognized(s) => s,\n        }}\n    }}"
        )
        .unwrap();
        writeln!(
            o,
            "    pub fn parse(s: &str) -> Self {{\n        match s {{"
        )
        .unwrap();
        for v in &values {
            writeln!(o, "            {:?} => Self::{},", v, variant(v)).unwrap();
        }
        writeln!(
            o,
            "            other => Self::Unrecognized(other.to_string()),\n        }}\n    }}\n}}\n"
        )
        .unwrap();
        writeln!(
            o,
            "impl Default for {n} {{ fn default() -> Self {{ Self::Unrecognized(String::new()) }} }}\n\
             impl std::fmt::Display for {n} {{ fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }} }}\n\
             impl Serialize for {n} {{ fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{ s.serialize_str(self.as_str()) }} }}\n\
             impl<'de> Deserialize<'de> for {n} {{ fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{ Ok(Self::parse(&String::deserialize(d)?)) }} }}\n"
        )
        .unwrap();
    }

    fn members(&self, n: &str) -> Vec<(&'a str, &'a str, bool)> {
        let s = self.shape(n);
        let req: BTreeSet<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        s["members"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(m, v)| {
                (
                    m.as_str(),
                    v["shape"].as_str().unwrap(),
                    req.contains(m.as_str()),
                )
            })
            .collect()
    }

    fn serde_attrs(&self, member: &str, shape: &str, optional: bool) -> String {
        let mut a = format!("rename = {member:?}");
        if optional {
            a.push_str(", default, skip_serializing_if = \"Option::is_none\"");
        } else {
            a.push_str(", default");
        }
        if self.kind(shape) == "map" {
            a.push_str(if optional {
                ", deserialize_with = \"crate::serde_util::opt_map_skip_nulls\""
            } else {
                ", deserialize_with = \"crate::serde_util::map_skip_nulls\""
            });
        }
        a
    }

    fn gen_struct(&mut self, n: &str) {
        let members = self.members(n);
        let mut o = String::new();
        writeln!(
            o,
            "#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]\npub struct {n} {{"
        )
        .unwrap();
        for (m, s, req) in &members {
            let ty = self.ty(s, false);
            let ty = if *req { ty } else { format!("Option<{ty}>") };
            writeln!(
                o,
                "    #[serde({})]\n    pub {}: {},",
                self.serde_attrs(m, s, !req),
                snake(m),
                ty
            )
            .unwrap();
        }
        o.push_str("}\n\n");
        // Debug that never prints sensitive members (passwords, tokens, secrets, usernames).
        writeln!(o, "impl std::fmt::Debug for {n} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        let mut d = f.debug_struct({n:?});").unwrap();
        for (m, s, _) in &members {
            if self.sensitive(s)
                || (self.kind(s) == "map"
                    && self.sensitive(self.shape(s)["value"]["shape"].as_str().unwrap()))
            {
                writeln!(o, "        d.field({m:?}, &\"<redacted>\");").unwrap();
            } else {
                writeln!(o, "        d.field({m:?}, &self.{});", snake(m)).unwrap();
            }
        }
        o.push_str("        d.finish()\n    }\n}\n\n");
        // Conversion from the raw, validated form.
        writeln!(
            o,
            "impl From<raw::{n}> for {n} {{\n    fn from(r: raw::{n}) -> Self {{\n        Self {{"
        )
        .unwrap();
        for (m, s, req) in &members {
            let f = snake(m);
            let conv = self.conv_expr(s, "v");
            if *req {
                writeln!(
                    o,
                    "            {f}: r.{f}.map(|v| {conv}).unwrap_or_default(),"
                )
                .unwrap();
            } else {
                writeln!(o, "            {f}: r.{f}.map(|v| {conv}),").unwrap();
            }
        }
        o.push_str("        }\n    }\n}\n\n");
        self.out.push_str(&o);
    }

    /// Expression converting raw value `v` of shape `s` into the checked type.
    fn conv_expr(&self, s: &str, v: &str) -> String {
        match self.kind(s) {
            "string" if self.is_enum(s) => format!("{s}::parse(&{v})"),
            "structure" if !self.is_document(s) => format!("{s}::from({v})"),
            "list" => {
                let inner = self.conv_expr(self.member_of(s), "x");
                if inner == "x" {
                    v.to_string()
                } else {
                    format!("{v}.into_iter().map(|x| {inner}).collect()")
                }
            }
            "map" => {
                let inner = self.conv_expr(self.shape(s)["value"]["shape"].as_str().unwrap(), "x");
                if inner == "x" {
                    v.to_string()
                } else {
                    format!("{v}.into_iter().map(|(k, x)| (k, {inner})).collect()")
                }
            }
            _ => v.to_string(),
        }
    }

    fn gen_raw_struct(&mut self, n: &str) {
        let members = self.members(n);
        let mut o = String::new();
        // `remote = "Self"` turns the derive into an inherent function, so that the trait impl
        // below can refuse JSON arrays where the model has an object (serde's derive would read
        // them as positional fields).
        writeln!(
            o,
            "    #[derive(Default, Deserialize)]\n    #[serde(remote = \"Self\")]\n    pub struct {n} {{"
        )
        .unwrap();
        for (m, s, _) in &members {
            let ty = self.ty(s, true);
            writeln!(
                o,
                "        #[serde({})]\n        pub {}: Option<{}>,",
                self.serde_attrs(m, s, true),
                snake(m),
                ty
            )
            .unwrap();
        }
        o.push_str("    }\n\n");
        writeln!(o, "    impl<'de> Deserialize<'de> for {n} {{\n        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\n            {n}::deserialize(crate::serde_util::ObjectOnly(d))\n        }}\n    }}\n").unwrap();
        writeln!(o, "    impl crate::validate::Validate for {n} {{\n        fn validate(&self, path: &Path<'_>, errs: &mut Errors) {{").unwrap();
        for (m, s, req) in &members {
            let f = snake(m);
            let seg = lower_first(m);
            let check = if self.has_checks(s) {
                if self.kind(s) == "structure" {
                    format!("crate::validate::Validate::validate(v, &path.child({seg:?}), errs)")
                } else {
                    format!("super::check_{s}(v, &path.child({seg:?}), errs)")
                }
            } else {
                String::new()
            };
            match (req, check.is_empty()) {
                (true, true) => writeln!(o, "            if self.{f}.is_none() {{ errs.null(&path.child({seg:?})); }}").unwrap(),
                (true, false) => writeln!(o, "            match &self.{f} {{ None => errs.null(&path.child({seg:?})), Some(v) => {check} }}").unwrap(),
                (false, false) => writeln!(o, "            if let Some(v) = &self.{f} {{ {check} }}").unwrap(),
                (false, true) => {}
            }
        }
        o.push_str("        }\n    }\n\n");
        self.out.push_str(&o);
    }

    fn gen_check_fn(&mut self, n: &str) {
        let s = self.shape(n);
        let sensitive = self.sensitive(n);
        let raw_ty = self.ty(n, true);
        let mut o = String::new();
        writeln!(
            o,
            "fn check_{n}(v: &{raw_ty}, p: &Path<'_>, e: &mut Errors) {{"
        )
        .unwrap();
        let min = s.get("min").and_then(Value::as_i64);
        let max = s.get("max").and_then(Value::as_i64);
        let show = |what: &str| {
            if sensitive {
                "None".to_string()
            } else {
                format!("Some(&{what})")
            }
        };
        match self.kind(n) {
            "string" | "blob" => {
                if min.is_some() || max.is_some() {
                    writeln!(o, "    let len = v.chars().count() as i64;").unwrap();
                }
                if let Some(m) = min {
                    writeln!(o, "    if len < {m} {{ e.push(p, {}, format_args!(\"Member must have length greater than or equal to {m}\")); }}", show("v")).unwrap();
                }
                if let Some(m) = max {
                    writeln!(o, "    if len > {m} {{ e.push(p, {}, format_args!(\"Member must have length less than or equal to {m}\")); }}", show("v")).unwrap();
                }
                if let Some(pat) = s
                    .get("pattern")
                    .and_then(Value::as_str)
                    .filter(|_| !UNENFORCED_PATTERNS.contains(&n))
                {
                    let idx = self.patterns[pat];
                    writeln!(o, "    if !crate::validate::matches({idx}, v) {{ e.push(p, {}, format_args!(\"Member must satisfy regular expression pattern: {{}}\", PATTERNS[{idx}].0)); }}", show("v")).unwrap();
                }
                if let Some(values) = s.get("enum").and_then(Value::as_array) {
                    let list: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
                    writeln!(o, "    if matches!({n}::parse(v), {n}::Unrecognized(_)) {{ e.push(p, {}, format_args!(\"Member must satisfy enum value set: [{}]\")); }}", show("v"), list.join(", ")).unwrap();
                }
            }
            "integer" | "long" => {
                if let Some(m) = min {
                    writeln!(o, "    if (*v as i64) < {m} {{ e.push(p, {}, format_args!(\"Member must have value greater than or equal to {m}\")); }}", show("v")).unwrap();
                }
                if let Some(m) = max {
                    writeln!(o, "    if (*v as i64) > {m} {{ e.push(p, {}, format_args!(\"Member must have value less than or equal to {m}\")); }}", show("v")).unwrap();
                }
            }
            "list" => {
                let shown = if sensitive || self.kind(self.member_of(n)) == "structure" {
                    "None".to_string()
                } else {
                    "Some(&crate::validate::ListDisplay(v))".to_string()
                };
                if let Some(m) = min {
                    writeln!(o, "    if (v.len() as i64) < {m} {{ e.push(p, {shown}, format_args!(\"Member must have length greater than or equal to {m}\")); }}").unwrap();
                }
                if let Some(m) = max {
                    writeln!(o, "    if (v.len() as i64) > {m} {{ e.push(p, {shown}, format_args!(\"Member must have length less than or equal to {m}\")); }}").unwrap();
                }
                let member = self.member_of(n);
                if self.has_checks(member) {
                    let call = if self.kind(member) == "structure" {
                        "crate::validate::Validate::validate(x, &p.index(i + 1).child(\"member\"), e)".to_string()
                    } else {
                        format!("check_{member}(x, &p.index(i + 1).child(\"member\"), e)")
                    };
                    writeln!(o, "    for (i, x) in v.iter().enumerate() {{ {call}; }}").unwrap();
                }
            }
            "map" => {
                if let Some(m) = min {
                    writeln!(o, "    if (v.len() as i64) < {m} {{ e.push(p, None, format_args!(\"Member must have length greater than or equal to {m}\")); }}").unwrap();
                }
                if let Some(m) = max {
                    writeln!(o, "    if (v.len() as i64) > {m} {{ e.push(p, None, format_args!(\"Member must have length less than or equal to {m}\")); }}").unwrap();
                }
                let key = s["key"]["shape"].as_str().unwrap();
                let val = s["value"]["shape"].as_str().unwrap();
                if self.has_checks(key) || self.has_checks(val) {
                    writeln!(o, "    for (k, x) in v.iter() {{").unwrap();
                    if self.has_checks(key) {
                        writeln!(o, "        check_{key}(k, &p.key(k).child(\"key\"), e);")
                            .unwrap();
                    }
                    if self.has_checks(val) {
                        if self.kind(val) == "structure" {
                            writeln!(o, "        crate::validate::Validate::validate(x, &p.key(k).child(\"value\"), e);").unwrap();
                        } else {
                            writeln!(o, "        check_{val}(x, &p.key(k).child(\"value\"), e);")
                                .unwrap();
                        }
                    }
                    o.push_str("    }\n");
                }
            }
            k => panic!("no checks for kind {k}"),
        }
        o.push_str("}\n\n");
        self.out.push_str(&o);
    }

    /// The struct of what `update` sets, with conversions from `update` and `create` (see
    /// [`SETTINGS`]). Every member is optional: what a request omits is `None`.
    fn gen_settings(&mut self, update: &str, create: &str, name: &str, names: &[&str]) {
        let members: Vec<(&str, &str, bool)> = self
            .members(update)
            .into_iter()
            .filter(|(m, _, _)| !names.contains(m))
            .collect();
        let in_create: BTreeMap<&str, (&str, bool)> = self
            .members(create)
            .into_iter()
            .map(|(m, s, req)| (m, (s, req)))
            .collect();
        let mut o = String::new();
        writeln!(
            o,
            "/// What {} sets: every member of its request but the record's names. An Update resets\n\
             /// each member it omits, as Cognito documents; Create sets the same members.\n\
             #[derive(Clone, Default, PartialEq)]\npub struct {name} {{",
            update.trim_end_matches("Request")
        )
        .unwrap();
        for (m, s, _) in &members {
            writeln!(o, "    pub {}: Option<{}>,", snake(m), self.ty(s, false)).unwrap();
        }
        o.push_str("}\n\n");
        writeln!(
            o,
            "impl {name} {{\n    /// The members, as the model names them.\n    pub const MEMBERS: [&'static str; {}] = [{}];\n}}\n",
            members.len(),
            members
                .iter()
                .map(|(m, _, _)| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        writeln!(
            o,
            "impl From<{update}> for {name} {{\n    fn from(r: {update}) -> Self {{\n        Self {{"
        )
        .unwrap();
        for (m, _, req) in &members {
            let f = snake(m);
            let v = if *req {
                format!("Some(r.{f})")
            } else {
                format!("r.{f}")
            };
            writeln!(o, "            {f}: {v},").unwrap();
        }
        o.push_str("        }\n    }\n}\n\n");
        writeln!(
            o,
            "impl From<&{create}> for {name} {{\n    fn from(r: &{create}) -> Self {{\n        Self {{"
        )
        .unwrap();
        for (m, s, _) in &members {
            let f = snake(m);
            let (cs, creq) = in_create
                .get(m)
                .unwrap_or_else(|| panic!("{update}.{m} is not a member of {create}"));
            assert_eq!(cs, s, "{update}.{m} and {create}.{m} differ in shape");
            let v = if *creq {
                format!("Some(r.{f}.clone())")
            } else {
                format!("r.{f}.clone()")
            };
            writeln!(o, "            {f}: {v},").unwrap();
        }
        o.push_str("        }\n    }\n}\n\n");
        self.out.push_str(&o);
    }

    fn gen_operations(&mut self) {
        let ops: Vec<(&String, &Value)> = self.ops.iter().collect();
        let mut o = String::new();
        o.push_str("/// Every operation of the cognito-idp model.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Operation {\n");
        for (name, _) in &ops {
            writeln!(o, "    {name},").unwrap();
        }
        o.push_str("}\n\nimpl Operation {\n");
        writeln!(
            o,
            "    pub const ALL: [Operation; {}] = [{}];",
            ops.len(),
            ops.iter()
                .map(|(n, _)| format!("Operation::{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        o.push_str("    /// The operation's name as it appears in `X-Amz-Target` (after the service prefix).\n    pub fn name(self) -> &'static str {\n        match self {\n");
        for (name, _) in &ops {
            writeln!(o, "            Operation::{name} => {name:?},").unwrap();
        }
        o.push_str("        }\n    }\n\n    pub fn from_name(name: &str) -> Option<Self> {\n        Some(match name {\n");
        for (name, _) in &ops {
            writeln!(o, "            {name:?} => Operation::{name},").unwrap();
        }
        o.push_str("            _ => return None,\n        })\n    }\n\n");
        o.push_str("    /// False for the operations the model marks `authtype: none` (public, or authorised by an\n    /// access token or a sign-in session); true for those that need SigV4.\n    pub fn requires_sigv4(self) -> bool {\n        !matches!(self, ");
        let public: Vec<String> = ops
            .iter()
            .filter(|(_, v)| v.get("authtype").and_then(Value::as_str) == Some("none"))
            .map(|(n, _)| format!("Operation::{n}"))
            .collect();
        o.push_str(&public.join(" | "));
        o.push_str(")\n    }\n\n    /// Read-only per the model (`readonly: true`) or by name (Describe/Get/List).\n    pub fn is_read_only(self) -> bool {\n        let n = self.name();\n        n.starts_with(\"Describe\") || n.starts_with(\"Get\") || n.starts_with(\"List\") || n.starts_with(\"AdminGet\") || n.starts_with(\"AdminList\")\n    }\n}\n\n");

        // The service trait.
        o.push_str("/// One method per operation. Implementations list what they do not implement with\n/// `not_implemented!`, which also fills `NOT_IMPLEMENTED`.\npub trait CognitoIdentityProvider: Send + Sync {\n    /// Operations answered with `UnsupportedOperationException` for now.\n    const NOT_IMPLEMENTED: &'static [Operation];\n\n    /// Called after a request is decoded and validated, before the operation runs, with the pool\n    /// it concerns (from `UserPoolId` or a pool ARN): the place for per-pool access policies.\n    fn authorize(&self, ctx: &RequestContext, op: Operation, pool_id: Option<&str>) -> Result<(), ApiError> {\n        let _ = (ctx, op, pool_id);\n        Ok(())\n    }\n\n");
        for (name, v) in &ops {
            let input = v["input"]["shape"].as_str().unwrap();
            let output = v
                .get("output")
                .map(|x| x["shape"].as_str().unwrap().to_string())
                .unwrap_or_else(|| "()".into());
            writeln!(o, "    fn {}(&self, ctx: &RequestContext, input: {input}) -> impl std::future::Future<Output = Result<{output}, ApiError>> + Send;", snake(name)).unwrap();
        }
        o.push_str("}\n\n");

        // Dispatch.
        o.push_str("/// Decodes and validates the request body for `op`, calls the service, encodes the answer.\n///\n/// Each operation's future is boxed: inline, the largest of them would make every request's\n/// future about 15 KB, copied again at each layer of the HTTP stack.\npub async fn dispatch<S: CognitoIdentityProvider>(svc: &S, ctx: &RequestContext, op: Operation, body: &[u8]) -> Result<Vec<u8>, ApiError> {\n    match op {\n");
        for (name, v) in &ops {
            let input = v["input"]["shape"].as_str().unwrap();
            // The request span names the pool (or the app client) the call is about.
            let members = self.shape(input)["members"].as_object().unwrap();
            // Credentials may be limited to some pools: the implementation sees which pool a
            // request is about before the operation runs.
            let pool_expr = if members.contains_key("UserPoolId") {
                "input.user_pool_id.as_deref()"
            } else if members.contains_key("ResourceArn") {
                "input.resource_arn.as_deref().map(|a| a.rsplit_once(\"userpool/\").map_or(a, |(_, id)| id))"
            } else {
                "None"
            };
            let record = if members.contains_key("UserPoolId") {
                "            if let Some(id) = &input.user_pool_id { tracing::Span::current().record(\"pool_id\", id.as_str()); }\n"
            } else if members.contains_key("ClientId") {
                "            if let Some(id) = &input.client_id { tracing::Span::current().record(\"client_id\", id.as_str()); }\n"
            } else {
                ""
            };
            writeln!(
                o,
                "        Operation::{name} => {{\n            let input: raw::{input} = crate::validate::decode(body)?;\n{record}            svc.authorize(ctx, op, {pool_expr})?;\n            crate::serde_util::encode(&Box::pin(svc.{}(ctx, {input}::from(input))).await?)\n        }}",
                snake(name)
            )
            .unwrap();
        }
        o.push_str("    }\n}\n\n");

        // not_implemented! macro.
        o.push_str("/// Fills in the trait methods of operations an implementation does not provide yet, and\n/// `NOT_IMPLEMENTED`. Use once inside `impl CognitoIdentityProvider for …`.\n#[macro_export]\nmacro_rules! not_implemented {\n");
        for (name, v) in &ops {
            let input = v["input"]["shape"].as_str().unwrap();
            let output = v
                .get("output")
                .map(|x| format!("$crate::{}", x["shape"].as_str().unwrap()))
                .unwrap_or_else(|| "()".into());
            writeln!(
                o,
                "    (@one {name}) => {{ fn {}(&self, _: &$crate::RequestContext, _: $crate::{input}) -> impl std::future::Future<Output = Result<{output}, $crate::ApiError>> + Send {{ std::future::ready(Err($crate::ApiError::not_implemented({name:?}))) }} }};",
                snake(name)
            )
            .unwrap();
        }
        o.push_str("    ($($op:ident),* $(,)?) => {\n        const NOT_IMPLEMENTED: &'static [$crate::Operation] = &[$($crate::Operation::$op),*];\n        $( $crate::not_implemented!(@one $op); )*\n    };\n}\n");
        self.out.push_str(&o);
    }
}
