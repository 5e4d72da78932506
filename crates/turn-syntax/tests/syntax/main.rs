//! Tests of the Turn lexer and parser, in one test binary.

// Tests may unwrap: a panic is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod depth;
mod fuzz;
mod lexer;
mod parser;
mod recovery;
mod sexpr;
mod spans;
