//! Randomised differential tests: requests signed by the `aws-sigv4` crate (the Rust SDK's
//! signer) must verify, and any one-byte change to a signed part must not.

mod common;

use std::time::Duration;

use common::*;
use gatehouse_sigv4::ErrorKind;

const CASES: usize = 2000;

/// SplitMix64: deterministic, so a failure reproduces from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn string(&mut self, alphabet: &[u8], max: usize) -> String {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Characters a path segment may carry on the wire without escaping (plus escapes, added below).
const PATH_CHARS: &[u8] = b"abcXYZ019-._~!$&'()*+,;=:@";
/// Query characters that need no escaping in a URI, `+` included (signers read it as a space).
const QUERY_CHARS: &[u8] = b"abcXYZ019-._~!$'()*,;:@/?+";
/// Header value characters: visible ASCII and spaces (runs of them), no tabs — the Rust signer
/// keeps tabs while botocore and the JS/Java SDKs collapse them, so they have no single answer.
const VALUE_CHARS: &[u8] = b"abc XYZ  019 -_.,;:=/\"{}[]()!#$%&'*+<>?@\\^`|~";

/// An escaped ASCII byte. Escapes of non-UTF-8 bytes have no single answer either: the Rust
/// signer decodes them lossily to U+FFFD, botocore keeps them as sent (as does this crate).
fn escape(rng: &mut Rng) -> String {
    format!("%{:02X}", rng.below(128))
}

fn random_path(rng: &mut Rng) -> String {
    if rng.chance(60) {
        return "/".into();
    }
    let mut path = String::new();
    for _ in 0..=rng.below(4) {
        path.push('/');
        match rng.below(10) {
            0 => path.push('.'),
            1 => path.push_str(".."),
            2 => {}
            _ => {
                path.push_str(&rng.string(PATH_CHARS, 8));
                if rng.chance(30) {
                    path.push_str(&escape(rng));
                }
            }
        }
    }
    if rng.chance(30) {
        path.push('/');
    }
    path
}

fn random_query(rng: &mut Rng) -> String {
    if rng.chance(50) {
        return String::new();
    }
    let mut pairs = Vec::new();
    for _ in 0..=rng.below(4) {
        let key = format!(
            "{}{}",
            char::from(ALNUM[rng.below(ALNUM.len())]),
            rng.string(QUERY_CHARS, 5)
        );
        let mut value = rng.string(QUERY_CHARS, 8);
        if rng.chance(30) {
            value.push_str(&escape(rng));
        }
        pairs.push(if rng.chance(10) {
            key
        } else {
            format!("{key}={value}")
        });
        if rng.chance(15) {
            // Repeated names sort by value.
            let again = pairs.last().unwrap().clone();
            pairs.push(format!(
                "{}=z{}",
                again.split('=').next().unwrap(),
                rng.string(ALNUM, 3)
            ));
        }
    }
    pairs.join("&")
}

fn random_request(rng: &mut Rng) -> Owned {
    let op = rng.pick(&[
        "AdminGetUser",
        "AdminCreateUser",
        "ListUsers",
        "DescribeUserPool",
    ]);
    let body: String = match rng.below(4) {
        0 => String::new(),
        1 => "{}".into(),
        _ => format!(
            r#"{{"UserPoolId":"us-east-1_{}","Username":"{}"}}"#,
            rng.string(ALNUM, 9),
            rng.string(VALUE_CHARS, 20).replace(['"', '\\'], "")
        ),
    };
    let mut req = Owned::cognito(op, &body);
    req.method = rng.pick(&["POST", "POST", "GET", "PUT", "DELETE"]).into();
    req.path = random_path(rng);
    req.query = random_query(rng);
    if rng.chance(50) {
        req.set_header(
            "host",
            rng.pick(&["localhost:9229", "gatehouse.internal", HOST]),
        );
    }
    for i in 0..rng.below(4) {
        let name = format!("X-Custom-{}", rng.pick(&["a", "B", "c"]));
        let value = format!("v{i}{}", rng.string(VALUE_CHARS, 16));
        req.headers.push((name, value.into_bytes()));
    }
    if rng.chance(20) {
        req.headers
            .push(("X-Custom-A".into(), b"  padded   value  ".to_vec()));
    }
    req
}

fn random_signing(rng: &mut Rng) -> (Sign, Option<String>) {
    let token = rng
        .chance(25)
        .then(|| format!("IQoJb3JpZ2luX2Vj{}/+=", rng.string(ALNUM, 40)));
    let presign = rng
        .chance(15)
        .then(|| Duration::from_secs(300 + rng.below(3600) as u64));
    let opts = Sign {
        token: token.clone(),
        region: rng.pick(&["us-east-1", "eu-west-1"]).into(),
        time: at(T0 + rng.below(86_400 * 400) as u64),
        // A token left out of a presigned URL's canonical query is an IoT-only convention.
        token_unsigned: presign.is_none() && rng.chance(20),
        presign,
        content_sha256_header: rng.chance(20),
        ..Sign::default()
    };
    (opts, token)
}

