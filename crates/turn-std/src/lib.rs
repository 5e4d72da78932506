//! Turn's standard library: the builtin functions written in Rust (natives)
//! and the std modules written in Turn.
//!
//! - [`natives`] is the table of builtins; the VM exposes each entry as a
//!   global of that name. Friendly builtins (`len`, `push`, `str`, `print`, …)
//!   are called by programs directly; `__sys_<module>_<fn>` natives back the
//!   std modules.
//! - [`std_module`] returns the Turn source of `std/json`, `std/math`,
//!   `std/str`, `std/list`, `std/regex`, `std/time`, `std/supervisor` and
//!   `std/memory`.
//!   A module's `return` value (a map of functions) is its export. Functions
//!   that call user closures (`map`, `filter`, `reduce`, …, the supervisor)
//!   are written in Turn there, because a native cannot call back into Turn
//!   code.
//! - [`to_json`]/[`from_json`] convert between Turn values and JSON for
//!   std/json and for the runtime.
//!
//! This crate never performs I/O and never reads the clock or a random
//! source: natives are pure functions of their arguments, and the effectful
//! ones (`print`, `echo`, `time.now`, `time.sleep`, `math.random`,
//! `supervisor.stop`, `embed`) return `Flow::Effect` for the runtime to answer. Every
//! string or list a native builds is checked against
//! `NativeCx::max_value_size` before it is built, and no argument can make a
//! native panic.

#![forbid(unsafe_code)]

mod args;
pub mod json;
mod natives;
mod text;

pub use json::{from_json, to_json};
pub use natives::parse_number;

use turn_vm::NativeDef;

/// Every builtin function. Compiled programs record the global table in
/// `Program::globals`, so new entries go at the end of their group and a
/// reordering only invalidates bytecode compiled against the old table.
pub fn natives() -> &'static [NativeDef] {
    natives::NATIVES
}

/// The Turn source of a std module, by the path given to `use`.
pub fn std_module(path: &str) -> Option<&'static str> {
    STD_MODULES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, src)| *src)
}

/// Every std module: its `use` path and its Turn source.
pub const STD_MODULES: &[(&str, &str)] = &[
    ("std/json", include_str!("../std/json.tn")),
    ("std/math", include_str!("../std/math.tn")),
    ("std/str", include_str!("../std/str.tn")),
    ("std/list", include_str!("../std/list.tn")),
    ("std/regex", include_str!("../std/regex.tn")),
    ("std/time", include_str!("../std/time.tn")),
    ("std/supervisor", include_str!("../std/supervisor.tn")),
    ("std/memory", include_str!("../std/memory.tn")),
    ("std/env", include_str!("../std/env.tn")),
    ("std/fs", include_str!("../std/fs.tn")),
    ("std/net", include_str!("../std/net.tn")),
];

/// Builtin names that resolve to a std module export:
/// `(builtin name, module path, export name)`, loaded on first use.
/// `map(xs, f)` is std/list's `map`; an empty export names the whole
/// module (`memory.search(q, k)` is std/memory's `search`).
pub const STD_ALIASES: &[(&str, &str, &str)] = &[
    ("map", "std/list", "map"),
    ("filter", "std/list", "filter"),
    ("memory", "std/memory", ""),
];
