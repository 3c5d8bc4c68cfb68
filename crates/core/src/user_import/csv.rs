//! The CSV of a user import, in Cognito's dialect (docs/user-import.md, "The CSV file"): UTF-8,
//! one header line naming columns in any order, no quoting (a `"` is an ordinary character),
//! `\,` for a comma inside a value, each value trimmed, LF or CRLF line ends. Cognito's limits:
//! 100 MB, 500,000 users, 16,000 characters a line. Blank lines are passed over.

/// The largest file an upload may carry (S3 answers EntityTooLarge above it; `gatehouse
/// import-users` has no such limit).
pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
/// Users (data lines) one job may import (`gatehouse import-users`: no limit).
pub const MAX_ROWS: u64 = 500_000;
/// Characters of one line.
pub const MAX_LINE_CHARS: usize = 16_000;

/// Why a whole file cannot be imported (the job ends Failed with this message).
pub(crate) type FileError = String;

/// The file's data lines, each with its line number among them (the first data line is 1, as
/// in Cognito's import log), after the header.
#[derive(Clone, Debug)]
pub(crate) struct Lines<'a> {
    rest: &'a str,
    number: u64,
}

/// The header's column names, and the lines after it. A leading byte-order mark is dropped.
pub(crate) fn open(file: &[u8]) -> Result<(Vec<String>, Lines<'_>), FileError> {
    let text = std::str::from_utf8(file)
        .map_err(|_| FileError::from("The CSV file is not valid UTF-8."))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Lines {
        rest: text,
        number: 0,
    };
    let header = loop {
        match lines.next_raw() {
            None => return Err("The CSV file has no header line.".into()),
            Some(l) if l.trim().is_empty() => continue,
            Some(l) => break l,
        }
    };
    if header.chars().count() > MAX_LINE_CHARS {
        return Err("The CSV header is longer than 16,000 characters.".into());
    }
    lines.number = 0;
    Ok((split(header), lines))
}

impl<'a> Lines<'a> {
    fn next_raw(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// A data line: its number, and its values (or why the line cannot be read).
pub(crate) type Line = (u64, Result<Vec<String>, String>);

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        loop {
            let line = self.next_raw()?;
            if line.trim().is_empty() {
                continue;
            }
            self.number += 1;
            if line.chars().count() > MAX_LINE_CHARS {
                return Some((
                    self.number,
                    Err("The line is longer than 16,000 characters.".into()),
                ));
            }
            return Some((self.number, Ok(split(line))));
        }
    }
}

/// Values separated by commas not escaped as `\,`, each trimmed.
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut value = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                value.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut value).trim().to_string()),
            c => value.push(c),
        }
    }
    out.push(value.trim().to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_split_on_unescaped_commas_and_trimmed() {
        let file = "\u{feff}cognito:username, name ,email\r\n\nalice, Alice\\, the first ,\"a@x.io\"\nbob,,\n";
        let (header, lines) = open(file.as_bytes()).unwrap();
        assert_eq!(header, ["cognito:username", "name", "email"]);
        let rows: Vec<_> = lines.map(|(n, r)| (n, r.unwrap())).collect();
        assert_eq!(
            rows,
            [
                (
                    1,
                    vec![
                        "alice".to_string(),
                        "Alice, the first".into(),
                        "\"a@x.io\"".into()
                    ]
                ),
                (2, vec!["bob".to_string(), String::new(), String::new()]),
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_or_has_no_header_cannot_be_imported() {
        assert!(open(b"\xff\xfe").unwrap_err().contains("UTF-8"));
        assert!(open(b"\n\n").unwrap_err().contains("no header"));
        let long = format!(
            "cognito:username\n{}\nbob\n",
            "a".repeat(MAX_LINE_CHARS + 1)
        );
        let (_, lines) = open(long.as_bytes()).unwrap();
        let rows: Vec<_> = lines.collect();
        assert!(rows[0].1.is_err());
        assert_eq!(
            (rows[1].0, rows[1].1.as_deref().unwrap()),
            (2, &["bob".to_string()][..])
        );
    }
}
