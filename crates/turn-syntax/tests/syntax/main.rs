//! Tests of the Turn lexer and parser, in one test binary.

mod depth;
mod fuzz;
mod lexer;
mod parser;
mod recovery;
mod sexpr;
