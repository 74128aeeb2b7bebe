//! The syntax tree produced by [`super::parse`].
//!
//! The tree keeps exactly what the classifier needs: the structure of lists,
//! pipelines and compound commands, and for every word the pieces it is made
//! of (which parts were quoted, which are expansions). It is not meant to be
//! executed. Its types are `#[non_exhaustive]`: the parser may learn more
//! of the shell language without a breaking change.

/// A parsed script: a list of commands plus the here-document bodies that
/// the redirections in it refer to by index.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Script {
    /// The top-level command list.
    pub body: List,
    /// Here-document bodies, in the order their operators appeared.
    pub heredocs: Vec<HereDoc>,
}

/// A sequence of and-or lists separated by `;`, `&` or newlines.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct List {
    /// The items, in order.
    pub items: Vec<ListItem>,
}

/// One and-or list with the separator that ended it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ListItem {
    /// The and-or list.
    pub and_or: AndOr,
    /// How the item was terminated.
    pub terminator: Terminator,
}

/// What ended a list item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Terminator {
    /// End of input or of the enclosing construct.
    End,
    /// `;`
    Semicolon,
    /// A newline.
    Newline,
    /// `&`: run in the background.
    Background,
}

/// Pipelines joined by `&&` and `||`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AndOr {
    /// The first pipeline.
    pub first: Pipeline,
    /// Following pipelines with the operator before each.
    pub rest: Vec<(AndOrOp, Pipeline)>,
}

/// `&&` or `||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AndOrOp {
    /// `&&`
    And,
    /// `||`
    Or,
}

/// Commands joined by `|` (or bash's `|&`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pipeline {
    /// `!` before the pipeline.
    pub negated: bool,
    /// bash's `time` keyword before the pipeline.
    pub timed: bool,
    /// The stages; more than one means a pipe.
    pub commands: Vec<Command>,
    /// Whether any stage was joined with `|&`.
    pub pipes_stderr: bool,
}

/// One command of a pipeline.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// A simple command: assignments, words and redirections.
    Simple(SimpleCommand),
    /// A compound command with its trailing redirections.
    Compound(Box<CompoundCommand>, Vec<Redirect>),
    /// `name() compound-command`.
    Function(FunctionDef),
}

/// A simple command.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SimpleCommand {
    /// `NAME=value` words before the command name.
    pub assignments: Vec<Word>,
    /// The command name and its arguments.
    pub words: Vec<Word>,
    /// Redirections, wherever they stood in the command.
    pub redirects: Vec<Redirect>,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FunctionDef {
    /// The function's name as written.
    pub name: String,
    /// The body.
    pub body: Box<Command>,
}

/// The compound commands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CompoundCommand {
    /// `( list )`
    Subshell(List),
    /// `{ list; }`
    Group(List),
    /// `if`/`elif`/`else`: conditions and bodies, flattened.
    If(Vec<List>),
    /// `while` or `until`: condition and body.
    Loop(List, List),
    /// `for name [in words]; do list; done`.
    For(Vec<Word>, List),
    /// `case word in pattern) list ;; esac`: the subject, patterns and bodies.
    Case(Word, Vec<Word>, Vec<List>),
    /// bash's `(( expression ))`.
    Arithmetic(Vec<WordPart>),
    /// bash's `[[ expression ]]`.
    Conditional(Vec<Word>),
}

/// A redirection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Redirect {
    /// The explicit file descriptor number, if written.
    pub fd: Option<u32>,
    /// The operator.
    pub op: RedirectOp,
    /// The target word; for here-documents the delimiter.
    pub target: Word,
    /// For here-documents: the index into [`Script::heredocs`].
    pub heredoc: Option<usize>,
}

/// Redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectOp {
    /// `<`
    Input,
    /// `>`
    Output,
    /// `>|`
    Clobber,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&`
    DupInput,
    /// `>&`
    DupOutput,
    /// `<<` and `<<-`
    HereDoc,
    /// bash's `<<<`
    HereString,
    /// bash's `&>` and `&>>`
    OutputBoth,
}

impl RedirectOp {
    /// The operator as written in the shell.
    pub fn as_str(self) -> &'static str {
        match self {
            RedirectOp::Input => "<",
            RedirectOp::Output => ">",
            RedirectOp::Clobber => ">|",
            RedirectOp::Append => ">>",
            RedirectOp::ReadWrite => "<>",
            RedirectOp::DupInput => "<&",
            RedirectOp::DupOutput => ">&",
            RedirectOp::HereDoc => "<<",
            RedirectOp::HereString => "<<<",
            RedirectOp::OutputBoth => "&>",
        }
    }

    /// Whether the redirection can write to a file named by its target.
    pub fn writes_file(self) -> bool {
        matches!(
            self,
            RedirectOp::Output
                | RedirectOp::Clobber
                | RedirectOp::Append
                | RedirectOp::ReadWrite
                | RedirectOp::OutputBoth
        )
    }
}

/// A here-document body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HereDoc {
    /// Whether the delimiter was quoted (then the body is literal).
    pub quoted: bool,
    /// The body, parsed into parts when unquoted.
    pub body: Vec<WordPart>,
    /// The raw body text.
    pub text: String,
}

/// A shell word: the parts it is made of, in order.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Word {
    /// The parts.
    pub parts: Vec<WordPart>,
}

/// A piece of a word.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WordPart {
    /// Literal text. `quoted` is false for unquoted text, which is subject to
    /// globbing, tilde and brace expansion.
    Lit {
        /// The text after quote removal.
        text: String,
        /// Whether it was quoted or escaped.
        quoted: bool,
    },
    /// `"..."`: the parts inside (literals inside are quoted).
    DoubleQuoted(Vec<WordPart>),
    /// bash's `$'...'`, decoded.
    AnsiC(String),
    /// bash's `$"..."`.
    Locale(Vec<WordPart>),
    /// `$name`, `${...}` and special parameters.
    Param(Param),
    /// `$(...)` or `` `...` ``.
    CommandSubst(Box<List>),
    /// `$((...))` with any substitutions inside it.
    Arith(Vec<WordPart>),
    /// bash's legacy `$[...]` arithmetic (dash leaves it as text), with any
    /// substitutions inside it.
    LegacyArith(Vec<WordPart>),
    /// `<(...)` or `>(...)`.
    ProcessSubst(ProcDirection, Box<List>),
}

/// The direction of a process substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcDirection {
    /// `<(...)`: the command's output is read.
    Input,
    /// `>(...)`: the command reads what is written.
    Output,
}

/// A parameter expansion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Param {
    /// The parameter name (`HOME`, `1`, `@`, ...).
    pub name: String,
    /// Whether it was written with braces.
    pub braced: bool,
    /// Anything after the name inside braces (`:-default`, `#pattern`, ...),
    /// parsed for nested substitutions.
    pub modifier: Vec<WordPart>,
}
