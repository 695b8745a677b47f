//! GStreamer's launch-description lexer (`gst/parse/parse.l`) mirrored in Rust: longest
//! match, first rule on ties. The launch guard ([`crate::launch`]) uses it to find name
//! references, and [`crate::description`] to read what a description wrote on each element.
//! `crates/core/tests/guard.rs` compares it token by token with GStreamer's own lexer.

use std::ops::Range;

/// The kinds of token GStreamer's lexer (`parse.l`) returns, in its rule order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `name=value`, `name = "a b"`.
    Assignment,
    /// `@preset=name`.
    Preset,
    /// `.pad` after an element.
    PadRef,
    /// A name reference: `name.` or `name.pad`.
    Ref,
    /// `name.(`, opening a bin of factory `name`.
    BinRef,
    /// An element factory name.
    Identifier,
    /// `!`, `:`, or a link with caps: `! video/x-raw,width=5 !`.
    Link,
    /// `proto://...` or a path.
    Url,
    /// One of `(){}.!:,;=`.
    Operator,
    /// Any other byte (a syntax error for the grammar).
    Other,
}

/// One token: its kind and where it is in the description (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) range: Range<usize>,
}

/// Splits `text` into tokens as GStreamer's lexer does, whitespace left out.
///
/// GStreamer's parser stops at the first byte from 0x80 up outside a token where C's `char`
/// is signed (the lexer returns it as a negative token, which means the end of the input);
/// this goes on to the end, which can only find more references than GStreamer reads.
pub(crate) fn tokens(text: &[u8]) -> Vec<Token> {
    let rules = Rules::new();
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let space = rules.space.longest(text, at);
        if let Some(end) = space {
            at = end;
            continue;
        }
        // Longest match; the earlier rule wins a tie.
        let mut best: Option<(Kind, usize)> = None;
        for (kind, pattern) in &rules.tokens {
            if let Some(end) = pattern.longest(text, at)
                && best.is_none_or(|(_, e)| end > e)
            {
                best = Some((*kind, end));
            }
        }
        let (kind, end) = best.unwrap_or((Kind::Other, at + 1));
        out.push(Token {
            kind,
            range: at..end,
        });
        at = end;
    }
    out
}

/// A regular expression over bytes, matched by the set of positions it can end at.
enum Re {
    Class(fn(u8) -> bool),
    Lit(&'static [u8]),
    Seq(Vec<Re>),
    Alt(Vec<Re>),
    Star(Box<Re>),
    Opt(Box<Re>),
}

impl Re {
    fn class(f: fn(u8) -> bool) -> Re {
        Re::Class(f)
    }
    fn lit(s: &'static str) -> Re {
        Re::Lit(s.as_bytes())
    }
    fn star(self) -> Re {
        Re::Star(Box::new(self))
    }
    fn opt(self) -> Re {
        Re::Opt(Box::new(self))
    }
    /// One or more: `self self*`. Builds the pattern twice (patterns are cheap).
    fn plus(make: impl Fn() -> Re) -> Re {
        Re::Seq(vec![make(), make().star()])
    }

