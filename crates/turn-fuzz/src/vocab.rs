//! The vocabulary the generators and mutators draw from: the prelude that
//! binds every generated name, literals (ordinary and hostile), operators,
//! builtins and std functions with their arities, field names, map keys,
//! types, and the spelling of every token.
//!
//! Keep these in step with the language: a builtin or keyword missing here
//! is one the fuzzer never tries.

/// Binds every name the grammar uses, so that generated programs resolve.
pub const PRELUDE: &str = r#"let a: Any = 1;
let b: Any = "two";
let c: Any = [1, 2, 3];
let d: Any = {"k": 1, "x": [2], "y": "z"};
let f: Any = turn(x) { return x; };
let g: Any = turn(x, y) { return [x, y]; };
struct P { x: Any, y: Any };
impl P { let sum = turn() { return this.x + this.y; }; let me = turn() { return this; }; };
let p: Any = P { x: 1, y: 2 };
let x: Any = 0;
let y: Any = null;
let i: Any = 0;
let e: Any = null;
let s = use "std/str";
let l = use "std/list";
let j = use "std/json";
let mt = use "std/math";
let re = use "std/regex";
let tm = use "std/time";
"#;

/// Names bound to values in the prelude (closure parameters reuse `x`, `y`).
pub const VALUE_NAMES: &[&str] = &["a", "b", "c", "d", "f", "g", "p", "x", "y", "i", "e"];

/// Literal numbers, ordinary and hostile.
pub const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "10",
    "-1",
    "0.5",
    "2.5e-3",
    "1e6",
    "1_000",
    "1e308",
    "1e-308",
    "4294967296",
    "9007199254740993",
    "123456789012345678901234567890",
    "0.1",
    "1.7976931348623157e308",
    "5e-324",
    "65535",
    "65536",
    "255",
    "256",
    "1e15",
    "0.0000001",
];

/// Literal strings: escapes, unicode, JSON, regexes, format patterns.
pub const STRINGS: &[&str] = &[
    r#""""#,
    r#""abc""#,
    r#""k""#,
    r#""x""#,
    r#""a,b,c""#,
    r#""\n\t\r\"\\""#,
    r#""\u{1F600}\u{0}\u{10FFFF}""#,
    r#""héllo wörld ß""#,
    r#""日本語テキスト""#,
    r#""🦀🦀""#,
    r#""[1, {\"a\": [true, null]}, \"s\"]""#,
    r#""{\"k\": 1e400}""#,
    r#""(a|b)*c+""#,
    r#""(?:a{40}){40}""#,
    r#""(x+x+)+y""#,
    r#""(?P<n>\\d+)""#,
    r#""{} and {}""#,
    r#""{0}{1}{9}""#,
    r#""   padded   ""#,
    r#""[[[[[[[[[[""#,
    "\"multi\nline\"",
];

/// Binary operators (both spellings of `and`/`or`).
pub const BINOPS: &[&str] = &[
    "+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "~>", "and", "or", "&&", "||",
];

/// Prefix operators.
pub const UNOPS: &[&str] = &["-", "!", "confidence ", "- -", "!!"];

/// Builtins called as plain functions, with their arity range.
pub const BUILTINS: &[(&str, usize, usize)] = &[
    ("len", 1, 1),
    ("push", 2, 2),
    ("keys", 1, 1),
    ("values", 1, 1),
    ("str", 1, 1),
    ("num", 1, 1),
    ("type_of", 1, 1),
    ("print", 0, 4),
    ("echo", 1, 1),
    ("range", 1, 3),
    ("map", 2, 2),
    ("filter", 2, 2),
    ("list_push", 2, 2),
    ("list_contains", 2, 2),
    ("forget", 1, 1),
];

