//! The table of builtin functions, one [`NativeDef`] per global name.
//!
//! Friendly builtins (`len`, `push`, …) are used directly by programs;
//! `__sys_<module>_<fn>` natives back the std modules, whose Turn source
//! (in `std/*.tn`) gathers them into the module's export map.

mod core;
mod io;
mod json;
mod list;
mod math;
mod memory;
mod process;
mod regex;
mod str;
mod time;

pub use self::core::parse_number;

use turn_vm::{Arity, NativeDef, NativeFn};

const fn def(name: &'static str, arity: Arity, func: NativeFn) -> NativeDef {
    NativeDef { name, arity, func }
}

const ONE: Arity = Arity::exact(1);
const TWO: Arity = Arity::exact(2);
const THREE: Arity = Arity::exact(3);
const NONE: Arity = Arity::exact(0);
/// As many arguments as a call can carry.
const ANY: Arity = Arity::range(0, u8::MAX);

pub(crate) static NATIVES: &[NativeDef] = &[
    // Friendly builtins.
    def("len", ONE, core::len),
    def("push", TWO, core::push),
    def("keys", ONE, core::keys),
    def("values", ONE, core::values),
    def("str", ONE, core::str),
    def("num", ONE, core::num),
    def("type_of", ONE, core::type_of),
    def("print", ANY, core::print),
    def("echo", ONE, core::echo),
    def("range", Arity::range(1, 3), core::range),
    def("list_push", TWO, core::list_push),
    def("list_contains", TWO, list::list_contains),
    def("__sys_check", Arity::exact(4), core::check),
    // std/json
    def("__sys_json_parse", ONE, json::parse),
    def("__sys_json_stringify", Arity::range(1, 2), json::stringify),
    // std/math
    def("__sys_math_abs", ONE, math::abs),
    def("__sys_math_min", Arity::range(1, u8::MAX), math::min),
    def("__sys_math_max", Arity::range(1, u8::MAX), math::max),
    def("__sys_math_floor", ONE, math::floor),
    def("__sys_math_ceil", ONE, math::ceil),
    def("__sys_math_round", ONE, math::round),
    def("__sys_math_trunc", ONE, math::trunc),
    def("__sys_math_sign", ONE, math::sign),
    def("__sys_math_sqrt", ONE, math::sqrt),
    def("__sys_math_pow", TWO, math::pow),
    def("__sys_math_log", Arity::range(1, 2), math::log),
    def("__sys_math_exp", ONE, math::exp),
    def("__sys_math_sin", ONE, math::sin),
    def("__sys_math_cos", ONE, math::cos),
    def("__sys_math_tan", ONE, math::tan),
    def("__sys_math_clamp", THREE, math::clamp),
    def("__sys_math_random", NONE, math::random),
    // std/str
    def("__sys_str_split", TWO, str::split),
    def("__sys_str_join", TWO, str::join),
    def("__sys_str_trim", ONE, str::trim),
    def("__sys_str_trim_start", ONE, str::trim_start),
    def("__sys_str_trim_end", ONE, str::trim_end),
    def("__sys_str_upper", ONE, str::upper),
    def("__sys_str_lower", ONE, str::lower),
    def("__sys_str_contains", TWO, str::contains),
    def("__sys_str_starts_with", TWO, str::starts_with),
    def("__sys_str_ends_with", TWO, str::ends_with),
    def("__sys_str_replace", THREE, str::replace),
    def("__sys_str_slice", Arity::range(2, 3), str::slice),
    def("__sys_str_format", Arity::range(1, u8::MAX), str::format),
    def("__sys_str_chars", ONE, str::chars),
    def("__sys_str_index_of", TWO, str::index_of),
    def("__sys_str_repeat", TWO, str::repeat),
    def("__sys_str_pad_start", Arity::range(2, 3), str::pad_start),
    def("__sys_str_pad_end", Arity::range(2, 3), str::pad_end),
    def("__sys_str_len", ONE, str::len),
    // std/list (the higher-order functions are Turn code in std/list.tn)
    def("__sys_list_sort", ONE, list::sort),
    def("__sys_list_sort_by_keys", TWO, list::sort_by_keys),
    def("__sys_list_range", Arity::range(1, 3), list::range),
    def("__sys_list_zip", TWO, list::zip),
    def("__sys_list_contains", TWO, list::contains),
    def("__sys_list_slice", Arity::range(2, 3), list::slice),
    def("__sys_list_reverse", ONE, list::reverse),
    def("__sys_list_sum", ONE, list::sum),
    def("__sys_list_flatten", ONE, list::flatten),
    def("__sys_list_enumerate", ONE, list::enumerate),
    def("__sys_list_index_of", TWO, list::index_of),
    def("__sys_list_first", ONE, list::first),
    def("__sys_list_last", ONE, list::last),
    def("__sys_list_unique", ONE, list::unique),
    def("__sys_list_concat", TWO, list::concat),
    def("__sys_list_len", ONE, list::len),
    // std/regex
    def("__sys_regex_matches", TWO, regex::matches),
    def("__sys_regex_find_all", TWO, regex::find_all),
    def("__sys_regex_replace", THREE, regex::replace),
    def("__sys_regex_captures", TWO, regex::captures),
    def("__sys_regex_split", TWO, regex::split),
    // std/time
    def("__sys_time_now", NONE, time::now),
    def("__sys_time_sleep", ONE, time::sleep),
    // std/supervisor (the supervisor itself is Turn code in std/supervisor.tn)
    def("__sys_stop", ONE, process::stop),
    // embeddings (`memory.search` is VM-owned: turn_vm::VM_NATIVES)
    def("embed", ONE, memory::embed),
    // std/env and std/fs (capabilities: the host checks the identity)
    def("__sys_env_get", TWO, io::env_get),
    def("__sys_env_set", THREE, io::env_set),
    def("__sys_fs_read", TWO, io::fs_read),
    def("__sys_fs_write", THREE, io::fs_write),
    def("__sys_fs_list", TWO, io::fs_list),
    def("__sys_fs_exists", TWO, io::fs_exists),
    // std/net
    def("__sys_net_request", TWO, io::net_request),
];
