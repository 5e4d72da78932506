//! `__sys_stop` (std/supervisor's `stop`).

use crate::*;
use turn_vm::Effect;

#[test]
fn stop_asks_the_scheduler() {
    match effect("__sys_stop", &[Value::Pid(7)]) {
        Effect::Stop { pid } => assert_eq!(pid, 7),
        e => panic!("{e:?}"),
    }
}

#[test]
fn stop_needs_a_pid() {
    fails(
        "__sys_stop",
        &[n(7.0)],
        "type",
        "supervisor.stop expects a Pid as its first argument, found Num",
    );
    fails("__sys_stop", &[Value::Null], "type", "found Null");
}