/// Std module functions through the prelude's module bindings, with their
/// arity range.
pub const MODULE_FNS: &[(&str, usize, usize)] = &[
    ("s.split", 2, 2),
    ("s.join", 2, 2),
    ("s.trim", 1, 1),
    ("s.upper", 1, 1),
    ("s.lower", 1, 1),
    ("s.contains", 2, 2),
    ("s.starts_with", 2, 2),
    ("s.replace", 3, 3),
    ("s.slice", 2, 3),
    ("s.format", 1, 4),
    ("s.chars", 1, 1),
    ("s.index_of", 2, 2),
    ("s.repeat", 2, 2),
    ("s.pad_start", 2, 3),
    ("s.pad_end", 2, 3),
    ("s.len", 1, 1),
    ("l.map", 2, 2),
    ("l.filter", 2, 2),
    ("l.reduce", 3, 3),
    ("l.find", 2, 2),
    ("l.any", 2, 2),
    ("l.all", 2, 2),
    ("l.sort", 1, 2),
    ("l.sort_by", 2, 2),
    ("l.range", 1, 3),
    ("l.zip", 2, 2),
    ("l.contains", 2, 2),
    ("l.slice", 2, 3),
    ("l.reverse", 1, 1),
    ("l.sum", 1, 1),
    ("l.flatten", 1, 1),
    ("l.enumerate", 1, 1),
    ("l.index_of", 2, 2),
    ("l.first", 1, 1),
    ("l.last", 1, 1),
    ("l.unique", 1, 1),
    ("l.concat", 2, 2),
    ("j.parse", 1, 1),
    ("j.stringify", 1, 2),
    ("mt.abs", 1, 1),
    ("mt.min", 1, 4),
    ("mt.max", 1, 4),
    ("mt.floor", 1, 1),
    ("mt.round", 1, 1),
    ("mt.sqrt", 1, 1),
    ("mt.pow", 2, 2),
    ("mt.log", 1, 2),
    ("mt.clamp", 3, 3),
    ("mt.random", 0, 0),
    ("re.matches", 2, 2),
    ("re.find_all", 2, 2),
    ("re.replace", 3, 3),
    ("re.captures", 2, 2),
    ("re.split", 2, 2),
    ("tm.now", 0, 0),
    ("tm.sleep", 1, 1),
];

/// Field names: the struct's, the map's, and ones nothing has.
pub const FIELDS: &[&str] = &["x", "y", "k", "kind", "message", "line", "len", "nope"];

/// Map keys, bare or quoted.
pub const KEYS: &[&str] = &[
    "k", "x", "\"y\"", "\"\"", "\"k\"", "\"a b\"", "\"é\"", "len",
];

/// Type annotations.
pub const TYPES: &[&str] = &[
    "Num",
    "Str",
    "Bool",
    "Any",
    "Void",
    "Vec",
    "Pid",
    "Identity",
    "P",
    "Num?",
    "List<Num>",
    "List<Any>",
    "Map<Str>",
    "List<List<P?>>",
    "Fn(Num) -> Num",
    "Fn() -> Any",
    "Nope",
];

/// Every token kind's spelling plus sample identifiers and literals.
pub const TOKENS: &[&str] = &[
    "let",
    "struct",
    "impl",
    "type",
    "turn",
    "return",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "try",
    "catch",
    "throw",
    "use",
    "grant",
    "identity",
    "infer",
    "confidence",
    "spawn",
    "spawn_link",
    "spawn_each",
    "gather",
    "send",
    "receive",
    "self",
    "this",
    "suspend",
    "context",
    "remember",
    "recall",
    "call",
    "true",
    "false",
    "null",
    "and",
    "or",
    "vec",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    "::",
    ".",
    "..",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "?",
    "->",
    "~>",
    "&&",
    "||",
    "a",
    "b",
    "c",
    "f",
    "p",
    "x",
    "P",
    "Num",
    "Str",
    "Any",
    "List",
    "Map",
    "timeout",
    "schema",
    "openapi",
    "len",
    "range",
    "s",
    "\"std/json\"",
    "\"./lib.tn\"",
    "0",
    "1",
    "1e309",
    "1.2.3",
    "0x10",
    "1_",
    "\"s\"",
    "\"\\q\"",
    "\"\\u{110000}\"",
    "\"unterminated",
    "/*",
    "*/",
    "//",
    "\n",
    "é",
    "\u{0}",
    "\u{FEFF}",
    "#",
    "@",
    "$",
    "&",
    "|",
    "'",
    "`",
    "\\",
];
