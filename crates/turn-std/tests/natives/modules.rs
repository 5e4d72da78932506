//! The std modules' Turn source, checked against the native table without a
//! compiler: every `__sys_*` name they use exists, each exports what the
//! language reference promises, and brackets balance.

use turn_std::{natives, std_module, STD_ALIASES, STD_MODULES};

/// The keys of the map in the module's final `return { … };`.
fn exports(src: &str) -> Vec<String> {
    let start = src
        .rfind("return {")
        .expect("a module ends with `return { … };`");
    let body = &src[start..];
    let mut out = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix('"') {
            if let Some(end) = rest.find("\":") {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// Source without `//` comments.
fn code(src: &str) -> String {
    src.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifiers(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    for c in code(src).chars() {
        if c == '"' {
            in_str = !in_str;
        }
        if !in_str && (c.is_alphanumeric() || c == '_') {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}

#[test]
fn every_module_is_listed() {
    for path in [
        "std/json",
        "std/math",
        "std/str",
        "std/list",
        "std/regex",
        "std/time",
        "std/supervisor",
        "std/memory",
        "std/env",
        "std/fs",
        "std/net",
    ] {
        assert!(std_module(path).is_some(), "{path} is missing");
    }
    assert_eq!(STD_MODULES.len(), 11);
    assert!(std_module("std/nope").is_none());
    assert!(std_module("json").is_none());
}

#[test]
fn sys_names_exist_as_natives() {
    for (path, src) in STD_MODULES {
        for id in identifiers(src) {
            if id.starts_with("__sys_") {
                assert!(
                    natives()
                        .iter()
                        .chain(turn_vm::VM_NATIVES)
                        .any(|d| d.name == id),
                    "{path} uses unknown native {id}"
                );
            }
        }
    }
}

#[test]
fn brackets_balance() {
    for (path, src) in STD_MODULES {
        let mut stack = Vec::new();
        let mut in_str = false;
        for c in code(src).chars() {
            match c {
                '"' => in_str = !in_str,
                '(' | '[' | '{' if !in_str => stack.push(c),
                ')' | ']' | '}' if !in_str => {
                    let open = stack.pop().unwrap_or_else(|| panic!("{path}: stray {c}"));
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    assert_eq!(open, want, "{path}: {open} closed by {c}");
                }
                _ => {}
            }
        }
        assert!(stack.is_empty(), "{path}: unclosed {stack:?}");
        assert!(!in_str, "{path}: unclosed string");
        assert!(
            code(src).trim_end().ends_with("};"),
            "{path} must end with `return {{ … }};`"
        );
    }
}

fn assert_exports(path: &str, expected: &[&str]) {
    let got = exports(std_module(path).unwrap_or_default());
    for name in expected {
        assert!(
            got.iter().any(|g| g == name),
            "{path} does not export {name}"
        );
    }
}

#[test]
fn modules_export_the_documented_functions() {
    assert_exports("std/json", &["parse", "stringify"]);
    assert_exports(
        "std/math",
        &[
            "abs", "min", "max", "floor", "ceil", "round", "sqrt", "pow", "log", "exp", "sin",
            "cos", "tan", "trunc", "sign", "clamp", "pi", "e", "random",
        ],
    );
    assert_exports(
        "std/str",
        &[
            "split",
            "join",
            "trim",
            "trim_start",
            "trim_end",
            "upper",
            "lower",
            "contains",
            "starts_with",
            "ends_with",
            "replace",
            "slice",
            "format",
            "chars",
            "index_of",
            "repeat",
            "pad_start",
            "pad_end",
            "len",
        ],
    );
    assert_exports(
        "std/list",
        &[
            "map",
            "filter",
            "reduce",
            "sort",
            "sort_by",
            "range",
            "zip",
            "contains",
            "slice",
            "reverse",
            "find",
            "any",
            "all",
            "sum",
            "flatten",
            "enumerate",
            "index_of",
            "first",
            "last",
            "unique",
            "concat",
            "len",
        ],
    );
    assert_exports(
        "std/regex",
        &["matches", "find_all", "replace", "captures", "split"],
    );
    assert_exports("std/time", &["now", "sleep"]);
    assert_exports("std/supervisor", &["supervise", "start", "stop"]);
    assert_exports("std/memory", &["search"]);
}

#[test]
fn aliases_point_at_exports() {
    for (builtin, path, export) in STD_ALIASES {
        let src = std_module(path).unwrap_or_else(|| panic!("{builtin}: no module {path}"));
        assert!(
            export.is_empty() || exports(src).iter().any(|e| e == export),
            "{path} does not export {export}"
        );
        assert!(
            !natives().iter().any(|d| d.name == *builtin),
            "{builtin} is also a native"
        );
    }
}

/// Every std module compiles with the real compiler against the real
/// builtin table: names resolve, types check, no diagnostics at all.
#[test]
fn modules_compile_cleanly() {
    use turn_compiler::{compile, CompileOptions, LoadedFile, ModuleLoader};
    use turn_sema::Builtins;

    struct OneModule(&'static str);
    impl ModuleLoader for OneModule {
        fn load(&self, _: &str, _: Option<&LoadedFile>) -> Result<LoadedFile, String> {
            Ok(LoadedFile {
                key: "main".into(),
                display: "main.tn".into(),
                text: format!("return use \"{}\";", self.0),
            })
        }
    }
    let options = CompileOptions {
        builtins: Builtins {
            natives: natives()
                .iter()
                .chain(turn_vm::VM_NATIVES)
                .map(|n| (n.name.to_string(), n.arity.min, n.arity.max))
                .collect(),
            aliases: STD_ALIASES
                .iter()
                .map(|(n, m, e)| (n.to_string(), m.to_string(), e.to_string()))
                .collect(),
        },
        std_source: std_module,
    };
    for (path, _) in STD_MODULES {
        if let Err(failure) = compile("main.tn", &OneModule(path), &options) {
            panic!("{path} does not compile: {:#?}", failure.files);
        }
    }
}

#[test]
fn list_module_does_not_call_its_own_aliases_as_builtins() {
    let src = code(std_module("std/list").unwrap_or_default());
    let map_def = src.find("let map =").expect("std/list defines map");
    let filter_def = src.find("let filter =").expect("std/list defines filter");
    for (name, def) in [("map(", map_def), ("filter(", filter_def)] {
        if let Some(first_use) = src.find(&format!(" {name}")) {
            assert!(first_use > def, "std/list calls {name} before defining it");
        }
    }
}
