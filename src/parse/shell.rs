//! POSIX shell (bash) scripts of CI jobs (a GitLab `script:` item, a GitHub `run:` block):
//!
//! * the files embedded as here-documents, extracted exactly as bash feeds them to the
//!   command, with a byte mapping back into the script ([`heredocs`], [`expand`]);
//! * a light command model (simple commands, pipelines, `&&`/`||` lists, compound commands
//!   and the context each command runs in) to find validation steps that cannot fail
//!   ([`parse`], [`program_name`], [`has_flag`], [`Script::failure_ignored`]).
//!
//! All offsets are byte offsets into the script string given, on char boundaries. Nothing
//! here panics, whatever the input: a malformed script gives a best-effort model.
//!
//! **Line breaks**: `\r\n` is a line break everywhere (bash would keep the `\r` in the line,
//! so no heredoc delimiter would match; a CRLF script is meant with plain line breaks).
//! Heredoc bodies use `\n` only: the `\r` is dropped (it has no run in the segments), and
//! `EOF\r` closes `<<EOF`. A lone `\r` is an ordinary character.
//!
//! **Not handled** (deliberately): commands inside `$(...)`, backquotes, `<(...)`, `eval` and
//! `bash -c` strings (they stay inside their word; [`parse`] such a string if needed), and
//! heredocs inside `$(...)`; aliases, extglob patterns, `coproc`, `{fd}>` redirections, case
//! patterns with nested parens; `$'...'` escapes are kept as written. Inside `[[ ... ]]`,
//! `< > ( ) | &` are word characters (as in bash), and `;` or a line break ends it.
//! `((` opens an arithmetic command only when its parens close as `))` (within 1 KiB).
//! An unterminated quote runs to the end of the script (bash reports a syntax error).

use std::ops::Range;

/// A mapping run: `(offset in the derived text, offset in the script, length)`.
pub type Run = (usize, usize, usize);

/// Nesting limit for compound commands and substitutions (deeper input is lexed flat,
/// which bounds the recursion on garbage input).
const MAX_NEST: usize = 100;

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/// A here-document (`<<DELIM` or `<<-DELIM`) and its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heredoc {
    /// The simple command holding the redirection (`cat > f.js << 'EOF'`); for a compound
    /// command (`while ...; done <<EOF`) the whole compound.
    pub command: Range<usize>,
    /// The program as written, after the prefixes that [`program_name`] skips (`sudo tee F`
    /// gives `tee`); for a compound command its keyword (`while`); empty without words.
    pub program: String,
    /// The file the body is written to: `cat > F` (also `>F`, `>> F`, `<<EOF > F`: the last
    /// stdout redirection), `tee [-a] F`, `sudo tee F`, `cat <<EOF | tee F`. `None` when the
    /// body goes elsewhere (`kubectl apply -f - <<EOF`, `python3 - <<EOF`), and for all but
    /// the last standard-input heredoc of a command (`cat <<A <<B` reads only `B`).
    pub target: Option<(String, Range<usize>)>,
    /// The delimiter after quote removal (`'EOF'` gives `EOF`).
    pub delimiter: String,
    /// The delimiter word as written.
    pub delimiter_span: Range<usize>,
    /// The delimiter was quoted in any way (`'EOF'`, `"EOF"`, `\EOF`, `E"O"F`): no expansion.
    pub quoted: bool,
    /// `<<-`: leading tabs are stripped from every body line and from the delimiter line.
    pub strip_tabs: bool,
    /// The body as bash feeds it to the command (after tab stripping, before expansion),
    /// lines ending in `\n`. An unterminated body whose last line has no line break ends
    /// without `\n` (bash adds one, but it has no byte in the script).
    pub body: String,
    /// Runs body -> script, sorted, covering the body: `script[o..o+l] == body[i..i+l]`.
    pub segments: Vec<Run>,
    /// The script range of the body lines (up to the delimiter line, or the end).
    pub span: Range<usize>,
    /// The delimiter line was found (else the body runs to the end of the script, as bash).
    pub terminated: bool,
}

impl Heredoc {
    /// The text the command reads: the body for a quoted delimiter, else [`expand`] of it.
    pub fn expanded(&self, resolve: &dyn Fn(&str) -> Option<String>) -> Expanded {
        if !self.quoted {
            return expand(&self.body, &self.segments, resolve);
        }
        let (text, segments) = (self.body.clone(), self.segments.clone());
        Expanded {
            text,
            segments,
            ..Expanded::default()
        }
    }
}

/// What an [`Expansion`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpansionKind {
    /// `$NAME` or `${NAME}`: resolvable statically.
    Simple,
    /// `${X:-d}`, `${#X}`, `$(cmd)`, `` `cmd` ``, `$((..))`, `$[..]`, `$1`, `$@`, `$?`, ...
    Complex,
    /// `\$`, `` \` ``, `\\`, backslash-newline: bash removes the backslash (and the newline).
    Escaped,
}

/// A parameter expansion, substitution or escape in an unquoted heredoc body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// The variable (`X` for `$X`, `${X}`, `${X:-d}`, `${#X}`; `1`, `@`, `?` for special
    /// parameters); empty for substitutions and arithmetic; the escaped char for `Escaped`.
    pub name: String,
    /// The whole construct (`$X`, `${...}`, `$(...)`, `\$`): in the body, or in the script
    /// for [`Expanded::unresolved`].
    pub span: Range<usize>,
    pub kind: ExpansionKind,
}

/// The result of [`expand`]. Every byte of `text` is in exactly one run of `segments`
/// (literal text, mapped byte for byte) or one range of `substituted` (a value that replaced
/// a reference: no byte-exact origin; [`Expanded::map`] maps it to the reference's start).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub text: String,
    /// Runs text -> script for the literal text, sorted: `script[o..o+l] == text[i..i+l]`.
    pub segments: Vec<Run>,
    /// `(range in text, range of the `$X`/`${X}` reference in the script)` per substitution.
    pub substituted: Vec<(Range<usize>, Range<usize>)>,
    /// Expansions kept as written (unknown `Simple`, all `Complex`), spans in the script.
    pub unresolved: Vec<Expansion>,
}

impl Expanded {
    /// The script offset of a text offset (a substituted value's bytes give the start of its
    /// reference); `None` outside the text.
    pub fn map(&self, offset: usize) -> Option<usize> {
        map_offset(&self.segments, offset).or_else(|| {
            let mut subst = self.substituted.iter();
            subst
                .find(|(t, _)| t.contains(&offset))
                .map(|(_, s)| s.start)
        })
    }
}

/// A shell word.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    /// After quote removal (`'a b'` -> `a b`, `"\$x"` -> `$x`, `\;` -> `;`); expansions,
    /// `$(...)`, backquotes and arithmetic are left as written.
    pub text: String,
    pub span: Range<usize>,
    /// Some part was quoted or backslash-escaped.
    pub quoted: bool,
}

/// A redirection operator: `<` In, `>` Out, `>>` Append, `>|` Clobber, `<>` ReadWrite,
/// `<&` DupIn, `>&` DupOut, `&>` OutErr, `&>>` AppendOutErr, `<<`/`<<-` Heredoc,
/// `<<<` HereString.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    In,
    Out,
    Append,
    Clobber,
    ReadWrite,
    DupIn,
    DupOut,
    OutErr,
    AppendOutErr,
    Heredoc,
    HereString,
}

/// A redirection of a simple or compound command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The explicit descriptor (`2>`).
    pub fd: Option<u32>,
    pub op: RedirOp,
    /// The target word (`/dev/null`, `1` for `2>&1`, the delimiter of a heredoc).
    pub target: Option<Word>,
    /// Index into [`Script::heredocs`].
    pub heredoc: Option<usize>,
    /// Descriptor, operator and target.
    pub span: Range<usize>,
}

/// What follows a command or pipeline: `|` Pipe (also `|&`), `&&` And, `||` Or, `;` or a
/// line break Seq, `&` Background, End (end of script, or a closing `fi`, `done`, `}`, `)`,
/// `;;`, `then`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    Pipe,
    And,
    Or,
    Seq,
    Background,
    End,
}

/// The part of a compound command that a command is in; `usize` fields index
/// [`Script::ifs`] (and, second, [`IfBlock::elifs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    IfCond(usize),
    Then(usize),
    ElifCond(usize, usize),
    ElifThen(usize, usize),
    Else(usize),
    /// The condition list of `while`/`until`.
    LoopCond,
    /// The body of a loop, `case` item, `{ }`, `( )` or function.
    Body,
}

/// An enclosing compound command: index into [`Script::compounds`] (whose `kind` tells
/// `while`/`for`/function...) and the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    pub compound: usize,
    pub part: Part,
}

impl Ctx {
    /// A condition list (`if`, `elif`, `while`, `until`): a failure there is tested, not fatal.
    pub fn is_condition(&self) -> bool {
        matches!(
            self.part,
            Part::IfCond(_) | Part::ElifCond(..) | Part::LoopCond
        )
    }
}

/// A simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// argv including the program, without redirections and leading assignments.
    pub words: Vec<Word>,
    /// Leading `NAME=value` (`NAME+=v`, `NAME[i]=v`, `NAME=(...)`) words.
    pub assignments: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// Words, assignments and redirections (not heredoc bodies).
    pub span: Range<usize>,
    /// 0-based line where it starts.
    pub line: usize,
    /// Index into [`Script::pipelines`].
    pub pipeline: usize,
    /// Its pipeline starts with `!`.
    pub negated: bool,
    /// Its and-or list ends with `&` (inside a backgrounded compound: see the compound).
    pub background: bool,
    /// `Pipe` inside a pipeline, else what follows the pipeline.
    pub after: Connector,
    /// `context.len()`.
    pub depth: usize,
    /// Enclosing compound commands, outermost first.
    pub context: Vec<Ctx>,
}

/// The kind of a compound command (`If` indexes [`Script::ifs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompoundKind {
    If(usize),
    While,
    Until,
    For,
    Select,
    Case,
    Brace,
    Subshell,
    /// A function definition and its name.
    Function(String),
}

/// A compound command, an element of a pipeline like a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compound {
    pub kind: CompoundKind,
    /// From the keyword through the closing keyword and trailing redirections.
    pub span: Range<usize>,
    /// Header words: the variable and list of `for`, the subject of `case`.
    pub words: Vec<Word>,
    /// Redirections after the closing keyword (`done < file`, `} > log 2>&1`).
    pub redirects: Vec<Redirect>,
    pub pipeline: usize,
    pub negated: bool,
    pub background: bool,
    pub after: Connector,
    pub context: Vec<Ctx>,
    /// The closing keyword was found.
    pub terminated: bool,
}

/// An element of a pipeline: an index into [`Script::commands`] or [`Script::compounds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Command(usize),
    Compound(usize),
}

/// A pipeline `[!] a | b | c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub span: Range<usize>,
    pub negated: bool,
    pub background: bool,
    /// What follows it (never `Pipe`).
    pub after: Connector,
    pub elements: Vec<Element>,
}

/// An `elif` branch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Elif {
    pub cond: Vec<usize>,
    pub then_: Vec<usize>,
}

/// An `if` command. The lists hold the indices into [`Script::commands`] of every command in
/// that part, nested ones included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfBlock {
    /// From `if` to `fi`.
    pub span: Range<usize>,
    /// Index into [`Script::compounds`].
    pub compound: usize,
    pub cond: Vec<usize>,
    pub then_: Vec<usize>,
    pub elifs: Vec<Elif>,
    pub else_: Vec<usize>,
    /// `fi` was found.
    pub terminated: bool,
}

