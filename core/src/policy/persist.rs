//! Writing an approved rule into a policy file (scope `persist`): the
//! entries are added to `approved_commands` as text, so every other byte
//! of the file (comments, layout, key order) stays as it was. The new text
//! must re-load to the old layer plus the entries, or the file is left
//! alone; it replaces the file atomically (a temporary file renamed over
//! it) with the same permissions.

use super::error::PolicyError;
use super::file::{self, FileFormat};
use super::propose::{ApprovedCommand, ProposedRule};
use std::path::Path;

const KEY: &str = "approved_commands";

/// Adds `rule`'s entries to the `approved_commands` of the policy file at
/// `path` (native, either CodeFRAME format; YAML or JSON). YAML files get
/// a comment per entry with the date and the command that prompted it.
/// Entries the file already lists (the same rule, whatever its date) are
/// not added again.
pub fn persist_approval(path: &Path, rule: &ProposedRule) -> Result<(), PolicyError> {
    let fail = |message: String| PolicyError::Persist {
        path: path.to_path_buf(),
        message,
    };
    // Write through a symbolic link to the file it names.
    let real = std::fs::canonicalize(path).map_err(|error| PolicyError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let text = std::fs::read_to_string(&real).map_err(|error| PolicyError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let json = is_json(&real);
    let origin = path.display().to_string();
    let (format, old) = if json {
        file::from_json_str(&text, &origin)?
    } else {
        file::from_yaml_str(&text, &origin)?
    };
    // Entries the file already has are not written again.
    let listed = old.approved_commands.clone().unwrap_or_default();
    let entries: Vec<ApprovedCommand> = rule
        .rules
        .iter()
        .filter(|e| !listed.iter().any(|l| l.same_rule(e)))
        .cloned()
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let new_text = if json {
        add_to_json(&text, format, &entries)
    } else {
        add_to_yaml(&text, format, &entries)
    }
    .map_err(fail)?;
    let reloaded = if json {
        file::from_json_str(&new_text, &origin)
    } else {
        file::from_yaml_str(&new_text, &origin)
    }
    .map_err(|e| fail(format!("the edited file does not load: {e}")))?;
    let mut expected = old;
    expected
        .approved_commands
        .get_or_insert_with(Vec::new)
        .extend(entries.iter().cloned());
    if reloaded != (format, expected) {
        return Err(fail(
            "the edited file does not read back as the old policy plus the rule".into(),
        ));
    }
    write_atomically(&real, &new_text).map_err(|e| fail(e.to_string()))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".sandboxcore-policy-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), permissions)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A double-quoted scalar (JSON strings are valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The YAML of one entry, its first line starting with `- ` at `indent`.
fn yaml_entry(e: &ApprovedCommand, indent: &str) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    let mut out = String::new();
    out.push_str(&format!(
        "{indent}# approved {} for: {}\n",
        e.added.as_deref().unwrap_or("(no date)"),
        one_line(e.command.as_deref().unwrap_or(&e.rule)),
    ));
    out.push_str(&format!("{indent}- rule: {}\n", quoted(&e.rule)));
    out.push_str(&format!("{indent}  extra_operands: {}\n", e.extra_operands));
    out.push_str(&format!("{indent}  max_risk: {}\n", e.max_risk));
    let reasons = serde_json::to_string(&e.reasons).expect("reason codes serialise");
    out.push_str(&format!("{indent}  reasons: {reasons}\n"));
    if let Some(a) = &e.added {
        out.push_str(&format!("{indent}  added: {}\n", quoted(a)));
    }
    if let Some(c) = &e.command {
        out.push_str(&format!("{indent}  command: {}\n", quoted(c)));
    }
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line with content (not blank, not only a comment).
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Adds the entries to a YAML document as text.
fn add_to_yaml(
    text: &str,
    format: FileFormat,
    entries: &[ApprovedCommand],
) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // The mapping the key belongs in: the whole document at indent 0, or
    // the `security:` section.
    let (start, end, indent) = match format {
        FileFormat::CodeframePolicy => {
            let s = lines
                .iter()
                .position(|l| l.trim_end().starts_with("security:") && indent_of(l) == 0)
                .ok_or("no `security:` section at the start of a line")?;
            let e = (s + 1..lines.len())
                .find(|&i| is_content(lines[i]) && indent_of(lines[i]) == 0)
                .unwrap_or(lines.len());
            let indent = (s + 1..e)
                .find(|&i| is_content(lines[i]))
                .map(|i| indent_of(lines[i]))
                .ok_or("the `security:` section is empty or not a block mapping")?;
            (s + 1, e, indent)
        }
        _ => (0, lines.len(), 0),
    };
    let pad = " ".repeat(indent);
    let key_line = (start..end).find(|&i| {
        indent_of(lines[i]) == indent && lines[i][indent..].starts_with(&format!("{KEY}:"))
    });
    let mut out = String::with_capacity(text.len() + 512);
    let block = |item_indent: &str| -> String {
        entries
            .iter()
            .map(|e| yaml_entry(e, item_indent))
            .collect::<String>()
    };
    match key_line {
        Some(k) => {
            let after_key = &lines[k][indent + KEY.len() + 1..];
            let value = after_key.split(" #").next().unwrap_or("").trim();
            // The key's block: deeper lines, and `- ` items at its indent.
            let last = (k + 1..end)
                .take_while(|&i| {
                    !is_content(lines[i])
                        || indent_of(lines[i]) > indent
                        || (indent_of(lines[i]) == indent && lines[i][indent..].starts_with("- "))
                })
                .filter(|&i| is_content(lines[i]))
                .last();
            match value {
                "" => {
                    let item_indent = (k + 1..=last.unwrap_or(k))
                        .find(|&i| is_content(lines[i]) && lines[i].trim_start().starts_with('-'))
                        .map_or_else(|| format!("{pad}  "), |i| " ".repeat(indent_of(lines[i])));
                    let at = last.unwrap_or(k);
                    for (i, l) in lines.iter().enumerate() {
                        out.push_str(l);
                        if i == at {
                            if !l.ends_with('\n') {
                                out.push('\n');
                            }
                            out.push_str(&block(&item_indent));
                        }
                    }
                }
                "[]" => {
                    for (i, l) in lines.iter().enumerate() {
                        if i == k {
                            out.push_str(&format!("{pad}{KEY}:\n"));
                            out.push_str(&block(&format!("{pad}  ")));
                        } else {
                            out.push_str(l);
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "`{KEY}` is written as a flow list; write it as a block list \
                         (one `- rule: ...` per line) to let approvals add to it"
                    ))
                }
            }
        }
        None => {
            // After the mapping's last line with content.
            let at = (start..end).rev().find(|&i| is_content(lines[i]));
            let section = format!("{pad}{KEY}:\n{}", block(&format!("{pad}  ")));
            match at {
                Some(at) if format == FileFormat::CodeframePolicy => {
                    for (i, l) in lines.iter().enumerate() {
                        out.push_str(l);
                        if i == at {
                            if !l.ends_with('\n') {
                                out.push('\n');
                            }
                            out.push_str(&section);
                        }
                    }
                }
                _ => {
                    out.push_str(text);
                    if !text.is_empty() && !text.ends_with('\n') {
                        out.push('\n');
                    }
                    if !text.trim().is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&format!(
                        "# Rules added by approvals (sandboxcore, scope persist).\n{section}"
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The index just past the JSON value starting at `i` (after whitespace).
fn skip_value(b: &[u8], mut i: usize) -> Result<usize, String> {
    i = skip_ws(b, i);
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err("unbalanced JSON".into())
        }
        Some(_) => {
            while i < b.len() && !b",}] \t\r\n".contains(&b[i]) {
                i += 1;
            }
            Ok(i)
        }
        None => Err("unexpected end of JSON".into()),
    }
}

fn skip_string(b: &[u8], mut i: usize) -> Result<usize, String> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unterminated JSON string".into())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b" \t\r\n".contains(&b[i]) {
        i += 1;
    }
    i
}

/// The members of the object whose `{` is at `open`: (key, key start,
/// value start, value end), and the index of its `}`.
type Members = (Vec<(String, usize, usize, usize)>, usize);

fn members(text: &str, open: usize) -> Result<Members, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Ok((out, i));
    }
    loop {
        i = skip_ws(b, i);
        let key_start = i;
        let key_end = skip_string(b, i)?;
        let key: String =
            serde_json::from_str(&text[key_start..key_end]).map_err(|e| e.to_string())?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err("expected `:` in a JSON object".into());
        }
        let value_start = skip_ws(b, i + 1);
        let value_end = skip_value(b, value_start)?;
        out.push((key, key_start, value_start, value_end));
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok((out, i)),
            _ => return Err("expected `,` or `}` in a JSON object".into()),
        }
    }
}