    /// Every position a match starting at one of `starts` can end at (sorted, unique).
    fn ends(&self, text: &[u8], starts: &[usize]) -> Vec<usize> {
        let mut out = match self {
            Re::Class(f) => starts
                .iter()
                .filter(|&&s| text.get(s).copied().is_some_and(f))
                .map(|s| s + 1)
                .collect(),
            Re::Lit(lit) => starts
                .iter()
                .filter(|&&s| text[s..].starts_with(lit))
                .map(|s| s + lit.len())
                .collect(),
            Re::Seq(parts) => {
                let mut now = starts.to_vec();
                for part in parts {
                    if now.is_empty() {
                        break;
                    }
                    now = part.ends(text, &now);
                }
                now
            }
            Re::Alt(options) => options.iter().flat_map(|o| o.ends(text, starts)).collect(),
            Re::Star(inner) => {
                let mut seen = vec![false; text.len() + 1];
                for &s in starts {
                    seen[s] = true;
                }
                let mut all = starts.to_vec();
                let mut frontier = starts.to_vec();
                while !frontier.is_empty() {
                    let mut next = inner.ends(text, &frontier);
                    next.retain(|&e| !std::mem::replace(&mut seen[e], true));
                    all.extend_from_slice(&next);
                    frontier = next;
                }
                all
            }
            Re::Opt(inner) => {
                let mut all = starts.to_vec();
                all.extend(inner.ends(text, starts));
                all
            }
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The end of the longest non-empty match at `at`.
    fn longest(&self, text: &[u8], at: usize) -> Option<usize> {
        self.ends(text, &[at]).into_iter().filter(|&e| e > at).max()
    }
}

/// `[[:space:]]` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The lexer's rules (`parse.l`), as patterns.
struct Rules {
    space: Re,
    tokens: Vec<(Kind, Re)>,
}

impl Rules {
    fn new() -> Rules {
        // _identifier [[:alnum:]_][[:alnum:]\-_%:]*
        let identifier = || {
            Re::Seq(vec![
                Re::class(|b| b.is_ascii_alphanumeric() || b == b'_'),
                Re::class(|b| b.is_ascii_alphanumeric() || b"-_%:".contains(&b)).star(),
            ])
        };
        // _char ("\\".)|([^[:space:]])   (`.` is any byte but a newline)
        let char_ = || {
            Re::Alt(vec![
                Re::Seq(vec![Re::lit("\\"), Re::class(|b| b != b'\n')]),
                Re::class(|b| !is_space(b)),
            ])
        };
        // _string {_char}+|("\""([^\"]|"\\\"")*"\"")|("'"([^']|"\\\'")*"'")
        let string = || {
            let quoted = |q: &'static str, not: fn(u8) -> bool, escaped: &'static str| {
                Re::Seq(vec![
                    Re::lit(q),
                    Re::Alt(vec![Re::class(not), Re::lit(escaped)]).star(),
                    Re::lit(q),
                ])
            };
            Re::Alt(vec![
                Re::plus(char_),
                quoted("\"", |b| b != b'"', "\\\""),
                quoted("'", |b| b != b'\'', "\\'"),
            ])
        };
        let spaces = || Re::class(is_space).star();
        // _assign [[:space:]]*"="[[:space:]]*
        let assign = || Re::Seq(vec![spaces(), Re::lit("="), spaces()]);
        // _protocol [[:alpha:]][[:alnum:]+-\.]*   (`+-\.` is the range `+` to `.`)
        let protocol = || {
            Re::Seq(vec![
                Re::class(|b| b.is_ascii_alphabetic()),
                Re::class(|b| b.is_ascii_alphanumeric() || (b'+'..=b'.').contains(&b)).star(),
            ])
        };
        // _url ({_protocol}"://"{_string}|["."{_identifier}]?"/"{_string})|({_protocol}"://")
        // (inside brackets `"."{_identifier}` is a set of single characters)
        let url = Re::Alt(vec![
            Re::Seq(vec![protocol(), Re::lit("://"), string()]),
            Re::Seq(vec![
                Re::class(|b| b"\".{_identifier}".contains(&b)).opt(),
                Re::lit("/"),
                string(),
            ]),
            Re::Seq(vec![protocol(), Re::lit("://")]),
        ]);
        // _assignment {_identifier}{_assign}{_string}
        let assignment = Re::Seq(vec![identifier(), assign(), string()]);
        // _preset @preset{_assign}{_string}
        let preset = Re::Seq(vec![Re::lit("@preset"), assign(), string()]);
        // _padref "."{_identifier}
        let padref = Re::Seq(vec![Re::lit("."), identifier()]);
        // _ref {_identifier}"."{_identifier}?
        let reference = Re::Seq(vec![identifier(), Re::lit("."), identifier().opt()]);
        // _binref {_identifier}[[:space:]]*"."[[:space:]]*"("
        let binref = Re::Seq(vec![
            identifier(),
            spaces(),
            Re::lit("."),
            spaces(),
            Re::lit("("),
        ]);
        // _mimetype {_mimechar}+"/"{_mimechar}+ with _mimechar [[:alnum:]-]
        let mimechar = || Re::class(|b| b.is_ascii_alphanumeric() || b == b'-');
        let mimetype = || Re::Seq(vec![Re::plus(mimechar), Re::lit("/"), Re::plus(mimechar)]);
        // _capschar ("\\".)|([^\;!]); _capsstring {_capschar}+
        let capschar = || {
            Re::Alt(vec![
                Re::Seq(vec![Re::lit("\\"), Re::class(|b| b != b'\n')]),
                Re::class(|b| b != b';' && b != b'!'),
            ])
        };
        // _caps {_mimetype}(","[^!]|{_capsstring})*
        let caps = || {
            Re::Seq(vec![
                mimetype(),
                Re::Alt(vec![
                    Re::Seq(vec![Re::lit(","), Re::class(|b| b != b'!')]),
                    Re::plus(capschar),
                ])
                .star(),
            ])
        };
        // _link ([!:][[:space:]]*{_caps}([[:space:]]*(";"[[:space:]]*{_caps})*[[:space:]]*)*[!:])|([!:])
        let link_op = || Re::class(|b| b == b'!' || b == b':');
        let link = Re::Alt(vec![
            Re::Seq(vec![
                link_op(),
                spaces(),
                caps(),
                Re::Seq(vec![
                    spaces(),
                    Re::Seq(vec![Re::lit(";"), spaces(), caps()]).star(),
                    spaces(),
                ])
                .star(),
                link_op(),
            ]),
            link_op(),
        ]);
        let operator = Re::class(|b| b"(){}.!:,;=".contains(&b));
        Rules {
            space: Re::Seq(vec![Re::class(is_space), Re::class(is_space).star()]),
            tokens: vec![
                (Kind::Assignment, assignment),
                (Kind::Preset, preset),
                (Kind::PadRef, padref),
                (Kind::Ref, reference),
                (Kind::BinRef, binref),
                (Kind::Identifier, identifier()),
                (Kind::Link, link),
                (Kind::Url, url),
                (Kind::Operator, operator),
                // `.`: any other byte but a newline (a newline is space).
                (Kind::Other, Re::class(|_| true)),
            ],
        }
    }
}
