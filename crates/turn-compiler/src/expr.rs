//! Code generation for expressions. Every expression leaves exactly one
//! value on the stack.

use crate::codegen::FnBuilder;
use turn_bytecode::{Constant, Op, StructCtor};
use turn_syntax::ast::*;
use turn_syntax::Diagnostic;

impl FnBuilder<'_, '_> {
    pub fn expr(&mut self, e: &Expr) {
        let saved = self.span;
        self.span = e.span;
        // See the analyzer: deep nesting must not overflow a small stack.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e));
        self.span = saved;
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Null | ExprKind::Error => {
                self.emit(Op::Null);
            }
            ExprKind::Bool(true) => {
                self.emit(Op::True);
            }
            ExprKind::Bool(false) => {
                self.emit(Op::False);
            }
            ExprKind::Num(n) => {
                let c = self.d.num_const(*n);
                self.emit(Op::Const(c));
            }
            ExprKind::Str(s) => {
                let c = self.d.str_const(s);
                self.emit(Op::Const(c));
            }
            ExprKind::Ident(_) | ExprKind::This => match self.an.uses.get(&e.id).cloned() {
                Some(r) => self.load_var(&r),
                None => {
                    self.emit(Op::Null);
                }
            },
            ExprKind::SelfPid => {
                self.emit(Op::SelfPid);
            }
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i);
                }
                self.emit(Op::MakeList(items.len() as u32));
            }
            ExprKind::Map(entries) => {
                for en in entries {
                    let c = self.d.str_const(&en.key);
                    self.emit(Op::Const(c));
                    self.expr(&en.value);
                }
                self.emit(Op::MakeMap(entries.len() as u32));
            }
            ExprKind::Vector(items) => {
                for i in items {
                    self.expr(i);
                }
                self.emit(Op::MakeVector(items.len() as u32));
            }
            ExprKind::Struct { fields, spread, .. } => {
                let Some(sid) = self.an.struct_lits.get(&e.id).copied() else {
                    self.emit(Op::Null);
                    return;
                };
                if let Some(s) = spread {
                    self.expr(s);
                }
                let def_fields: Vec<String> = self
                    .d
                    .program
                    .structs
                    .get(sid as usize)
                    .map(|d| d.fields.iter().map(|f| f.0.clone()).collect())
                    .unwrap_or_default();
                let mut order = Vec::new();
                for f in fields {
                    self.expr(&f.value);
                    order.push(
                        def_fields
                            .iter()
                            .position(|n| n == &f.name.name)
                            .unwrap_or(0) as u16,
                    );
                }
                let c = self.d.const_(Constant::Ctor(StructCtor {
                    sid,
                    fields: order,
                    spread: spread.is_some(),
                }));
                self.span = e.span;
                self.emit(Op::MakeStruct(c));
            }
            ExprKind::Fn(f) => {
                let name = f.name.clone().unwrap_or_else(|| "<closure>".to_string());
                self.closure(e.id, f, e.span, false, name);
            }
            ExprKind::Unary { op, expr } => {
                self.expr(expr);
                self.emit(match op {
                    UnaryOp::Neg => Op::Neg,
                    UnaryOp::Not => Op::Not,
                    UnaryOp::Confidence => Op::Confidence,
                });
            }
            ExprKind::Binary { .. } => self.binary_chain(e),
            ExprKind::Call { callee, args } => {
                let argc = args.len().min(255) as u8;
                // Calls of a variable do not push the callee.
                match self.direct_callee(callee) {
                    Some(op) => {
                        self.args(args);
                        self.span = e.span;
                        self.emit(match op {
                            Op::LoadUpval(idx) => Op::CallUpval { idx, argc },
                            Op::LoadLocal(slot) => Op::CallLocal { slot, argc },
                            other => other,
                        });
                    }
                    None => {
                        self.expr(callee);
                        self.args(args);
                        self.span = e.span;
                        self.emit(Op::Call(argc));
                    }
                }
            }
            ExprKind::MethodCall { recv, name, args } => {
                self.expr(recv);
                self.args(args);
                let c = self.d.str_const(&name.name);
                self.emit(Op::CallMethod {
                    name: c,
                    argc: args.len().min(255) as u8,
                });
            }
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.expr(index);
                self.emit(Op::GetIndex);
            }
            ExprKind::Field { base, name } => {
                self.expr(base);
                let c = self.d.str_const(&name.name);
                self.emit(Op::GetField(c));
            }
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                let to_else = self.emit(Op::JumpIfFalse(0));
                self.block_value(then);
                let to_end = self.emit(Op::Jump(0));
                self.patch(to_else);
                match else_ {
                    Some(e) => self.expr(e),
                    None => {
                        self.emit(Op::Null);
                    }
                }
                self.patch(to_end);
            }
            ExprKind::Block(b) => self.block_value(b),
            ExprKind::Infer { body, .. } => {
                self.block_value(body);
                let ty = self
                    .an
                    .infer_types
                    .get(&e.id)
                    .cloned()
                    .unwrap_or(turn_bytecode::Ty::Any);
                let c = self.d.const_(Constant::Ty(ty));
                self.span = e.span;
                self.emit(Op::Infer(c));
            }
            ExprKind::Spawn { kind, func } => {
                self.expr(func);
                self.emit(Op::Spawn {
                    link: *kind == SpawnKind::SpawnLink,
                });
            }
            ExprKind::Gather(x) => {
                self.expr(x);
                self.emit(Op::Gather);
            }
            ExprKind::Send { target, msg } => {
                self.expr(target);
                self.expr(msg);
                self.emit(Op::Send);
            }
            ExprKind::Receive { timeout } => {
                if let Some(t) = timeout {
                    self.expr(t);
                }
                self.emit(Op::Receive {
                    timeout: timeout.is_some(),
                });
            }
            ExprKind::Grant { kind, name } => {
                self.expr(name);
                let c = self.d.str_const(&kind.name);
                self.emit(Op::Grant(c));
            }
            ExprKind::Use(UseTarget::Path(path)) => {
                let file = self.file;
                match self.d.module_index(path, file) {
                    Ok(m) => {
                        self.emit(Op::LoadModule(m));
                    }
                    Err(mut d) => {
                        d.span = e.span;
                        self.diags.push(d);
                        self.emit(Op::Null);
                    }
                }
            }
            ExprKind::Use(UseTarget::Schema { protocol, .. }) => {
                self.diags.push(
                    Diagnostic::error(
                        "E2003",
                        format!(
                            "`use schema::{}` is not available in this build yet",
                            protocol.name
                        ),
                        e.span,
                    )
                    .with_label("schema absorption is not implemented yet")
                    .with_hint(
                        "OpenAPI and MCP bindings are planned; see the README for what works today",
                    ),
                );
                self.emit(Op::Null);
            }
            ExprKind::Context { method, args } => {
                self.args(args);
                let c = self.d.str_const(&method.name);
                self.emit(Op::Context {
                    method: c,
                    argc: args.len().min(255) as u8,
                });
            }
            ExprKind::Intrinsic { kind, args } => {
                self.args(args);
                match kind {
                    Intrinsic::Remember => self.emit(Op::Remember),
                    Intrinsic::Recall => self.emit(Op::Recall),
                    Intrinsic::SpawnEach => self.emit(Op::SpawnEach),
                    Intrinsic::Call => {
                        self.emit(Op::CallDynamic(args.len().saturating_sub(1).min(255) as u8))
                    }
                };
            }
        }
    }

    fn args(&mut self, args: &[Expr]) {
        if args.len() > 255 {
            if let Some(a) = args.get(255) {
                self.diags.push(
                    Diagnostic::error("E1005", "a call takes at most 255 arguments", a.span)
                        .with_label("argument 256")
                        .with_hint("pass a list or a map instead"),
                );
            }
        }
        for a in args {
            self.expr(a);
        }
    }

    /// A chain of binary operators, walked down its left spine iteratively
    /// (chains can be thousands of operators long).
    fn binary_chain(&mut self, e: &Expr) {
        let mut spine = Vec::new();
        let mut cur = e;
        while let ExprKind::Binary { op, lhs, rhs } = &cur.kind {
            spine.push((*op, &**rhs, cur.span));
            cur = lhs;
        }
        self.expr(cur);
        for (op, rhs, span) in spine.into_iter().rev() {
            self.span = span;
            match op {
                BinaryOp::And | BinaryOp::Or => {
                    let short = self.emit(if op == BinaryOp::And {
                        Op::AndShort(0)
                    } else {
                        Op::OrShort(0)
                    });
                    self.expr(rhs);
                    self.span = span;
                    self.emit(if op == BinaryOp::And {
                        Op::AndJoin
                    } else {
                        Op::OrJoin
                    });
                    self.patch(short);
                }
                _ => {
                    self.expr(rhs);
                    self.span = span;
                    self.emit(match op {
                        BinaryOp::Add => Op::Add,
                        BinaryOp::Sub => Op::Sub,
                        BinaryOp::Mul => Op::Mul,
                        BinaryOp::Div => Op::Div,
                        BinaryOp::Rem => Op::Rem,
                        BinaryOp::Eq => Op::Eq,
                        BinaryOp::Ne => Op::Ne,
                        BinaryOp::Lt => Op::Lt,
                        BinaryOp::Le => Op::Le,
                        BinaryOp::Gt => Op::Gt,
                        BinaryOp::Ge => Op::Ge,
                        BinaryOp::Similar => Op::Similar,
                        BinaryOp::And | BinaryOp::Or => Op::Null,
                    });
                }
            }
        }
    }

    /// A block whose value is its last expression statement (else null).
    pub fn block_value(&mut self, b: &Block) {
        match b.stmts.split_last() {
            Some((last, init)) if matches!(last.kind, StmtKind::Expr(_)) => {
                self.stmts(init);
                if let StmtKind::Expr(e) = &last.kind {
                    self.expr(e);
                }
            }
            _ => {
                self.stmts(&b.stmts);
                self.emit(Op::Null);
            }
        }
    }
}