/// The spaces before position `at` on its line.
fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    if before.trim().is_empty() {
        before.to_string()
    } else {
        String::new()
    }
}

/// Adds the entries to a JSON document as text.
fn add_to_json(
    text: &str,
    format: FileFormat,
    entries: &[ApprovedCommand],
) -> Result<String, String> {
    let b = text.as_bytes();
    let top = skip_ws(b, 0);
    if b.get(top) != Some(&b'{') {
        return Err("the policy is not a JSON object".into());
    }
    let mut object = top;
    if format == FileFormat::CodeframePolicy {
        let (ms, _) = members(text, top)?;
        let (_, _, v, _) = ms
            .iter()
            .find(|m| m.0 == "security")
            .ok_or("no `security` object")?;
        if b.get(*v) != Some(&b'{') {
            return Err("`security` is not an object".into());
        }
        object = *v;
    }
    let (ms, _) = members(text, object)?;
    let entry_json = |e: &ApprovedCommand| serde_json::to_string(e).expect("an entry serialises");
    let mut out = String::with_capacity(text.len() + 512);
    if let Some((_, key_start, v, v_end)) = ms.iter().find(|m| m.0 == KEY) {
        if b.get(*v) != Some(&b'[') {
            return Err(format!("`{KEY}` is not an array"));
        }
        let inner = &text[v + 1..v_end - 1];
        let pad = format!("{}  ", line_indent(text, *key_start));
        let items: Vec<String> = entries
            .iter()
            .map(|e| format!("\n{pad}{}", entry_json(e)))
            .collect();
        let at = if inner.trim().is_empty() {
            v + 1
        } else {
            // After the array's last value.
            v + 1 + inner.trim_end().len()
        };
        let sep = if inner.trim().is_empty() { "" } else { "," };
        out.push_str(&text[..at]);
        out.push_str(sep);
        out.push_str(&items.join(","));
        if inner.trim().is_empty() {
            out.push('\n');
            out.push_str(&line_indent(text, *key_start));
        }
        out.push_str(&text[at..]);
    } else {
        let (pad, at, sep) = match ms.last() {
            Some(last) => (line_indent(text, ms[0].1), last.3, ","),
            None => ("  ".to_string(), object + 1, ""),
        };
        let pad = if pad.is_empty() { " ".to_string() } else { pad };
        let items: Vec<String> = entries
            .iter()
            .map(|e| format!("\n{pad}  {}", entry_json(e)))
            .collect();
        out.push_str(&text[..at]);
        out.push_str(&format!(
            "{sep}\n{pad}\"{KEY}\": [{}\n{pad}]",
            items.join(",")
        ));
        if ms.is_empty() {
            out.push('\n');
        }
        out.push_str(&text[at..]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