fn signed_case(case: usize) -> (Owned, Sign, Option<String>, Rng) {
    let mut rng = Rng(0x5167_0000 + case as u64);
    let mut req = random_request(&mut rng);
    let (opts, token) = random_signing(&mut rng);
    sign_with(&mut req, &opts);
    (req, opts, token, rng)
}

#[test]
fn oracle_signed_requests_verify() {
    let v = verifier();
    for case in 0..CASES {
        let (req, opts, token, mut rng) = signed_case(case);
        let skew = rng.below(601) as i64 - 300;
        let signed_at = opts
            .time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let now = at((signed_at as i64 + skew) as u64);
        let verified = req
            .verify_at(&v, now, token.as_deref())
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{req:#?}"));
        assert_eq!(verified.region, opts.region, "case {case}");
        assert_eq!(verified.presigned, opts.presign.is_some(), "case {case}");
        assert_eq!(verified.signed_at, opts.time, "case {case}");
    }
}

/// Changes one letter or digit to another of the same class, so that no normalisation (case,
/// whitespace, dot segments) can undo the change.
fn mutate(bytes: &mut [u8], rng: &mut Rng) -> bool {
    let positions: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_alphanumeric())
        .collect();
    if positions.is_empty() {
        return false;
    }
    let i = positions[rng.below(positions.len())];
    let (base, span) = match bytes[i] {
        b'a'..=b'z' => (b'a', 26),
        b'A'..=b'Z' => (b'A', 26),
        _ => (b'0', 10),
    };
    bytes[i] = base + (bytes[i] - base + 1 + rng.below(span as usize - 1) as u8) % span;
    true
}

#[test]
fn oracle_one_byte_changes_are_refused() {
    let v = verifier();
    let mut by_target = [0usize; 6];
    for case in 0..CASES {
        let (req, opts, token, mut rng) = signed_case(case);
        let mut bad = req.clone();
        let auth = req.header("authorization");
        let signed_names: Vec<String> = match &auth {
            Some(a) => a
                .split("SignedHeaders=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .split(';')
                .map(str::to_owned)
                .collect(),
            None => vec!["host".into()],
        };
        let target = rng.below(by_target.len());
        let changed = match target {
            0 => {
                if bad.body.is_empty() {
                    bad.body.push(b'x');
                    true
                } else {
                    mutate(&mut bad.body, &mut rng)
                }
            }
            1 => {
                // A segment that `..` removes may change freely, so such paths grow instead.
                let mut p = bad.path.clone().into_bytes();
                if bad.path.contains("/.") || !mutate(&mut p, &mut rng) {
                    p.push(b'x');
                }
                bad.path = String::from_utf8(p).unwrap();
                true
            }
            2 => {
                bad.method = bad.method.to_lowercase();
                true
            }
            3 => {
                let idx: Vec<usize> = (0..bad.headers.len())
                    .filter(|&i| {
                        signed_names
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&bad.headers[i].0))
                    })
                    .collect();
                let i = idx[rng.below(idx.len())];
                mutate(&mut bad.headers[i].1, &mut rng)
            }
            4 => match &auth {
                Some(a) => {
                    let at_sig = a.find("Signature=").unwrap() + 10;
                    let mut bytes = a.clone().into_bytes();
                    let ok = mutate(&mut bytes[at_sig..], &mut rng);
                    bad.set_header("Authorization", &String::from_utf8(bytes).unwrap());
                    ok
                }
                None => {
                    let mut q = bad.query.clone().into_bytes();
                    let ok = mutate(&mut q, &mut rng);
                    bad.query = String::from_utf8(q).unwrap();
                    ok
                }
            },
            _ => {
                if bad.query.is_empty() {
                    bad.query = "extra=1".into();
                    true
                } else {
                    let mut q = bad.query.clone().into_bytes();
                    let ok = mutate(&mut q, &mut rng);
                    bad.query = String::from_utf8(q).unwrap();
                    ok
                }
            }
        };
        if !changed {
            continue;
        }
        by_target[target] += 1;
        let result = bad.verify_at(&v, opts.time, token.as_deref());
        let err = result.expect_err(&format!("case {case} target {target}: accepted\n{bad:#?}"));
        // Body, path, method and signature changes can only be a signature mismatch; a changed
        // header or query parameter may also hit an earlier check (date, scope, key id, token).
        if target <= 2 || (target == 4 && auth.is_some()) {
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidSignature,
                "case {case}: {err}"
            );
        }
    }
    assert!(by_target.iter().all(|&n| n > CASES / 10), "{by_target:?}");
}
