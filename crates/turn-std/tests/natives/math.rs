//! std/math natives.

use crate::*;
use turn_vm::{Effect, Value};

fn num(name: &str, args: &[Value]) -> f64 {
    ok(name, args)
        .as_num()
        .unwrap_or_else(|| panic!("{name} did not return a Num"))
}

#[test]
fn rounding() {
    check("__sys_math_floor", &[n(-1.5)], "-2");
    check("__sys_math_ceil", &[n(1.2)], "2");
    check("__sys_math_round", &[n(2.5)], "3");
    check("__sys_math_round", &[n(-2.5)], "-3");
    check("__sys_math_round", &[n(2.4)], "2");
    check("__sys_math_trunc", &[n(-2.7)], "-2");
    check("__sys_math_abs", &[n(-3.0)], "3");
    check("__sys_math_abs", &[uncertain(n(-1.0), 0.5)], "1");
    check("__sys_math_sign", &[n(-4.0)], "-1");
    check("__sys_math_sign", &[n(0.0)], "0");
    check("__sys_math_sign", &[n(-0.0)], "0");
    check("__sys_math_sign", &[n(9.0)], "1");
    fails(
        "__sys_math_floor",
        &[s("1")],
        "type",
        "math.floor expects a Num as its first argument, found Str",
    );
}

#[test]
fn roots_powers_logs() {
    check("__sys_math_sqrt", &[n(16.0)], "4");
    fails(
        "__sys_math_sqrt",
        &[n(-1.0)],
        "arithmetic",
        "sqrt of a negative number",
    );
    check("__sys_math_pow", &[n(2.0), n(10.0)], "1024");
    check("__sys_math_pow", &[n(2.0), n(-1.0)], "0.5");
    fails(
        "__sys_math_pow",
        &[n(-8.0), n(1.0 / 3.0)],
        "arithmetic",
        "not a real number",
    );
    check("__sys_math_pow", &[n(10.0), n(400.0)], "Infinity");
    assert!((num("__sys_math_log", &[n(std::f64::consts::E)]) - 1.0).abs() < 1e-12);
    assert!((num("__sys_math_log", &[n(1000.0), n(10.0)]) - 3.0).abs() < 1e-12);
    check("__sys_math_log", &[n(8.0), n(2.0)], "3");
    fails("__sys_math_log", &[n(0.0)], "arithmetic", "not positive");
    fails("__sys_math_log", &[n(-1.0)], "arithmetic", "not positive");
    fails("__sys_math_log", &[n(5.0), n(1.0)], "arithmetic", "base");
    fails("__sys_math_log", &[n(5.0), n(-2.0)], "arithmetic", "base");
    fails(
        "__sys_math_log",
        &[n(5.0), s("2")],
        "type",
        "second argument",
    );
    check("__sys_math_exp", &[n(0.0)], "1");
}

#[test]
fn trigonometry() {
    check("__sys_math_sin", &[n(0.0)], "0");
    check("__sys_math_cos", &[n(0.0)], "1");
    assert!((num("__sys_math_tan", &[n(std::f64::consts::FRAC_PI_4)]) - 1.0).abs() < 1e-12);
}

#[test]
fn min_max_clamp() {
    check("__sys_math_min", &[n(3.0), n(1.0), n(2.0)], "1");
    check("__sys_math_max", &[n(3.0), n(1.0), n(2.0)], "3");
    check("__sys_math_min", &[nums(&[4.0, -2.0])], "-2");
    check("__sys_math_max", &[nums(&[4.0])], "4");
    check("__sys_math_max", &[n(7.0)], "7");
    check("__sys_math_max", &[n(1.0), n(f64::NAN), n(3.0)], "NaN");
    check(
        "__sys_math_min",
        &[l(vec![uncertain(n(1.0), 0.5), n(2.0)])],
        "1",
    );
    fails(
        "__sys_math_min",
        &[l(vec![])],
        "value",
        "at least one number",
    );
    fails(
        "__sys_math_min",
        &[n(1.0), s("2")],
        "type",
        "math.min expects a Num as its second argument, found Str",
    );
    fails(
        "__sys_math_max",
        &[l(vec![n(1.0), Value::Null])],
        "type",
        "math.max expects a list of numbers, found Null in it",
    );
    fails("__sys_math_max", &[s("x")], "type", "first argument");
    check("__sys_math_clamp", &[n(5.0), n(0.0), n(3.0)], "3");
    check("__sys_math_clamp", &[n(-5.0), n(0.0), n(3.0)], "0");
    check("__sys_math_clamp", &[n(2.0), n(0.0), n(3.0)], "2");
    fails(
        "__sys_math_clamp",
        &[n(2.0), n(3.0), n(0.0)],
        "value",
        "above the upper bound",
    );
    fails(
        "__sys_math_clamp",
        &[n(2.0), n(f64::NAN), n(0.0)],
        "value",
        "above the upper bound",
    );
}

#[test]
fn random_is_an_effect() {
    assert!(matches!(effect("__sys_math_random", &[]), Effect::Random));
}

#[test]
fn pi_and_e_in_the_module_are_exact() {
    let src = turn_std::std_module("std/math").unwrap_or_default();
    let lit = |key: &str| -> f64 {
        let at = src
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("no {key}"));
        let rest = &src[at + key.len() + 4..];
        rest[..rest.find(',').unwrap_or(rest.len())]
            .trim()
            .parse()
            .unwrap_or(0.0)
    };
    assert_eq!(lit("pi"), std::f64::consts::PI);
    assert_eq!(lit("e"), std::f64::consts::E);
}