/// The model of a script; every list is in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    pub pipelines: Vec<Pipeline>,
    pub compounds: Vec<Compound>,
    pub ifs: Vec<IfBlock>,
    pub heredocs: Vec<Heredoc>,
    /// `set` commands with options: the option words joined with a space (`"-e"`,
    /// `"-o pipefail"`, `"-eo pipefail"`, `"+e"`) and the command index.
    pub set_options: Vec<(String, usize)>,
}

/// The shell options that matter for failure propagation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShellOptions {
    pub errexit: bool,
    pub pipefail: bool,
    pub nounset: bool,
    pub xtrace: bool,
}

impl ShellOptions {
    /// Apply the option words of a `set` command (as in [`Script::set_options`]).
    pub fn apply(&mut self, flags: &str) {
        let mut words = flags.split_whitespace();
        while let Some(w) = words.next() {
            let on = w.starts_with('-');
            for c in w.chars().skip(1).filter(|_| on || w.starts_with('+')) {
                let long = if c == 'o' { words.next() } else { None };
                match (c, long) {
                    ('e', _) | (_, Some("errexit")) => self.errexit = on,
                    (_, Some("pipefail")) => self.pipefail = on,
                    ('u', _) | (_, Some("nounset")) => self.nounset = on,
                    ('x', _) | (_, Some("xtrace")) => self.xtrace = on,
                    _ => {}
                }
            }
        }
    }
}

impl Script {
    /// The options in force before command `cmd`: `initial` (GitLab runs bash scripts with
    /// `-eo pipefail`; GitHub's `bash` shell too, its default shell with `-e`) with the
    /// `set` commands before it applied in source order (control flow is ignored).
    pub fn options_at(&self, cmd: usize, initial: ShellOptions) -> ShellOptions {
        let mut o = initial;
        for (flags, _) in self.set_options.iter().filter(|(_, i)| *i < cmd) {
            o.apply(flags);
        }
        o
    }

    /// True when a non-zero status of command `cmd` cannot stop the script under errexit
    /// (`opts` from [`Script::options_at`]): it is in an `if`/`elif`/`while`/`until`
    /// condition, negated, followed by `&&` or `||`, backgrounded, or not last in a pipeline
    /// without pipefail; or an enclosing compound command is. Function bodies are judged up
    /// to the function (the call site is not known). With errexit off only the script's
    /// last status counts: that is the caller's case (this returns true).
    pub fn failure_ignored(&self, cmd: usize, opts: ShellOptions) -> bool {
        let Some(c) = self.commands.get(cmd) else {
            return false;
        };
        if !opts.errexit || self.element_ignored(c.pipeline, c.after, opts) {
            return true;
        }
        for ctx in c.context.iter().rev() {
            let Some(k) = self.compounds.get(ctx.compound) else {
                break;
            };
            if matches!(k.kind, CompoundKind::Function(_)) {
                break;
            }
            if ctx.is_condition() || self.element_ignored(k.pipeline, k.after, opts) {
                return true;
            }
        }
        false
    }

