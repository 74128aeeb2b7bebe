//! The parser's own tests, on the tree it builds (the classifier's tests
//! reach it only through `classify`).

use super::*;

fn lit(text: &str, quoted: bool) -> WordPart {
    WordPart::Lit {
        text: text.into(),
        quoted,
    }
}

fn word(text: &str) -> Word {
    Word {
        parts: vec![lit(text, false)],
    }
}

/// The only simple command of a one-command script.
fn simple(src: &str) -> SimpleCommand {
    let script = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    assert_eq!(script.body.items.len(), 1, "{src}");
    let p = &script.body.items[0].and_or.first;
    assert_eq!(p.commands.len(), 1, "{src}");
    match &p.commands[0] {
        Command::Simple(c) => c.clone(),
        other => panic!("{src}: not a simple command: {other:?}"),
    }
}

#[test]
fn lists_and_or_lists_and_pipelines_nest_in_that_order() {
    let s = parse("a | b && ! c || d; e &\nf").unwrap();
    let items = &s.body.items;
    assert_eq!(items.len(), 3);
    assert_eq!(
        items.iter().map(|i| i.terminator).collect::<Vec<_>>(),
        [
            Terminator::Semicolon,
            Terminator::Background,
            Terminator::End
        ]
    );
    let first = &items[0].and_or;
    assert_eq!(first.first.commands.len(), 2);
    assert!(!first.first.negated);
    assert_eq!(
        first.rest.iter().map(|(op, _)| *op).collect::<Vec<_>>(),
        [AndOrOp::And, AndOrOp::Or]
    );
    assert!(first.rest[0].1.negated);
    let s = parse("a\nb").unwrap();
    assert_eq!(s.body.items[0].terminator, Terminator::Newline);
    assert!(
        parse("a |& b").unwrap().body.items[0]
            .and_or
            .first
            .pipes_stderr
    );
    assert!(parse("time a").unwrap().body.items[0].and_or.first.timed);
}

