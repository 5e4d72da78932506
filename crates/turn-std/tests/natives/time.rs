//! std/time natives.

use crate::*;
use turn_vm::Effect;

#[test]
fn now_and_sleep_are_effects() {
    assert!(matches!(effect("__sys_time_now", &[]), Effect::Now));
    match effect("__sys_time_sleep", &[n(1.5)]) {
        Effect::Sleep { seconds } => assert_eq!(seconds, 1.5),
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        effect("__sys_time_sleep", &[n(0.0)]),
        Effect::Sleep { .. }
    ));
    assert!(matches!(
        effect("__sys_time_sleep", &[uncertain(n(2.0), 0.5)]),
        Effect::Sleep { .. }
    ));
}

#[test]
fn sleep_refuses_bad_durations() {
    fails(
        "__sys_time_sleep",
        &[n(-1.0)],
        "value",
        "finite and not negative",
    );
    fails("__sys_time_sleep", &[n(f64::NAN)], "value", "finite");
    fails("__sys_time_sleep", &[n(f64::INFINITY)], "value", "finite");
    fails(
        "__sys_time_sleep",
        &[s("1")],
        "type",
        "time.sleep expects a Num as its first argument, found Str",
    );
}