    fn element_ignored(&self, pl: usize, after: Connector, o: ShellOptions) -> bool {
        self.pipelines.get(pl).is_some_and(|p| {
            p.negated
                || p.background
                || matches!(p.after, Connector::And | Connector::Or)
                || (after == Connector::Pipe && !o.pipefail)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points and helpers
// ---------------------------------------------------------------------------------------------

/// Parse a script: commands, pipelines, compounds, ifs, heredocs and `set` options.
pub fn parse(script: &str) -> Script {
    let mut lx = Lexer {
        b: script.as_bytes(),
        ..Lexer::default()
    };
    lx.run();
    let nl = script
        .bytes()
        .enumerate()
        .filter(|(_, c)| *c == b'\n')
        .map(|(i, _)| i);
    let mut p = Parser {
        src: script,
        toks: lx.toks,
        pos: 0,
        last_end: 0,
        out: Script {
            heredocs: lx.heredocs,
            ..Script::default()
        },
        ctx: Vec::new(),
        stops: Vec::new(),
        nl: nl.collect(),
    };
    p.list(&[]);
    p.link();
    p.out
}

/// The heredocs of a script.
pub fn heredocs(script: &str) -> Vec<Heredoc> {
    parse(script).heredocs
}

/// The simple commands of a script.
pub fn commands(script: &str) -> Vec<Command> {
    parse(script).commands
}

/// Map an offset through runs: the run containing it gives `outer + (offset - inner)`; a
/// zero-length run matches only exactly at its inner offset.
pub fn map_offset(segments: &[Run], offset: usize) -> Option<usize> {
    let k = segments.partition_point(|r| r.0 <= offset);
    let &(inner, outer, len) = segments.get(k.checked_sub(1)?)?;
    let hit = offset < inner.saturating_add(len) || (len == 0 && offset == inner);
    hit.then(|| outer.checked_add(offset - inner)).flatten()
}

/// The program a command runs, as a basename (`/usr/bin/curl` -> `curl`): its first word
/// after the prefixes `sudo`, `env`, `time`, `command`, `exec`, `nohup` and `timeout` (with
/// their flags; `env`'s assignments; `command -v X` is `command` itself).
pub fn program_name(cmd: &Command) -> Option<&str> {
    Some(basename(&cmd.words.get(program_index(&cmd.words)?)?.text))
}

/// Whether the program's arguments (after [`program_name`], up to `--`) include the flag:
/// `-f` or a short-flag cluster containing it (`-sSf`), or `--NAME`/`--NAME=...` for a
/// `NAME` in `long`. Approximate: clusters with a value (`-ofile`) and option values that
/// start with `-` are read as flags.
pub fn has_flag(cmd: &Command, short: char, long: &[&str]) -> bool {
    let Some(p) = program_index(&cmd.words) else {
        return false;
    };
    let args = cmd.words.iter().skip(p + 1).map(|w| w.text.as_str());
    for t in args.take_while(|t| *t != "--") {
        if let Some(l) = t.strip_prefix("--") {
            if long.contains(&l.split('=').next().unwrap_or(l)) {
                return true;
            }
        } else if t.strip_prefix('-').is_some_and(|s| s.contains(short)) {
            return true;
        }
    }
    false
}

fn basename(t: &str) -> &str {
    t.rsplit('/').next().unwrap_or(t)
}

fn program_index(words: &[Word]) -> Option<usize> {
    let mut i = 0;
    loop {
        let base = basename(&words.get(i)?.text);
        let valued: &[&str] = match base {
            "sudo" => &[
                "-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-R",
            ],
            "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
            "exec" => &["-a"],
            "timeout" => &["-s", "-k", "--signal", "--kill-after"],
            "command" if words.get(i + 1).is_some_and(|w| w.text.starts_with(['-'])) => {
                let t = &words[i + 1].text;
                if t.contains('v') || t.contains('V') {
                    return Some(i);
                }
                &[]
            }
            "time" | "nohup" | "command" => &[],
            _ => return Some(i),
        };
        i += 1;
        while let Some(t) = words.get(i).map(|w| w.text.as_str()) {
            if t == "--" {
                i += 1;
                break;
            } else if t.len() > 1 && t.starts_with('-') {
                i += if valued.contains(&t) { 2 } else { 1 };
            } else if base == "env" && t.contains('=') {
                i += 1;
            } else {
                break;
            }
        }
        i += usize::from(base == "timeout"); // the duration
    }
}

// ---------------------------------------------------------------------------------------------
// Heredoc bodies: expansions
// ---------------------------------------------------------------------------------------------

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_name(s: &[u8]) -> bool {
    s.first().is_some_and(|&c| is_name_start(c)) && s.iter().all(|&c| is_name_char(c))
}

/// The expansions and escapes of an unquoted heredoc body (as bash sees them: quotes are not
/// special outside `${...}`/`$(...)`), in order, spans in `body`. A `$` not followed by a
/// name, `{`, `(`, `[`, a digit or a special parameter is literal and not reported.
pub fn expansions(body: &str) -> Vec<Expansion> {
    use ExpansionKind::*;
    let b = body.as_bytes();
    let text = |r: Range<usize>| body.get(r).unwrap_or("").to_string();
    let (mut out, mut i) = (Vec::new(), 0);
    while let Some(&c) = b.get(i) {
        let (end, name, kind) = match (c, b.get(i + 1).copied()) {
            (b'\\', Some(d @ (b'$' | b'`' | b'\\' | b'\n'))) => {
                (i + 2, (d as char).into(), Escaped)
            }
            (b'\\', Some(b'\r')) if nl_len(b, i + 1) == 2 => (i + 3, "\n".into(), Escaped),
            (b'$', Some(b'{')) => {
                let end = skip_braces(b, i + 1, 0);
                let closed = end > i + 2 && b.get(end - 1) == Some(&b'}');
                let inner = slice(b, i + 2..end - usize::from(closed));
                if is_name(inner) {
                    (end, text(i + 2..i + 2 + inner.len()), Simple)
                } else {
                    let s = inner
                        .iter()
                        .position(|&c| c != b'#' && c != b'!')
                        .unwrap_or(0);
                    let n = slice(b, i + 2 + s..end)
                        .iter()
                        .take_while(|&&c| is_name_char(c));
                    let n = n.count().max(usize::from(inner.len() > s));
                    (end, text(i + 2 + s..i + 2 + s + n), Complex)
                }
            }
            (b'$', Some(b'(')) => (skip_parens(b, i + 1, 0), String::new(), Complex),
            (b'$', Some(b'[')) => {
                let close = slice(b, i..b.len()).iter().position(|&x| x == b']');
                (close.map_or(b.len(), |p| i + p + 1), String::new(), Complex)
            }
            (b'$', Some(d)) if is_name_start(d) => {
                let n = slice(b, i + 1..b.len())
                    .iter()
                    .take_while(|&&x| is_name_char(x))
                    .count();
                (i + 1 + n, text(i + 1..i + 1 + n), Simple)
            }
            (b'$', Some(d)) if d.is_ascii_digit() || b"@*#?-$!".contains(&d) => {
                (i + 2, (d as char).into(), Complex)
            }
            (b'`', _) => (skip_backtick(b, i), String::new(), Complex),
            _ => {
                i += 1;
                continue;
            }
        };
        let end = end.clamp(i + 1, b.len());
        out.push(Expansion {
            name,
            span: i..end,
            kind,
        });
        i = end;
    }
    out
}

fn push_run(runs: &mut Vec<Run>, inner: usize, outer: usize, len: usize) {
    match runs.last_mut() {
        _ if len == 0 => {}
        Some(l) if l.0 + l.2 == inner && l.1.saturating_add(l.2) == outer => l.2 += len,
        _ => runs.push((inner, outer, len)),
    }
}

/// Expand an unquoted heredoc body (`segments`: body -> script) as far as can be done
/// statically: `Simple` references that `resolve` knows are substituted; unknown and
/// `Complex` ones are kept as written (a JSON body stays parseable) and reported with script
/// spans; the backslash of `\$`, `` \` ``, `\\` is removed, and backslash-newline too. See
/// [`Expanded`] for the mapping.
pub fn expand(body: &str, segments: &[Run], resolve: &dyn Fn(&str) -> Option<String>) -> Expanded {
    let copy = |out: &mut Expanded, r: Range<usize>| {
        let Some(s) = body.get(r.clone()) else { return };
        let t0 = out.text.len();
        out.text.push_str(s);
        let k = segments.partition_point(|seg| seg.0.saturating_add(seg.2) <= r.start);
        for &(bi, so, l) in segments
            .get(k..)
            .unwrap_or(&[])
            .iter()
            .take_while(|s| s.0 < r.end)
        {
            let (a, e) = (bi.max(r.start), bi.saturating_add(l).min(r.end));
            if a < e {
                push_run(
                    &mut out.segments,
                    t0 + a - r.start,
                    so.saturating_add(a - bi),
                    e - a,
                );
            }
        }
    };
    let script_span = |r: &Range<usize>| {
        let s = map_offset(segments, r.start).unwrap_or(0);
        let last = r.end.checked_sub(1).and_then(|l| map_offset(segments, l));
        s..last.map_or(s, |x| x.saturating_add(1)).max(s)
    };
    let (mut out, mut cur) = (Expanded::default(), 0);
    for e in expansions(body) {
        copy(&mut out, cur..e.span.start);
        cur = e.span.end;
        let value = (e.kind == ExpansionKind::Simple)
            .then(|| resolve(&e.name))
            .flatten();
        if e.kind == ExpansionKind::Escaped {
            if e.name != "\n" {
                copy(&mut out, e.span.start + 1..e.span.end);
            }
        } else if let Some(v) = value {
            let t0 = out.text.len();
            out.text.push_str(&v);
            out.substituted
                .push((t0..out.text.len(), script_span(&e.span)));
        } else {
            copy(&mut out, e.span.clone());
            out.unresolved.push(Expansion {
                span: script_span(&e.span),
                ..e
            });
        }
    }
    copy(&mut out, cur..body.len());
    out
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Newline,
    Semi,
    /// `;;`, `;&`, `;;&`
    DSemi,
    Amp,
    AndIf,
    OrIf,
    Pipe,
    LParen,
    RParen,
}

#[derive(Debug, Clone)]
enum Tok {
    Word(Word),
    Op(Op, Range<usize>),
    Redir(Redirect),
}

impl Tok {
    fn span(&self) -> Range<usize> {
        match self {
            Tok::Word(Word { span, .. }) | Tok::Op(_, span) | Tok::Redir(Redirect { span, .. }) => {
                span.clone()
            }
        }
    }
}

fn nl_len(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'\n') => 1,
        Some(b'\r') if b.get(i + 1) == Some(&b'\n') => 2,
        _ => 0,
    }
}

fn slice(b: &[u8], r: Range<usize>) -> &[u8] {
    b.get(r).unwrap_or(&[])
}

/// Index after the closing `'` (content from `j`), or the end; `ansi`: `\'` does not close.
fn skip_squote(b: &[u8], mut j: usize, ansi: bool) -> usize {
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' if ansi => j += 2,
            b'\'' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// Index after the closing `"` (content from `j`), or the end.
fn skip_dquote(b: &[u8], mut j: usize, lvl: usize) -> usize {
    while let Some(&c) = b.get(j) {
        j = match (c, b.get(j + 1)) {
            (b'"', _) => return j + 1,
            (b'\\', _) => j + 2,
            (b'$', Some(b'(')) => skip_parens(b, j + 1, lvl + 1),
            (b'$', Some(b'{')) => skip_braces(b, j + 1, lvl + 1),
            (b'`', _) => skip_backtick(b, j),
            _ => j + 1,
        };
    }
    b.len()
}

/// Index after the backquote closing the one at `open`, or the end.
fn skip_backtick(b: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'`' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

fn skip_parens(b: &[u8], open: usize, lvl: usize) -> usize {
    skip_nested(b, open, lvl, b'(', b')')
}

fn skip_braces(b: &[u8], open: usize, lvl: usize) -> usize {
    skip_nested(b, open, lvl, b'{', b'}')
}

/// Index after the `cl` matching the `o` at `open` (skipping quotes, escapes, backquotes
/// and `$(...)`), or the end.
fn skip_nested(b: &[u8], open: usize, lvl: usize, o: u8, cl: u8) -> usize {
    if lvl > MAX_NEST {
        return b.len();
    }
    let (mut depth, mut j) = (0usize, open);
    while let Some(&c) = b.get(j) {
        j = match c {
            b'\\' => j + 2,
            b'\'' => skip_squote(b, j + 1, false),
            b'"' => skip_dquote(b, j + 1, lvl + 1),
            b'`' => skip_backtick(b, j),
            b'$' if o == b'{' && b.get(j + 1) == Some(&b'(') => skip_parens(b, j + 1, lvl + 1),
            _ if c == o || c == cl => {
                depth = if c == o {
                    depth + 1
                } else {
                    depth.saturating_sub(1)
                };
                if depth == 0 {
                    return j + 1;
                }
                j + 1
            }
            _ => j + 1,
        };
    }
    b.len()
}

/// Double-quoted content from `j` into `text`; returns the index after the closing quote.
fn dquote_text(b: &[u8], mut j: usize, text: &mut Vec<u8>) -> usize {
    while let Some(&c) = b.get(j) {
        let k = match (c, b.get(j + 1).copied()) {
            (b'"', _) => return j + 1,
            (b'\\', _) if nl_len(b, j + 1) > 0 => {
                j += 1 + nl_len(b, j + 1);
                continue;
            }
            (b'\\', Some(d @ (b'"' | b'\\' | b'$' | b'`'))) => {
                text.push(d);
                j += 2;
                continue;
            }
            (b'$', Some(b'(')) => skip_parens(b, j + 1, 0),
            (b'$', Some(b'{')) => skip_braces(b, j + 1, 0),
            (b'`', _) => skip_backtick(b, j),
            _ => j + 1,
        };
        text.extend_from_slice(slice(b, j..k));
        j = k;
    }
    b.len()
}

fn is_assign_prefix(t: &[u8]) -> bool {
    let t = t.strip_suffix(b"=");
    is_name(t.map_or(&[], |t| t.strip_suffix(b"+").unwrap_or(t)))
}

fn utf8(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[derive(Default)]
struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
    toks: Vec<Tok>,
    heredocs: Vec<Heredoc>,
    /// Heredocs whose body starts after the next line break.
    pending: Vec<usize>,
    /// Inside `[[ ... ]]`.
    dbracket: bool,
}

impl Lexer<'_> {
    fn run(&mut self) {
        let b = self.b;
        while let Some(&c) = b.get(self.i) {
            let nl = nl_len(b, self.i);
            if c == b' ' || c == b'\t' {
                self.i += 1;
            } else if c == b'\\' && nl_len(b, self.i + 1) > 0 {
                self.i += 1 + nl_len(b, self.i + 1);
            } else if c == b'#' {
                while self.i < b.len() && nl_len(b, self.i) == 0 {
                    self.i += 1;
                }
            } else if nl > 0 {
                self.op(Op::Newline, nl);
                self.dbracket = false;
                self.read_bodies();
            } else {
                self.token(c);
            }
        }
        for idx in std::mem::take(&mut self.pending) {
            if let Some(h) = self.heredocs.get_mut(idx) {
                h.span = b.len()..b.len();
            }
        }
    }

    fn op(&mut self, op: Op, len: usize) {
        let end = (self.i + len).min(self.b.len());
        self.toks.push(Tok::Op(op, self.i..end));
        self.i = end;
    }

    fn token(&mut self, c: u8) {
        let (b, i) = (self.b, self.i);
        if c.is_ascii_digit() && !self.dbracket {
            let j = i + slice(b, i..b.len())
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if matches!(b.get(j), Some(b'<' | b'>')) && b.get(j + 1) != Some(&b'(') {
                let fd = std::str::from_utf8(slice(b, i..j))
                    .ok()
                    .and_then(|s| s.parse().ok());
                return self.redir(j, fd);
            }
        }
        match (c, b.get(i + 1).copied()) {
            (b';', Some(b';')) => self.op(Op::DSemi, 2 + usize::from(b.get(i + 2) == Some(&b'&'))),
            (b';', Some(b'&')) => self.op(Op::DSemi, 2),
            (b';', _) => {
                self.dbracket = false;
                self.op(Op::Semi, 1)
            }
            _ if self.dbracket => self.word(),
            (b'<' | b'>', Some(b'(')) => self.word(),
            (b'<' | b'>', _) | (b'&', Some(b'>')) => self.redir(i, None),
            (b'&', Some(b'&')) => self.op(Op::AndIf, 2),
            (b'&', _) => self.op(Op::Amp, 1),
            (b'|', Some(b'|')) => self.op(Op::OrIf, 2),
            (b'|', Some(b'&')) => self.op(Op::Pipe, 2),
            (b'|', _) => self.op(Op::Pipe, 1),
            (b'(', Some(b'(')) if self.arith_end(i).is_some() => {
                // `(( ... ))`: an arithmetic command, one word
                let end = self.arith_end(i).unwrap_or(i + 2);
                let text = utf8(slice(b, i..end).to_vec());
                self.toks.push(Tok::Word(Word {
                    text,
                    span: i..end,
                    quoted: false,
                }));
                self.i = end;
            }
            (b'(', _) => self.op(Op::LParen, 1),
            (b')', _) => self.op(Op::RParen, 1),
            _ => self.word(),
        }
    }

    /// The end of the `(( ... ))` at `i`, when its parens close as `))` within 1 KiB (the
    /// bound keeps runs of unbalanced `((` linear).
    fn arith_end(&self, i: usize) -> Option<usize> {
        let w = slice(self.b, 0..(i + 1024).min(self.b.len()));
        let inner = skip_parens(w, i + 1, 0);
        (w.get(inner) == Some(&b')') && skip_parens(w, i, 0) == inner + 1).then_some(inner + 1)
    }

    fn word(&mut self) {
        let w = scan_word(self.b, self.i, self.dbracket);
        if w.span.end <= self.i {
            // not reached (every char sent here starts a word); skip a whole char anyway
            self.i += 1;
            while self.b.get(self.i).is_some_and(|&c| (c & 0xC0) == 0x80) {
                self.i += 1;
            }
            return;
        }
        self.i = w.span.end;
        match (w.quoted, w.text.as_str()) {
            (false, "[[") => self.dbracket = true,
            (false, "]]") => self.dbracket = false,
            _ => {}
        }
        self.toks.push(Tok::Word(w));
    }

    /// A redirection operator at `at` (its descriptor digits, if any, start at `self.i`); a
    /// heredoc operator also reads its delimiter word.
    fn redir(&mut self, at: usize, fd: Option<u32>) {
        let b = self.b;
        let g = |k: usize| b.get(at + k).copied().unwrap_or(0);
        let (op, len) = match (g(0), g(1), g(2)) {
            (b'<', b'<', b'<') => (RedirOp::HereString, 3),
            (b'<', b'<', b'-') => (RedirOp::Heredoc, 3),
            (b'<', b'<', _) => (RedirOp::Heredoc, 2),
            (b'<', b'>', _) => (RedirOp::ReadWrite, 2),
            (b'<', b'&', _) => (RedirOp::DupIn, 2),
            (b'<', _, _) => (RedirOp::In, 1),
            (b'>', b'>', _) => (RedirOp::Append, 2),
            (b'>', b'|', _) => (RedirOp::Clobber, 2),
            (b'>', b'&', _) => (RedirOp::DupOut, 2),
            (b'&', b'>', b'>') => (RedirOp::AppendOutErr, 3),
            (b'&', b'>', _) => (RedirOp::OutErr, 2),
            _ => (RedirOp::Out, 1),
        };
        let (start, end) = (self.i, (at + len).min(b.len()));
        self.i = end;
        let tok = self.toks.len();
        let (target, heredoc) = (None, None);
        self.toks.push(Tok::Redir(Redirect {
            fd,
            op,
            target,
            heredoc,
            span: start..end,
        }));
        if op != RedirOp::Heredoc {
            return;
        }
        let mut j = end;
        loop {
            match (b.get(j), nl_len(b, j + 1)) {
                (Some(b' ' | b'\t'), _) => j += 1,
                (Some(b'\\'), n) if n > 0 => j += 1 + n,
                _ => break,
            }
        }
        match b.get(j) {
            Some(c) if nl_len(b, j) == 0 && !b" \t;&|<>()".contains(c) => {}
            _ => return,
        }
        let w = scan_word(b, j, false);
        if w.span.end <= j {
            return;
        }
        let idx = self.heredocs.len();
        self.heredocs.push(Heredoc {
            command: start..w.span.end,
            delimiter: w.text.clone(),
            delimiter_span: w.span.clone(),
            quoted: w.quoted,
            strip_tabs: len == 3,
            ..Heredoc::default()
        });
        if let Some(Tok::Redir(r)) = self.toks.get_mut(tok) {
            r.heredoc = Some(idx);
        }
        self.i = w.span.end;
        self.toks.push(Tok::Word(w));
        self.pending.push(idx);
    }

    /// Read the bodies of the pending heredocs, from `self.i` (the start of a line).
    fn read_bodies(&mut self) {
        let (b, len) = (self.b, self.b.len());
        for idx in std::mem::take(&mut self.pending) {
            let Some(h) = self.heredocs.get(idx) else {
                continue;
            };
            let (delim, strip, quoted) = (h.delimiter.as_bytes().to_vec(), h.strip_tabs, h.quoted);
            let (mut body, mut segs, start) = (Vec::new(), Vec::new(), self.i);
            let (mut end, mut terminated) = (start, false);
            while self.i < len {
                let line_start = self.i;
                let mut p = line_start;
                while strip && b.get(p) == Some(&b'\t') {
                    p += 1;
                }
                // one logical line: unquoted, backslash-newline joins physical lines (bash)
                let (mut cmp, mut pieces) = (Vec::new(), Vec::new());
                let next = loop {
                    let e = slice(b, p..len)
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(len, |q| p + q);
                    let has_nl = e < len;
                    let ce = e - usize::from(has_nl && e > p && b.get(e - 1) == Some(&b'\r'));
                    let bs = slice(b, p..ce)
                        .iter()
                        .rev()
                        .take_while(|&&c| c == b'\\')
                        .count();
                    let joined = !quoted && has_nl && bs % 2 == 1;
                    cmp.extend_from_slice(slice(b, p..ce - usize::from(joined)));
                    pieces.push((p, ce, has_nl.then_some(e)));
                    if !joined {
                        break if has_nl { e + 1 } else { len };
                    }
                    p = e + 1;
                };
                self.i = next;
                if cmp == delim {
                    (terminated, end) = (true, line_start);
                    break;
                }
                end = next;
                for (s, e, nl) in pieces {
                    push_run(&mut segs, body.len(), s, e.saturating_sub(s));
                    body.extend_from_slice(slice(b, s..e));
                    if let Some(n) = nl {
                        push_run(&mut segs, body.len(), n, 1);
                        body.push(b'\n');
                    }
                }
            }
            if let Some(h) = self.heredocs.get_mut(idx) {
                (h.body, h.segments, h.span, h.terminated) =
                    (utf8(body), segs, start..end, terminated);
            }
        }
    }
}

/// One word from `start`: quote removal into `text`; `$(...)`, `${...}`, backquotes and
/// process substitutions copied as written.
fn scan_word(b: &[u8], start: usize, dbracket: bool) -> Word {
    let (mut text, mut quoted, mut j) = (Vec::new(), false, start);
    while let Some(&c) = b.get(j) {
        if nl_len(b, j) > 0 {
            break;
        }
        let (from, to) = match (c, b.get(j + 1).copied()) {
            (b' ' | b'\t' | b';', _) => break,
            (b'<' | b'>', Some(b'(')) if !dbracket => (j, skip_parens(b, j + 1, 0)),
            (b'(', _) if !dbracket && is_assign_prefix(&text) => (j, skip_parens(b, j, 0)),
            (b'&' | b'|' | b'<' | b'>' | b'(' | b')', _) if !dbracket => break,
            (b'\\', _) if nl_len(b, j + 1) > 0 => (j, j), // line continuation
            (b'\\', Some(_)) => (j + 1, j + 2),
            (b'\'', _) => (j + 1, skip_squote(b, j + 1, false)),
            (b'$', Some(b'\'')) => (j + 2, skip_squote(b, j + 2, true)),
            (b'"', _) => {
                j = dquote_text(b, j + 1, &mut text);
                quoted = true;
                continue;
            }
            (b'$', Some(b'"')) => (j, j), // `$"..."`: as `"..."`
            (b'$', Some(b'(')) => (j, skip_parens(b, j + 1, 0)),
            (b'$', Some(b'{')) => (j, skip_braces(b, j + 1, 0)),
            (b'`', _) => (j, skip_backtick(b, j)),
            _ => (j, j + 1),
        };
        let to = to.min(b.len());
        let quote = matches!(c, b'\'' | b'\\') || (c == b'$' && b.get(j + 1) == Some(&b'\''));
        // a closing single quote is not text
        let close = usize::from(quote && c != b'\\' && to > from && b.get(to - 1) == Some(&b'\''));
        text.extend_from_slice(slice(b, from..to - close));
        quoted |= quote && to > j + 1;
        j = if from == j && to == j {
            j + 1 + nl_len(b, j + 1)
        } else {
            to
        };
    }
    let end = j.min(b.len()).max(start);
    Word {
        text: utf8(text),
        span: start..end,
        quoted,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    pos: usize,
    last_end: usize,
    out: Script,
    ctx: Vec<Ctx>,
    /// The closers of every open list (reserved words, `)` and `;;`): a closer of an
    /// enclosing construct also ends the inner lists (recovery from unterminated ones).
    stops: Vec<&'static [&'static str]>,
    nl: Vec<usize>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_op(&self, op: Op) -> bool {
        matches!(self.peek(), Some(Tok::Op(o, _)) if *o == op)
    }

    fn bump(&mut self) {
        if let Some(t) = self.toks.get(self.pos) {
            self.last_end = t.span().end;
            self.pos += 1;
        }
    }

    fn start(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.span().start)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if !w.quoted && w.text == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.bump();
        }
        yes
    }

    fn skip_seps(&mut self, semi: bool) {
        while self.peek_op(Op::Newline) || (semi && self.peek_op(Op::Semi)) {
            self.bump();
        }
    }

    fn is_stop(&self, s: &str) -> bool {
        self.stops.iter().any(|l| l.contains(&s))
    }

    fn list(&mut self, stops: &'static [&'static str]) {
        self.stops.push(stops);
        loop {
            let before = self.pos;
            match self.peek() {
                None => break,
                Some(Tok::Op(Op::RParen, _)) if self.is_stop(")") => break,
                Some(Tok::Op(Op::DSemi, _)) if self.is_stop(";;") => break,
                Some(Tok::Word(w)) if !w.quoted && self.is_stop(&w.text) => break,
                Some(Tok::Op(op, _)) if *op != Op::LParen => self.bump(),
                _ => self.and_or(),
            }
            if self.pos == before {
                self.bump();
            }
        }
        self.stops.pop();
    }