#[test]
fn words_keep_their_quoting_and_expansions() {
    let c = simple(r#"echo 'a b' "x $HOME ${USER:-me}" c\ d $'t\n' $(ls) $((1+2))"#);
    assert_eq!(c.words[0], word("echo"));
    assert_eq!(c.words[1].parts, [lit("a b", true)]);
    let WordPart::DoubleQuoted(inner) = &c.words[2].parts[0] else {
        panic!("{:?}", c.words[2]);
    };
    assert_eq!(inner[0], lit("x ", true));
    assert!(matches!(&inner[1], WordPart::Param(p) if p.name == "HOME" && !p.braced));
    assert!(
        matches!(&inner[3], WordPart::Param(p) if p.name == "USER" && p.braced && !p.modifier.is_empty())
    );
    // The backslash quotes the space only.
    assert_eq!(
        c.words[3].parts,
        [lit("c", false), lit(" ", true), lit("d", false)]
    );
    assert_eq!(c.words[4].parts, [WordPart::AnsiC("t\n".into())]);
    assert!(matches!(&c.words[5].parts[0], WordPart::CommandSubst(l) if l.items.len() == 1));
    assert!(matches!(&c.words[6].parts[0], WordPart::Arith(_)));
    assert_eq!(word_text(&c.words[2]), "x ${HOME} ${USER:-me}");
}

#[test]
fn assignments_and_redirections_are_kept_apart_from_the_words() {
    let c = simple("A=1 B+=2 cmd >out 2>>err <in 3<&0 &>both arg");
    assert_eq!(c.assignments.len(), 2);
    assert!(c.assignments.iter().all(is_assignment));
    assert_eq!(c.words, [word("cmd"), word("arg")]);
    let ops: Vec<(Option<u32>, RedirectOp)> = c.redirects.iter().map(|r| (r.fd, r.op)).collect();
    assert_eq!(
        ops,
        [
            (None, RedirectOp::Output),
            (Some(2), RedirectOp::Append),
            (None, RedirectOp::Input),
            (Some(3), RedirectOp::DupInput),
            (None, RedirectOp::OutputBoth),
        ]
    );
    assert_eq!(c.redirects[0].target, word("out"));
    assert!(!is_assignment(&word("cmd")));
    assert!(!is_assignment(&Word {
        parts: vec![lit("A=1", true)]
    }));
}

#[test]
fn here_documents_are_read_after_the_line_and_indexed() {
    let s = parse("cat <<EOF; cat <<'RAW'\nhello $USER\nEOF\nliteral $X\nRAW\n").unwrap();
    assert_eq!(s.heredocs.len(), 2);
    assert!(!s.heredocs[0].quoted);
    assert_eq!(s.heredocs[0].text, "hello $USER\n");
    assert!(s.heredocs[0]
        .body
        .iter()
        .any(|p| matches!(p, WordPart::Param(p) if p.name == "USER")));
    assert!(s.heredocs[1].quoted);
    assert_eq!(s.heredocs[1].text, "literal $X\n");
    let Command::Simple(c) = &s.body.items[1].and_or.first.commands[0] else {
        panic!()
    };
    assert_eq!(c.redirects[0].op, RedirectOp::HereDoc);
    assert_eq!(c.redirects[0].heredoc, Some(1));
}

#[test]
fn compound_commands_and_functions() {
    let compound = |src: &str| -> CompoundCommand {
        match &parse(src).unwrap().body.items[0].and_or.first.commands[0] {
            Command::Compound(c, _) => (**c).clone(),
            other => panic!("{src}: {other:?}"),
        }
    };
    assert!(matches!(compound("(a; b)"), CompoundCommand::Subshell(l) if l.items.len() == 2));
    assert!(matches!(compound("{ a; }"), CompoundCommand::Group(_)));
    assert!(
        matches!(compound("if a; then b; elif c; then d; else e; fi"), CompoundCommand::If(l) if l.len() == 5)
    );
    assert!(matches!(
        compound("while a; do b; done"),
        CompoundCommand::Loop(..)
    ));
    assert!(
        matches!(compound("for x in 1 2 3; do echo $x; done"), CompoundCommand::For(w, _) if w.len() == 3)
    );
    assert!(
        matches!(compound("case $x in a|b) y;; *) z;; esac"), CompoundCommand::Case(_, p, b) if p.len() == 3 && b.len() == 2)
    );
    assert!(matches!(
        compound("(( i += 1 ))"),
        CompoundCommand::Arithmetic(_)
    ));
    assert!(matches!(
        compound("[[ -f x && $y == z ]]"),
        CompoundCommand::Conditional(_)
    ));
    match &parse("f() { a; }").unwrap().body.items[0]
        .and_or
        .first
        .commands[0]
    {
        Command::Function(f) => assert_eq!(f.name, "f"),
        other => panic!("{other:?}"),
    }
    let Command::Compound(_, redirects) = &parse("{ a; } >log").unwrap().body.items[0]
        .and_or
        .first
        .commands[0]
    else {
        panic!()
    };
    assert_eq!(redirects[0].op, RedirectOp::Output);
}

#[test]
fn process_substitutions_and_backquotes() {
    let c = simple("diff <(ls a) >(wc) `date`");
    assert!(matches!(
        &c.words[1].parts[0],
        WordPart::ProcessSubst(ProcDirection::Input, _)
    ));
    assert!(matches!(
        &c.words[2].parts[0],
        WordPart::ProcessSubst(ProcDirection::Output, _)
    ));
    assert!(matches!(&c.words[3].parts[0], WordPart::CommandSubst(_)));
}

#[test]
fn errors_say_what_and_where() {
    for (src, offset_at_least) in [
        ("echo 'open", 5),
        ("a &&", 4),
        ("if a; then b", 12),
        ("(a", 2),
        ("a | | b", 4),
    ] {
        let e = parse(src).unwrap_err();
        assert!(!e.message.is_empty(), "{src}");
        assert!(e.offset >= offset_at_least.min(src.len()) - 1, "{src}: {e}");
        assert!(e.offset <= src.len(), "{src}: {e}");
    }
    // Nesting past the limit is an error, not a stack overflow (`( (`:
    // `((` would open an arithmetic command).
    let deep = format!(
        "{}a{}",
        "( ".repeat(MAX_DEPTH + 5),
        ")".repeat(MAX_DEPTH + 5)
    );
    assert!(parse(&deep).is_err());
    let ok = format!("{}a{}", "( ".repeat(10), ")".repeat(10));
    assert!(parse(&ok).is_ok());
}