    /// `list` in a context; returns the indices of the commands parsed.
    fn list_in(
        &mut self,
        compound: usize,
        part: Part,
        stops: &'static [&'static str],
    ) -> Vec<usize> {
        self.ctx.push(Ctx { compound, part });
        let c0 = self.out.commands.len();
        self.list(stops);
        self.ctx.pop();
        (c0..self.out.commands.len()).collect()
    }

    fn and_or(&mut self) {
        let mut pls = Vec::new();
        while let Some(pl) = self.pipeline() {
            pls.push(pl);
            let conn = match self.peek() {
                Some(Tok::Op(Op::AndIf, _)) => Connector::And,
                Some(Tok::Op(Op::OrIf, _)) => Connector::Or,
                Some(Tok::Op(Op::Semi | Op::Newline, _)) => Connector::Seq,
                Some(Tok::Op(Op::Amp, _)) => Connector::Background,
                _ => Connector::End,
            };
            self.out.pipelines[pl].after = conn;
            if let Some(&el) = self.out.pipelines[pl].elements.last() {
                self.set(el, |c| c.after = conn, |k| k.after = conn);
            }
            if conn != Connector::End {
                self.bump();
            }
            match conn {
                Connector::And | Connector::Or => self.skip_seps(false),
                Connector::Background => {
                    for &p in &pls {
                        self.out.pipelines[p].background = true;
                        for el in self.out.pipelines[p].elements.clone() {
                            self.set(el, |c| c.background = true, |k| k.background = true);
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
    }

    fn set(&mut self, el: Element, c: impl FnOnce(&mut Command), k: impl FnOnce(&mut Compound)) {
        match el {
            Element::Command(i) => c(&mut self.out.commands[i]),
            Element::Compound(i) => k(&mut self.out.compounds[i]),
        }
    }

    fn pipeline(&mut self) -> Option<usize> {
        let (start, mut negated) = (self.start(), false);
        loop {
            if self.is_kw("!") {
                negated = !negated;
            } else if !self.timed_compound() {
                break;
            }
            self.bump();
        }
        let pl = self.out.pipelines.len();
        self.out.pipelines.push(Pipeline {
            span: start..start,
            negated,
            background: false,
            after: Connector::End,
            elements: Vec::new(),
        });
        while let Some(el) = self.command(pl) {
            self.out.pipelines[pl].elements.push(el);
            if !self.peek_op(Op::Pipe) {
                break;
            }
            self.set(
                el,
                |c| c.after = Connector::Pipe,
                |k| k.after = Connector::Pipe,
            );
            self.bump();
            self.skip_seps(false);
        }
        if self.out.pipelines[pl].elements.is_empty() {
            if pl + 1 == self.out.pipelines.len() {
                self.out.pipelines.pop();
            }
            return None;
        }
        self.out.pipelines[pl].span.end = self.last_end;
        for el in self.out.pipelines[pl]
            .elements
            .clone()
            .into_iter()
            .filter(|_| negated)
        {
            self.set(el, |c| c.negated = true, |k| k.negated = true);
        }
        Some(pl)
    }

    /// At `time` or `time -p` before a compound command (the reserved word), or at the `-p`
    /// after such a `time`. Before a simple command `time` stays a word ([`program_name`]
    /// skips it).
    fn timed_compound(&self) -> bool {
        let tok = |k: usize| self.toks.get(k);
        let word =
            |k: usize, s: &str| matches!(tok(k), Some(Tok::Word(w)) if !w.quoted && w.text == s);
        let at = self.pos;
        let next = if word(at, "time") {
            at + 1 + usize::from(word(at + 1, "-p"))
        } else if word(at, "-p") && at.checked_sub(1).is_some_and(|k| word(k, "time")) {
            at + 1
        } else {
            return false;
        };
        let kw = ["{", "if", "while", "until", "for", "select", "case"];
        match tok(next) {
            Some(Tok::Op(Op::LParen, _)) => true,
            Some(Tok::Word(w)) => !w.quoted && kw.contains(&w.text.as_str()),
            _ => false,
        }
    }

    fn command(&mut self, pl: usize) -> Option<Element> {
        let deep = self.ctx.len() >= MAX_NEST;
        let funcdef = matches!(
            (self.toks.get(self.pos + 1), self.toks.get(self.pos + 2)),
            (Some(Tok::Op(Op::LParen, _)), Some(Tok::Op(Op::RParen, _)))
        );
        let kw = match self.peek()? {
            Tok::Word(w) if !w.quoted && !deep => w.text.clone(),
            Tok::Op(Op::LParen, _) if !deep => "(".to_string(),
            Tok::Op(..) => return None,
            _ => String::new(),
        };
        let kind = match kw.as_str() {
            "if" => return Some(self.if_(pl)),
            "while" => CompoundKind::While,
            "until" => CompoundKind::Until,
            "for" => CompoundKind::For,
            "select" => CompoundKind::Select,
            "case" => return Some(self.case_(pl)),
            "{" => CompoundKind::Brace,
            "(" => CompoundKind::Subshell,
            "function" => return Some(self.function(pl, true)),
            _ if funcdef => return Some(self.function(pl, false)),
            _ => return self.simple(pl),
        };
        let ci = self.begin(kind.clone(), pl);
        self.bump();
        let terminated = match kind {
            CompoundKind::While | CompoundKind::Until => {
                self.list_in(ci, Part::LoopCond, &["do"]);
                self.do_done(ci)
            }
            CompoundKind::Brace => {
                self.list_in(ci, Part::Body, &["}"]);
                self.eat_kw("}")
            }
            CompoundKind::Subshell => {
                self.list_in(ci, Part::Body, &[")"]);
                let close = self.peek_op(Op::RParen);
                self.bump_if(close)
            }
            _ => {
                // for/select NAME [in WORDS]
                self.header_word(ci);
                self.skip_seps(false);
                if self.eat_kw("in") {
                    while self.header_word(ci) {}
                }
                self.skip_seps(true);
                self.do_done(ci)
            }
        };
        Some(self.finish(ci, terminated))
    }

    fn bump_if(&mut self, yes: bool) -> bool {
        if yes {
            self.bump();
        }
        yes
    }

    fn header_word(&mut self, ci: usize) -> bool {
        let Some(Tok::Word(w)) = self.peek() else {
            return false;
        };
        let w = w.clone();
        self.bump();
        self.out.compounds[ci].words.push(w);
        true
    }

    fn do_done(&mut self, ci: usize) -> bool {
        if !self.eat_kw("do") {
            return false;
        }
        self.list_in(ci, Part::Body, &["done"]);
        self.eat_kw("done")
    }

    /// A redirection token and its target word.
    fn redirect(&mut self) -> Option<Redirect> {
        let Some(Tok::Redir(r)) = self.peek() else {
            return None;
        };
        let mut r = r.clone();
        self.bump();
        if let Some(Tok::Word(w)) = self.peek() {
            r.span.end = w.span.end;
            r.target = Some(w.clone());
            self.bump();
        }
        Some(r)
    }

    fn simple(&mut self, pl: usize) -> Option<Element> {
        let start = self.start();
        let (mut words, mut assignments, mut redirects) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            match self.peek() {
                Some(Tok::Word(w)) => {
                    let w = w.clone();
                    self.bump();
                    let raw = slice(self.src.as_bytes(), w.span.clone());
                    let eq = raw
                        .iter()
                        .position(|&c| c == b'=' || c == b'[')
                        .unwrap_or(0);
                    let name = slice(raw, 0..eq);
                    let assign = words.is_empty()
                        && is_name(name.strip_suffix(b"+").unwrap_or(name))
                        && (raw.get(eq) == Some(&b'=') || raw.windows(2).any(|p| p == b"]="));
                    if assign { &mut assignments } else { &mut words }.push(w);
                }
                Some(Tok::Redir(_)) => redirects.extend(self.redirect()),
                _ => break,
            }
        }
        if words.is_empty() && assignments.is_empty() && redirects.is_empty() {
            return None;
        }
        self.out.commands.push(Command {
            words,
            assignments,
            redirects,
            span: start..self.last_end.max(start),
            line: self.nl.partition_point(|&p| p < start),
            pipeline: pl,
            negated: false,
            background: false,
            after: Connector::End,
            depth: self.ctx.len(),
            context: self.ctx.clone(),
        });
        Some(Element::Command(self.out.commands.len() - 1))
    }

    fn begin(&mut self, kind: CompoundKind, pl: usize) -> usize {
        let start = self.start();
        self.out.compounds.push(Compound {
            kind,
            span: start..start,
            words: Vec::new(),
            redirects: Vec::new(),
            pipeline: pl,
            negated: false,
            background: false,
            after: Connector::End,
            context: self.ctx.clone(),
            terminated: false,
        });
        self.out.compounds.len() - 1
    }

    /// Trailing redirections, span and termination of compound `ci`.
    fn finish(&mut self, ci: usize, terminated: bool) -> Element {
        while let Some(r) = self.redirect() {
            self.out.compounds[ci].redirects.push(r);
        }
        let c = &mut self.out.compounds[ci];
        c.span.end = self.last_end.max(c.span.start);
        c.terminated = terminated;
        Element::Compound(ci)
    }

    fn if_(&mut self, pl: usize) -> Element {
        let (i, start) = (self.out.ifs.len(), self.start());
        let ci = self.begin(CompoundKind::If(i), pl);
        self.bump();
        self.out.ifs.push(IfBlock {
            span: start..start,
            compound: ci,
            ..IfBlock::default()
        });
        self.out.ifs[i].cond = self.list_in(ci, Part::IfCond(i), &["then"]);
        let mut terminated = false;
        if self.eat_kw("then") {
            self.out.ifs[i].then_ = self.list_in(ci, Part::Then(i), &["elif", "else", "fi"]);
            while self.eat_kw("elif") {
                let k = self.out.ifs[i].elifs.len();
                let cond = self.list_in(ci, Part::ElifCond(i, k), &["then"]);
                self.out.ifs[i].elifs.push(Elif {
                    cond,
                    then_: Vec::new(),
                });
                if !self.eat_kw("then") {
                    break;
                }
                let then_ = self.list_in(ci, Part::ElifThen(i, k), &["elif", "else", "fi"]);
                self.out.ifs[i].elifs[k].then_ = then_;
            }
            if self.eat_kw("else") {
                self.out.ifs[i].else_ = self.list_in(ci, Part::Else(i), &["fi"]);
            }
            terminated = self.eat_kw("fi");
        }
        (self.out.ifs[i].terminated, self.out.ifs[i].span.end) = (terminated, self.last_end);
        self.finish(ci, terminated)
    }

    fn case_(&mut self, pl: usize) -> Element {
        let ci = self.begin(CompoundKind::Case, pl);
        self.bump();
        self.header_word(ci);
        self.skip_seps(false);
        self.eat_kw("in");
        let terminated = loop {
            self.skip_seps(true);
            let before = self.pos;
            if self.peek().is_none() || self.eat_kw("esac") {
                break self.pos != before;
            }
            // the pattern: `[(] a | b )`
            self.bump_if(self.peek_op(Op::LParen));
            while let Some(Tok::Word(_) | Tok::Op(Op::Pipe | Op::RParen, _)) = self.peek() {
                let close = self.peek_op(Op::RParen);
                self.bump();
                if close {
                    break;
                }
            }
            self.list_in(ci, Part::Body, &["esac", ";;"]);
            self.bump_if(self.peek_op(Op::DSemi));
            if self.pos == before {
                self.bump();
            }
        };
        self.finish(ci, terminated)
    }

    /// `name() body` or `function name [()] body`.
    fn function(&mut self, pl: usize, keyword: bool) -> Element {
        let at = self.pos + usize::from(keyword);
        let name = match self.toks.get(at) {
            Some(Tok::Word(w)) => w.text.clone(),
            _ => String::new(),
        };
        let ci = self.begin(CompoundKind::Function(name), pl);
        while self.pos <= at && self.pos < self.toks.len() {
            self.bump();
        }
        if self.peek_op(Op::LParen)
            && matches!(self.toks.get(self.pos + 1), Some(Tok::Op(Op::RParen, _)))
        {
            self.bump();
            self.bump();
        }
        self.skip_seps(false);
        self.ctx.push(Ctx {
            compound: ci,
            part: Part::Body,
        });
        let body = self.pipeline();
        self.ctx.pop();
        self.finish(ci, body.is_some())
    }

    /// Fill in the heredocs' commands, programs and targets, and the `set` options.
    fn link(&mut self) {
        for ci in 0..self.out.commands.len() {
            let cmd = &self.out.commands[ci];
            let p = program_index(&cmd.words).and_then(|p| cmd.words.get(p));
            let program = p.map(|w| w.text.clone()).unwrap_or_default();
            let stdin = cmd.redirects.iter().filter(|r| r.fd.unwrap_or(0) == 0);
            let last_stdin = stdin.filter_map(|r| r.heredoc).next_back();
            let target = last_stdin.and_then(|_| self.write_target(ci));
            let span = cmd.span.clone();
            for h in cmd
                .redirects
                .iter()
                .filter_map(|r| r.heredoc)
                .collect::<Vec<_>>()
            {
                if let Some(hd) = self.out.heredocs.get_mut(h) {
                    let t = if Some(h) == last_stdin {
                        target.clone()
                    } else {
                        None
                    };
                    (hd.command, hd.program, hd.target) = (span.clone(), program.clone(), t);
                }
            }
            if let Some(opts) = set_flags(&self.out.commands[ci].words) {
                self.out.set_options.push((opts, ci));
            }
        }
        for k in &self.out.compounds {
            let text = self.src.get(k.span.clone()).unwrap_or("");
            let kw = text
                .split([' ', '\t', '\n', '\r', ';'])
                .next()
                .unwrap_or("");
            for h in k.redirects.iter().filter_map(|r| r.heredoc) {
                if let Some(hd) = self.out.heredocs.get_mut(h) {
                    (hd.command, hd.program) = (k.span.clone(), kw.to_string());
                }
            }
        }
    }

    /// The file a heredoc read by command `ci` is written to (`cat > F`, `tee F`,
    /// `cat | tee F`).
    fn write_target(&self, ci: usize) -> Option<(String, Range<usize>)> {
        let cmd = self.out.commands.get(ci)?;
        let p = program_index(&cmd.words)?;
        match basename(&cmd.words.get(p)?.text) {
            "tee" => return tee_target(cmd.words.get(p + 1..)?),
            "cat" => {}
            _ => return None,
        }
        use RedirOp::*;
        let stdout = |r: &&Redirect| {
            r.fd.unwrap_or(1) == 1 && matches!(r.op, Out | Append | Clobber | OutErr | AppendOutErr)
        };
        if let Some(r) = cmd.redirects.iter().rev().find(stdout) {
            let t = r.target.as_ref()?;
            return Some((t.text.clone(), t.span.clone()));
        }
        let els = &self.out.pipelines.get(cmd.pipeline)?.elements;
        let at = els.iter().position(|e| *e == Element::Command(ci))?;
        let Some(Element::Command(next)) = els.get(at + 1) else {
            return None;
        };
        let next = self.out.commands.get(*next)?;
        let q = program_index(&next.words)?;
        if basename(&next.words.get(q)?.text) != "tee" {
            return None;
        }
        tee_target(next.words.get(q + 1..)?)
    }
}

/// The first file argument of `tee`.
fn tee_target(args: &[Word]) -> Option<(String, Range<usize>)> {
    let mut opts = true;
    for w in args {
        if opts && w.text == "--" {
            opts = false;
        } else if !(opts && w.text.len() > 1 && w.text.starts_with('-')) {
            return Some((w.text.clone(), w.span.clone()));
        }
    }
    None
}

/// The option words of a `set` command, joined with a space.
fn set_flags(words: &[Word]) -> Option<String> {
    let first = words.first()?;
    if first.quoted || first.text != "set" {
        return None;
    }
    let (mut parts, mut k) = (Vec::new(), 1);
    while let Some(t) = words.get(k).map(|w| w.text.as_str()) {
        if t == "--" || t.len() < 2 || !t.starts_with(['-', '+']) {
            break;
        }
        parts.push(t);
        k += 1;
        if let Some(v) = words
            .get(k)
            .filter(|v| t.ends_with('o') && !v.text.starts_with(['-', '+']))
        {
            parts.push(&v.text);
            k += 1;
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExpansionKind::*;

    const ALERTS: &str = "# Create alert testing script
cat > test-alerts.sh << 'EOF'
#!/bin/bash

echo \"🧪 Testing alert configuration...\"

# Test AlertManager configuration syntax
echo \"Validating AlertManager configuration...\"
if command -v amtool >/dev/null 2>&1; then
  amtool config check alertmanager-config.yml
else
  echo \"amtool not available, skipping syntax check\"
fi
EOF

chmod +x test-alerts.sh
./test-alerts.sh
";

    const METRICS: &str = "# Test metrics endpoint
echo \"Testing metrics endpoint...\"
curl -s http://localhost:$METRICS_PORT/metrics | head -20
curl -s http://localhost:$METRICS_PORT/health | jq '.'
curl -s http://localhost:$METRICS_PORT/metrics | grep \"^# HELP\" | head -10
";

    const PERF: &str = "echo start
cat > performance-analysis.json << EOF
{
  \"metrics_endpoint\": \"$METRICS_ENDPOINT\",
  \"thresholds\": {
    \"response_time_p95\": \"${RESPONSE_TIME_P95_THRESHOLD}ms\"
  },
  \"generated\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
  \"cost\": \"\\$5 \\\\ \\` ok\",
  \"joined\": \"a\\
b\"
}
EOF
echo done
";

    /// Every run maps byte for byte and runs are sorted; `covering`: without gaps.
    fn check_runs(script: &str, text: &str, runs: &[Run], covering: bool) {
        let mut next = 0;
        for &(i, o, l) in runs {
            assert_eq!(
                script.get(o..o + l),
                text.get(i..i + l),
                "run {:?}",
                (i, o, l)
            );
            assert!(i >= next && (!covering || i == next), "runs {runs:?}");
            next = i + l;
        }
        assert!(!covering || next == text.len());
    }

    fn words(c: &Command) -> Vec<&str> {
        c.words.iter().map(|w| w.text.as_str()).collect()
    }

    /// Program names (or the first word) of all commands.
    fn progs(s: &Script) -> Vec<&str> {
        let name = |c| program_name(c).or(words(c).first().copied()).unwrap_or("");
        s.commands.iter().map(name).collect()
    }

    fn text<'a>(s: &'a str, r: &Range<usize>) -> &'a str {
        &s[r.clone()]
    }

    fn hd(src: &str) -> Heredoc {
        let h = heredocs(src).remove(0);
        check_runs(src, &h.body, &h.segments, true);
        h
    }

    fn target(h: &Heredoc) -> Option<&str> {
        h.target.as_ref().map(|t| t.0.as_str())
    }

    fn s(t: &str) -> String {
        t.to_string()
    }

    fn opts(pipefail: bool) -> ShellOptions {
        ShellOptions {
            errexit: true,
            pipefail,
            ..Default::default()
        }
    }

    #[test]
    fn alert_script_heredoc() {
        let sc = parse(ALERTS);
        assert_eq!(sc.heredocs.len(), 1);
        let h = &sc.heredocs[0];
        assert_eq!(text(ALERTS, &h.command), "cat > test-alerts.sh << 'EOF'");
        assert_eq!(
            (h.program.as_str(), target(h)),
            ("cat", Some("test-alerts.sh"))
        );
        assert_eq!(
            text(ALERTS, &h.target.as_ref().unwrap().1),
            "test-alerts.sh"
        );
        let flags = (h.delimiter.as_str(), h.quoted, h.strip_tabs, h.terminated);
        assert_eq!(flags, ("EOF", true, false, true));
        assert_eq!(text(ALERTS, &h.delimiter_span), "'EOF'");
        assert!(h.body.starts_with("#!/bin/bash\n\necho \"🧪"));
        assert!(h
            .body
            .ends_with("  echo \"amtool not available, skipping syntax check\"\nfi\n"));
        assert_eq!(text(ALERTS, &h.span), h.body);
        check_runs(ALERTS, &h.body, &h.segments, true);
        assert_eq!(h.segments.len(), 1);
        // the body is data: the commands are cat, chmod and the script
        assert_eq!(progs(&sc), ["cat", "chmod", "test-alerts.sh"]);
        let r = &sc.commands[0].redirects[1];
        assert_eq!((r.op, r.heredoc), (RedirOp::Heredoc, Some(0)));
        assert_eq!((sc.commands[1].line, sc.commands[2].line), (15, 16));
        assert!(sc.ifs.is_empty());
        // the heredoc's own script
        let inner = parse(&h.body);
        assert_eq!(inner.ifs.len(), 1);
        let f = &inner.ifs[0];
        assert!(f.terminated && f.elifs.is_empty());
        assert_eq!((f.cond.len(), f.then_.len(), f.else_.len()), (1, 1, 1));
        let cond = &inner.commands[f.cond[0]];
        assert_eq!(words(cond), ["command", "-v", "amtool"]);
        assert_eq!(program_name(cond), Some("command"));
        let r: Vec<_> = cond.redirects.iter().map(|r| (r.fd, r.op)).collect();
        assert_eq!(r, [(None, RedirOp::Out), (Some(2), RedirOp::DupOut)]);
        let t: Vec<_> = cond
            .redirects
            .iter()
            .map(|r| &r.target.as_ref().unwrap().text)
            .collect();
        assert_eq!(t, ["/dev/null", "1"]);
        assert_eq!(
            text(&h.body, &cond.span),
            "command -v amtool >/dev/null 2>&1"
        );
        let ctx = |part| Ctx { compound: 0, part };
        assert_eq!(cond.context, [ctx(Part::IfCond(0))]);
        let then = &inner.commands[f.then_[0]];
        assert_eq!(
            words(then),
            ["amtool", "config", "check", "alertmanager-config.yml"]
        );
        assert_eq!(then.context, [ctx(Part::Then(0))]);
        let els = &inner.commands[f.else_[0]];
        assert_eq!((words(els)[0], els.depth), ("echo", 1));
        assert_eq!(els.context, [ctx(Part::Else(0))]);
        assert_eq!(text(&h.body, &f.span).lines().last(), Some("fi"));
        assert!(inner.failure_ignored(f.cond[0], opts(true)));
        assert!(!inner.failure_ignored(f.then_[0], opts(true)));
        let w = &inner.commands[0].words[1];
        assert_eq!(
            (w.text.as_str(), w.quoted),
            ("🧪 Testing alert configuration...", true)
        );
    }

    #[test]
    fn metrics_pipelines() {
        let sc = parse(METRICS);
        assert!(sc.heredocs.is_empty());
        let want = ["echo", "curl", "head", "curl", "jq", "curl", "grep", "head"];
        assert_eq!(progs(&sc), want);
        let curls: Vec<_> = [1, 3, 5].map(|i| &sc.commands[i]).into();
        let pls: Vec<_> = curls.iter().map(|c| c.pipeline).collect();
        assert!(pls[0] != pls[1] && pls[1] != pls[2]);
        for c in &curls {
            assert_eq!(c.after, Connector::Pipe);
            assert!(has_flag(c, 's', &["silent"]));
            assert!(!has_flag(c, 'f', &["fail", "fail-with-body"]));
            assert_eq!(text(METRICS, &c.words[1].span), "-s");
            assert!(text(METRICS, &c.words[2].span).starts_with("http://localhost:$METRICS_PORT/"));
        }
        assert_eq!(
            curls[1].words[2].text,
            "http://localhost:$METRICS_PORT/health"
        );
        let p = &sc.pipelines[pls[2]];
        let want = "curl -s http://localhost:$METRICS_PORT/metrics | grep \"^# HELP\" | head -10";
        assert_eq!(text(METRICS, &p.span), want);
        assert_eq!(p.elements, [5, 6, 7].map(Element::Command));
        assert_eq!(words(&sc.commands[6]), ["grep", "^# HELP"]);
        assert_eq!(
            (sc.commands[6].pipeline, sc.commands[6].after),
            (pls[2], Connector::Pipe)
        );
        assert_eq!(
            (sc.commands[7].after, sc.commands[7].line),
            (Connector::Seq, 4)
        );
        assert_eq!(sc.pipelines[pls[1]].elements.len(), 2);
        assert_eq!(words(&sc.commands[4]), ["jq", "."]);
        // without pipefail the curl's status is lost
        assert!(sc.failure_ignored(1, opts(false)) && !sc.failure_ignored(1, opts(true)));
        assert!(!sc.failure_ignored(2, opts(false)));
    }

    #[test]
    fn unquoted_heredoc_expansion_and_mapping() {
        let sc = parse(PERF);
        let h = &sc.heredocs[0];
        assert!(!h.quoted && h.terminated);
        assert_eq!(target(h), Some("performance-analysis.json"));
        check_runs(PERF, &h.body, &h.segments, true);
        assert_eq!(words(&sc.commands[2]), ["echo", "done"]);
        let ex = expansions(&h.body);
        let kinds: Vec<_> = ex.iter().map(|e| (e.name.as_str(), e.kind)).collect();
        let want = [
            ("METRICS_ENDPOINT", Simple),
            ("RESPONSE_TIME_P95_THRESHOLD", Simple),
        ];
        assert_eq!(kinds[..2], want);
        let want = [
            ("", Complex),
            ("$", Escaped),
            ("\\", Escaped),
            ("`", Escaped),
            ("\n", Escaped),
        ];
        assert_eq!(kinds[2..], want);
        assert_eq!(text(&h.body, &ex[1].span), "${RESPONSE_TIME_P95_THRESHOLD}");
        let resolve = |n: &str| (n == "RESPONSE_TIME_P95_THRESHOLD").then(|| s("500"));
        let x = h.expanded(&resolve);
        for part in [
            "\"response_time_p95\": \"500ms\"",
            "\"metrics_endpoint\": \"$METRICS_ENDPOINT\",",
            "\"generated\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"",
            "\"cost\": \"$5 \\ ` ok\"",
            "\"joined\": \"ab\"",
        ] {
            assert!(x.text.contains(part), "{part} in {}", x.text);
        }
        check_runs(PERF, &x.text, &x.segments, false);
        let un: Vec<_> = x
            .unresolved
            .iter()
            .map(|e| (&*e.name, text(PERF, &e.span)))
            .collect();
        let date = "$(date -u +%Y-%m-%dT%H:%M:%SZ)";
        assert_eq!(un, [("METRICS_ENDPOINT", "$METRICS_ENDPOINT"), ("", date)]);
        let [(t, sc)] = &x.substituted[..] else {
            panic!()
        };
        assert_eq!(
            (text(&x.text, t), text(PERF, sc)),
            ("500", "${RESPONSE_TIME_P95_THRESHOLD}")
        );
        // every byte is mapped exactly once
        let mut covered = vec![0; x.text.len()];
        let runs = x.segments.iter().map(|&(i, _, l)| i..i + l);
        for r in runs.chain(x.substituted.iter().map(|(t, _)| t.clone())) {
            covered[r].iter_mut().for_each(|c| *c += 1);
        }
        assert!(covered.iter().all(|&c| c == 1));
        let ms = x.text.find("500ms").unwrap();
        assert_eq!(
            (x.map(ms + 1), x.map(ms + 3)),
            (Some(sc.start), Some(sc.end))
        );
        assert_eq!((&PERF[sc.end..][..2], x.map(x.text.len())), ("ms", None));
        // quoted heredocs are taken literally
        let q = hd("cat <<'E'\n$X \\$y\nE\n");
        assert_eq!(q.expanded(&|_| Some(s("v"))).text, "$X \\$y\n");
    }

    #[test]
    fn strip_tabs() {
        let src = "if true; then\n\tcat <<-EOF > f.txt\n\t\tindented\n\t  spaces kept\n\tlast\n\tEOF\n\techo after\nfi\n";
        let sc = parse(src);
        let h = &sc.heredocs[0];
        assert!(h.strip_tabs && h.terminated);
        assert_eq!(
            (h.body.as_str(), target(h)),
            ("indented\n  spaces kept\nlast\n", Some("f.txt"))
        );
        check_runs(src, &h.body, &h.segments, true);
        assert_eq!(h.segments.len(), 3);
        assert_eq!(words(&sc.commands[2]), ["echo", "after"]);
        assert_eq!(sc.ifs[0].then_, [1, 2]);
        // without `-` tabs are kept and a tab-indented delimiter does not close
        let h = hd("cat <<EOF\n\tx\n\tEOF\n");
        assert_eq!((h.body.as_str(), h.terminated), ("\tx\n\tEOF\n", false));
    }

    #[test]
    fn targets() {
        let t = |src: &str| -> Vec<_> { heredocs(src).iter().map(|h| target(h).map(s)).collect() };
        let f = |n: &str| vec![Some(s(n))];
        assert_eq!(t("tee -a out.yml <<EOF\na: 1\nEOF\n"), f("out.yml"));
        assert_eq!(
            t("sudo tee /etc/x.conf >/dev/null <<EOF\nx\nEOF\n"),
            f("/etc/x.conf")
        );
        assert_eq!(t("sudo -u root tee -- -odd <<EOF\nx\nEOF\n"), f("-odd"));
        assert_eq!(t("cat <<EOF > f.yml\nx\nEOF\n"), f("f.yml"));
        assert_eq!(t("cat >f.yml <<EOF\nx\nEOF\n"), f("f.yml"));
        assert_eq!(t("cat >> \"f 2.yml\" <<EOF\nx\nEOF\n"), f("f 2.yml"));
        assert_eq!(
            t("cat <<EOF | sudo tee /etc/y >/dev/null\nx\nEOF\n"),
            f("/etc/y")
        );
        assert_eq!(t("cat <<A <<B >f\na\nA\nb\nB\n"), [None, Some(s("f"))]);
        for src in [
            "cat <<EOF | kubectl apply -f -\nx\nEOF\n",
            "kubectl apply -f - <<'EOF'\nkind: Pod\nEOF\n",
            "python3 - <<EOF\nprint(1)\nEOF\n",
            "cat <<EOF 2>err.log\nx\nEOF\n",
        ] {
            assert_eq!(t(src), [None], "{src}");
        }
        let h = hd("sudo tee F <<EOF\nx\nEOF\n");
        assert_eq!((h.program.as_str(), h.command), ("tee", 0..16));
        let h = hd("kubectl apply -f - <<'EOF'\nkind: Pod\nEOF\n");
        assert_eq!(
            (h.program.as_str(), h.body.as_str()),
            ("kubectl", "kind: Pod\n")
        );
    }

    #[test]
    fn several_heredocs() {
        let src = "cat <<A <<'B' && cat <<-C; echo x\nfirst\nA\nsecond $v\nB\n\tthird\n\tC\necho <<E\nE\ntail\n";
        let sc = parse(src);
        let b: Vec<_> = sc
            .heredocs
            .iter()
            .map(|h| (&*h.delimiter, &*h.body, h.terminated))
            .collect();
        let want = [
            ("A", "first\n", true),
            ("B", "second $v\n", true),
            ("C", "third\n", true),
        ];
        assert_eq!((&b[..3], b[3]), (&want[..], ("E", "", true)));
        for h in &sc.heredocs {
            check_runs(src, &h.body, &h.segments, true);
        }
        assert_eq!(progs(&sc), ["cat", "cat", "echo", "echo", "tail"]);
        assert_eq!(sc.commands[0].after, Connector::And);
        assert_eq!(sc.commands[1].redirects[0].heredoc, Some(2));
        assert_eq!(sc.commands[4].line, 9);
    }

    #[test]
    fn not_heredocs() {
        for src in [
            "grep x <<< \"$y\"\nEOF\n",
            "echo 'cat <<EOF'\nEOF\n",
            "echo \"cat <<EOF\"\n",
            "# cat <<EOF\nEOF\n",
            "echo $((1<<2)) $(( x << y ))\n",
            "echo a\\<<EOF\n",
            "[[ a << b ]]\n",
            "echo ${x:-<<EOF}\n",
        ] {
            assert!(heredocs(src).is_empty(), "{src}");
        }
        let r = &commands("grep x <<< \"$y\"\n")[0].redirects[0];
        assert_eq!(
            (r.op, &*r.target.as_ref().unwrap().text),
            (RedirOp::HereString, "$y")
        );
        // a comment after the operator, and an operator right after a word
        assert_eq!(hd("echo a<<EOF # note\nx\nEOF\n").body, "x\n");
    }

    #[test]
    fn delimiters_and_termination() {
        for src in [
            "cat <<\\EOF\n$x\nEOF\n",
            "cat <<E\"O\"F\n$x\nEOF\n",
            "cat << \"EOF\"\n$x\nEOF\n",
        ] {
            let h = hd(src);
            let got = (
                h.delimiter.as_str(),
                h.quoted,
                h.body.as_str(),
                h.terminated,
            );
            assert_eq!(got, ("EOF", true, "$x\n", true));
        }
        let body = |src: &str| {
            let h = hd(src);
            (h.body, h.terminated)
        };
        // trailing spaces: not the delimiter (as bash)
        assert_eq!(
            body("cat <<EOF\na\nEOF \nb\nEOF\n"),
            (s("a\nEOF \nb\n"), true)
        );
        // unterminated: to the end of input
        assert_eq!(body("cat <<EOF > x\na\nb"), (s("a\nb"), false));
        assert_eq!(body("cat <<EOF"), (s(""), false));
        // delimiter at the end without a line break
        assert_eq!(body("cat <<EOF\na\nEOF"), (s("a\n"), true));
        assert_eq!(commands("cat <<EOF\na\nEOF").len(), 1);
        // unquoted: backslash-newline joins lines before the delimiter test (bash)
        let h = hd("cat <<EOF\nabc\\\nEOF\nEOF\n");
        assert_eq!((h.body.as_str(), h.terminated), ("abc\\\nEOF\n", true));
        assert_eq!(expand(&h.body, &h.segments, &|_| None).text, "abcEOF\n");
        assert_eq!(body("cat <<'EOF'\nabc\\\nEOF\n"), (s("abc\\\n"), true));
        assert_eq!(body("cat <<EOF\nabc\\\\\nEOF\n"), (s("abc\\\\\n"), true));
        // an empty delimiter closes at an empty line
        assert_eq!(body("cat <<''\nx\n\ny\n"), (s("x\n"), true));
    }

    #[test]
    fn continuation_lines() {
        let sc = parse("cat > out.txt \\\n  << 'EOF' && \\\n  echo ok\nbody\nEOF\nnext\n");
        let h = &sc.heredocs[0];
        assert_eq!((h.body.as_str(), target(h)), ("body\n", Some("out.txt")));
        assert_eq!(progs(&sc), ["cat", "echo", "next"]);
        assert_eq!(
            (sc.commands[0].after, sc.commands[1].line),
            (Connector::And, 2)
        );
        assert_eq!(words(&commands("ec\\\nho a\\\nb")[0]), ["echo", "ab"]);
    }

    #[test]
    fn crlf() {
        let src = "cat > a.json <<EOF\r\n{\"a\": \"$X\"}\r\n\tline\r\nEOF\r\necho done\r\n";
        let sc = parse(src);
        let h = &sc.heredocs[0];
        assert_eq!(
            (h.body.as_str(), h.terminated),
            ("{\"a\": \"$X\"}\n\tline\n", true)
        );
        check_runs(src, &h.body, &h.segments, true);
        assert_eq!(words(&sc.commands[1]), ["echo", "done"]);
        assert_eq!(sc.commands[0].after, Connector::Seq);
        let x = expand(&h.body, &h.segments, &|_| Some(s("v")));
        assert_eq!(x.text, "{\"a\": \"v\"}\n\tline\n");
        check_runs(src, &x.text, &x.segments, false);
        assert_eq!(text(src, &x.substituted[0].1), "$X");
        let h = hd("cat <<-EOF\r\n\ta\\\r\n\tb\r\n\tEOF\r\n");
        assert_eq!((h.body.as_str(), h.terminated), ("a\\\n\tb\n", true));
    }

    #[test]
    fn expansion_kinds() {
        let b = "$A ${B} ${C:-x} ${#D} $1 $@ $? `date` $((1+2)) $[3] $ a\\$E \\x \\\\$F ${";
        let got: Vec<_> = expansions(b)
            .into_iter()
            .map(|e| (e.name, &b[e.span], e.kind))
            .collect();
        let got: Vec<_> = got.iter().map(|(n, s, k)| (n.as_str(), *s, *k)).collect();
        let want = [
            ("A", "$A", Simple),
            ("B", "${B}", Simple),
            ("C", "${C:-x}", Complex),
            ("D", "${#D}", Complex),
            ("1", "$1", Complex),
            ("@", "$@", Complex),
            ("?", "$?", Complex),
            ("", "`date`", Complex),
            ("", "$((1+2))", Complex),
            ("", "$[3]", Complex),
            ("$", "\\$", Escaped),
            ("\\", "\\\\", Escaped),
            ("F", "$F", Simple),
            ("", "${", Complex),
        ];
        assert_eq!(got, want);
        let x = expand(b, &[(0, 100, b.len())], &|n| {
            (n != "C").then(|| format!("<{n}>"))
        });
        let want = "<A> <B> ${C:-x} ${#D} $1 $@ $? `date` $((1+2)) $[3] $ a$E \\x \\<F> ${";
        assert_eq!((x.text.as_str(), x.unresolved.len()), (want, 9));
        assert_eq!(x.unresolved[0].span, 108..115);
        let runs = [(0, 10, 2), (2, 20, 0), (5, 30, 1)];
        let mapped = [2, 3, 5, 6].map(|o| map_offset(&runs, o));
        assert_eq!(mapped, [Some(20), None, Some(30), None]);
    }

    const MODEL: &str = "set -eo pipefail
A=1 B+=2 env C=3 /usr/bin/curl -sSf --retry 3 \"$URL\" -o out.json || true
! grep -q x f && echo no &
foo() {
  local x=1
  promtool check rules r.yml
}
while read -r l; do echo \"$l\"; done < list.txt
for f in *.yml; do
  case \"$f\" in
    a*|b*) amtool check-config \"$f\" ;;
    *) yamllint \"$f\";;
  esac
done
( cd sub && make ) | tee log
{ a; b; } 2>/dev/null
if a; then b; elif c; then d; else e; fi
[[ $x < 3 && -n \"$(echo \")\")\" ]] && arr=(1 2 \"3 4\")
((i++))
set +e
";

    #[test]
    fn command_model() {
        let sc = parse(MODEL);
        let find = |p: &str| progs(&sc).iter().position(|n| *n == p).unwrap();
        let cmd = |p: &str| &sc.commands[find(p)];
        let kind = |c: &Command, i: usize| sc.compounds[c.context[i].compound].kind.clone();
        let curl = cmd("curl");
        assert_eq!(words(&sc.commands[0]), ["set", "-eo", "pipefail"]);
        let assigned: Vec<_> = curl.assignments.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(assigned, ["A=1", "B+=2"]);
        assert!(has_flag(curl, 'f', &["fail", "fail-with-body"]) && has_flag(curl, 'S', &[]));
        assert!(!has_flag(curl, 'L', &["location"]) && has_flag(curl, 'x', &["retry"]));
        assert_eq!(curl.after, Connector::Or);
        assert_eq!(
            (curl.words[6].text.as_str(), curl.words[6].quoted),
            ("$URL", true)
        );
        let (grep, echo) = (cmd("grep"), cmd("echo"));
        assert!(grep.negated && grep.background && !echo.negated && echo.background);
        assert_eq!(
            (grep.after, echo.after),
            (Connector::And, Connector::Background)
        );
        let pt = cmd("promtool");
        assert_eq!(pt.depth, 2);
        assert_eq!(kind(pt, 0), CompoundKind::Function(s("foo")));
        assert_eq!(
            (kind(pt, 1), pt.context[1].part),
            (CompoundKind::Brace, Part::Body)
        );
        assert_eq!(cmd("local").assignments.len(), 0);
        let read = cmd("read");
        assert!(read.context[0].is_condition());
        let wl = &sc.compounds[read.context[0].compound];
        assert_eq!(wl.kind, CompoundKind::While);
        assert_eq!(wl.redirects[0].target.as_ref().unwrap().text, "list.txt");
        assert!(text(MODEL, &wl.span).ends_with("done < list.txt"));
        let am = cmd("amtool");
        assert_eq!(
            (kind(am, 0), kind(am, 1)),
            (CompoundKind::For, CompoundKind::Case)
        );
        assert_eq!((am.depth, am.words[2].text.as_str()), (2, "$f"));
        let fc = &sc.compounds[am.context[0].compound];
        let header: Vec<_> = fc.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!((header, fc.terminated), (vec!["f", "*.yml"], true));
        assert_eq!(cmd("yamllint").after, Connector::End);
        let make = cmd("make");
        assert_eq!(kind(make, 0), CompoundKind::Subshell);
        let sub = &sc.compounds[make.context[0].compound];
        assert_eq!(sub.after, Connector::Pipe);
        assert_eq!(sc.pipelines[sub.pipeline].elements.len(), 2);
        let b = cmd("b");
        assert_eq!(kind(b, 0), CompoundKind::Brace);
        assert_eq!(sc.compounds[b.context[0].compound].redirects[0].fd, Some(2));
        let f = &sc.ifs[0];
        assert_eq!(
            (f.cond.len(), f.then_.len(), f.elifs.len(), f.else_.len()),
            (1, 1, 1, 1)
        );
        assert_eq!(words(&sc.commands[f.elifs[0].cond[0]]), ["c"]);
        let d = &sc.commands[f.elifs[0].then_[0]];
        assert_eq!(words(d), ["d"]);
        assert_eq!(
            d.context,
            [Ctx {
                compound: f.compound,
                part: Part::ElifThen(0, 0)
            }]
        );
        let db = cmd("[[");
        let want = ["[[", "$x", "<", "3", "&&", "-n", "$(echo \")\")", "]]"];
        assert_eq!((words(db), db.redirects.len()), (want.to_vec(), 0));
        let n = sc.commands.len();
        assert_eq!(sc.commands[n - 3].assignments[0].text, "arr=(1 2 \"3 4\")");
        assert_eq!(words(&sc.commands[n - 2]), ["((i++))"]);
        let p = parse("((a)x)\n((a) )\n");
        assert_eq!((p.commands.len(), p.compounds.len()), (3, 4));
        assert_eq!(sc.set_options, [(s("-eo pipefail"), 0), (s("+e"), n - 1)]);
        let o = sc.options_at(1, ShellOptions::default());
        assert_eq!(o, opts(true));
        assert!(!sc.options_at(n, o).errexit);
        let ignored = |p: &str, o| sc.failure_ignored(find(p), o);
        assert!(ignored("curl", o) && ignored("grep", o) && !ignored("a", o));
        assert!(sc.failure_ignored(f.cond[0], o) && !sc.failure_ignored(f.else_[0], o));
        assert!(!ignored("promtool", o) && !ignored("amtool", o) && !ignored("yamllint", o));
        assert!(!ignored("make", o) && ignored("make", opts(false)));
        assert!(ignored("yamllint", ShellOptions::default()));
    }

    #[test]
    fn nested_failure_context() {
        let sc = parse(
            "{ validate a; validate b; } || true\nif ! x; then :; fi\nuntil check; do sleep 1; done\nf() { inner; }\nif f; then :; fi\n",
        );
        let ig: Vec<_> = (0..sc.commands.len())
            .map(|i| sc.failure_ignored(i, opts(true)))
            .collect();
        assert_eq!(
            progs(&sc),
            ["validate", "validate", "true", "x", ":", "check", "sleep", "inner", "f", ":"]
        );
        assert_eq!(
            ig,
            [true, true, false, true, false, true, false, false, true, false]
        );
        assert!(sc.commands[3].negated);
    }

    #[test]
    fn words_and_prefixes() {
        let c = &commands("echo 'a b'\"c\\\"d\"\\ e $'x\\ty' ${v:-\"q w\"} `a b` $(a \"b)\" c) <(sort f) \\$HOME x#y # comment\n")[0];
        let want = [
            "echo",
            "a bc\"d e",
            "x\\ty",
            "${v:-\"q w\"}",
            "`a b`",
            "$(a \"b)\" c)",
        ];
        assert_eq!(
            (&words(c)[..6], &words(c)[6..]),
            (&want[..], &["<(sort f)", "$HOME", "x#y"][..])
        );
        assert!(c.words[1].quoted && !c.words[4].quoted);
        let c =
            &commands("time sudo -E nohup exec -a n timeout -s KILL 5 command -p ./bin/run.sh")[0];
        assert_eq!(program_name(c), Some("run.sh"));
        assert_eq!(program_name(&commands("command -V x")[0]), Some("command"));
        let sc = parse("time { make; }\n! time -p if a; then b; fi\ntime c");
        assert_eq!(
            (progs(&sc), sc.compounds.len()),
            (vec!["make", "a", "b", "c"], 2)
        );
        assert!(sc.compounds[1].negated && words(&sc.commands[3])[0] == "time");
        assert_eq!(program_name(&commands("A=1 >f")[0]), None);
        let c = &commands("curl --fail-with-body=x --x -- -f")[0];
        assert!(has_flag(c, 'z', &["fail-with-body"]) && !has_flag(c, 'f', &["fail"]));
        // unterminated constructs and stray keywords do not lose later commands
        let sc = parse("if a; then\n  { b\nfi\ndone\nc )\n");
        assert_eq!(progs(&sc), ["a", "b", "done", "c"]);
        assert!(sc.ifs[0].terminated && !sc.compounds[1].terminated);
    }

    #[test]
    fn compound_heredoc() {
        let src = "while read -r n; do\n  echo \"$n\"\ndone <<EOF\none\nEOF\necho x\n";
        let sc = parse(src);
        let h = &sc.heredocs[0];
        assert_eq!((h.program.as_str(), h.body.as_str()), ("while", "one\n"));
        assert!(text(src, &h.command).ends_with("done <<EOF"));
        assert_eq!(words(sc.commands.last().unwrap()), ["echo", "x"]);
    }

    fn check_script(src: &str) {
        let sc = parse(src);
        let ok = |r: &Range<usize>| r.start <= r.end && src.get(r.clone()).is_some();
        for c in &sc.commands {
            let w = c.words.iter().chain(&c.assignments).map(|w| &w.span);
            assert!(w.chain(c.redirects.iter().map(|r| &r.span)).all(ok) && ok(&c.span));
            let _ = (program_name(c), has_flag(c, 'f', &["fail"]));
        }
        assert!(sc
            .pipelines
            .iter()
            .all(|p| ok(&p.span) && !p.elements.is_empty()));
        assert!(sc.compounds.iter().all(|k| ok(&k.span)));
        for h in &sc.heredocs {
            assert!(ok(&h.command) && ok(&h.span) && ok(&h.delimiter_span));
            check_runs(src, &h.body, &h.segments, true);
            let x = expand(&h.body, &h.segments, &|n| {
                (n.len() % 2 == 0).then(|| s("vé"))
            });
            check_runs(src, &x.text, &x.segments, false);
            assert!(x.unresolved.iter().all(|e| ok(&e.span)));
            let _ = parse(&h.body);
        }
        for i in 0..=sc.commands.len() {
            let _ = sc.failure_ignored(i, sc.options_at(i, opts(false)));
        }
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            ALERTS,
            METRICS,
            PERF,
            MODEL,
            "cat <<A <<'B' && cat <<-C; echo x\nfirst\nA\nsecond $v\nB\n\tthird\n\tC\n",
            "for x in a; do case $x in (a) f() { (( i++ )); };; *) [[ a < b ]];; esac; done <<E\r\nx\\\r\nE\r\n",
            "a=(1 2) $'\\'' \"$(x \"${y:-)}\")\" `z` <(q) 3>&- {fd}>x ;;& |& &>> >| <> $[1] ${",
        ];
        for src in samples {
            for (i, _) in src.char_indices() {
                check_script(&src[..i]);
                check_script(&src[i..]);
            }
        }
        let alphabet: Vec<char> =
            "ab $${}()<>\"'\\\n\r\t|&;#`é-EOF![]=\u{1F9EA}0123ifthenfidonecase"
                .chars()
                .collect();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for n in 0..4000 {
            let mut src = String::from(if n % 3 == 0 { "cat <<EOF\n" } else { "" });
            for _ in 0..(n % 70) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                src.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            check_script(&src);
            let bad = [
                (0, 0, src.len()),
                (1, usize::MAX, 3),
                (usize::MAX, 0, usize::MAX),
            ];
            let _ = expand(&src, &bad, &|_| None);
        }
        let deep = "$(".repeat(5000) + &"if { ( ".repeat(3000) + &"\"`".repeat(1000);
        check_script(&deep);
    }
}
