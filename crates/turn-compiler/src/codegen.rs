//! Code generation for one function: slots, upvalues, statements, control
//! flow. Expressions are in `expr.rs`.

use crate::driver::{Driver, LoadedFile};
use std::collections::HashMap;
use turn_bytecode::op::CheckSite;
use turn_bytecode::{BinOp, Constant, Function, Op, Ty, UpvalueSource};
use turn_sema::{Analysis, BindingId, FnInfo, VarRef, MODULE_BODY};
use turn_syntax::ast::*;
use turn_syntax::{Diagnostic, Span};

struct LoopCtx {
    /// Where `continue` jumps.
    continue_target: usize,
    /// `break` jumps to patch with the loop's exit.
    breaks: Vec<usize>,
    /// Handlers open when the loop started (more must be popped on exit).
    handler_depth: u32,
}

pub(crate) struct FnBuilder<'d, 'a> {
    pub d: &'d mut Driver<'a>,
    pub file: &'d LoadedFile,
    pub file_index: u32,
    pub an: &'d Analysis,
    pub info: FnInfo,
    pub code: Vec<Op>,
    pub spans: Vec<Span>,
    pub span: Span,
    slots: HashMap<BindingId, u16>,
    next_slot: u32,
    upvals: HashMap<BindingId, u16>,
    loops: Vec<LoopCtx>,
    handler_depth: u32,
    pub diags: Vec<Diagnostic>,
    key: NodeId,
    /// No peephole fusion may reach back before this index (a jump target).
    barrier: usize,
    /// Captured let-bound functions whose cell a block created up front.
    hoisted: std::collections::HashSet<BindingId>,
}

impl<'d, 'a> FnBuilder<'d, 'a> {
    fn new(
        d: &'d mut Driver<'a>,
        file: &'d LoadedFile,
        file_index: u32,
        an: &'d Analysis,
        key: NodeId,
    ) -> Self {
        let info = an.functions.get(&key).cloned().unwrap_or_default();
        let upvals = info
            .captures
            .iter()
            .enumerate()
            .map(|(i, b)| (*b, i as u16))
            .collect();
        FnBuilder {
            d,
            file,
            file_index,
            an,
            info,
            code: Vec::new(),
            spans: Vec::new(),
            span: Span::default(),
            slots: HashMap::new(),
            next_slot: 0,
            upvals,
            loops: Vec::new(),
            handler_depth: 0,
            diags: Vec::new(),
            key,
            barrier: 0,
            hoisted: std::collections::HashSet::new(),
        }
    }

    /// Compile a module body; returns its function index.
    pub fn module(
        d: &'d mut Driver<'a>,
        file: &'d LoadedFile,
        file_index: u32,
        an: &'d Analysis,
        stmts: &[Stmt],
        name: String,
    ) -> (u32, Vec<Diagnostic>) {
        let mut b = FnBuilder::new(d, file, file_index, an, MODULE_BODY);
        b.stmts(stmts);
        b.emit(Op::Null);
        b.emit(Op::Return);
        let f = b.finish(
            name,
            Span::new(0, file.text.len() as u32),
            0,
            false,
            Vec::new(),
        );
        let diags = std::mem::take(&mut b.diags);
        let idx = b.d.program.functions.len() as u32;
        b.d.program.functions.push(f);
        (idx, diags)
    }

    /// Compile a nested function literal; returns its function index.
    pub fn function(
        &mut self,
        key: NodeId,
        f: &FnExpr,
        span: Span,
        is_method: bool,
        name: String,
    ) -> u32 {
        let mut b = FnBuilder::new(self.d, self.file, self.file_index, self.an, key);
        b.span = span;
        let mut cell_params = Vec::new();
        if let Some(this) = b.info.this {
            let slot = b.slot(this);
            if b.an.bindings[this as usize].captured {
                cell_params.push(slot);
            }
        }
        for p in b.info.params.clone() {
            let slot = b.slot(p);
            if b.an.bindings[p as usize].captured {
                cell_params.push(slot);
            }
        }
        for p in &f.params {
            if let Some(ty) = b.an.checks.get(&p.name.id).cloned() {
                b.span = p.name.span;
                if let Some(bid) = b.an.decls.get(&p.name.id).copied() {
                    b.load_binding(bid);
                    b.check(ty, CheckSite::Param);
                    b.emit(Op::Pop);
                }
            }
        }
        b.stmts(&f.body.stmts);
        b.span = Span::new(f.body.span.end.saturating_sub(1), f.body.span.end);
        b.emit(Op::Null);
        b.emit_return();
        let mut func = b.finish(name, span, f.params.len() as u16, is_method, cell_params);
        func.params = f.params.iter().map(|p| p.name.name.clone()).collect();
        func.min_arity = turn_sema::min_arity(&f.params) as u16;
        let mut diags = std::mem::take(&mut b.diags);
        self.diags.append(&mut diags);
        let idx = self.d.program.functions.len() as u32;
        self.d.program.functions.push(func);
        idx
    }

    fn finish(
        &mut self,
        name: String,
        span: Span,
        arity: u16,
        is_method: bool,
        cell_params: Vec<u16>,
    ) -> Function {
        if self.next_slot > u16::MAX as u32 {
            self.diags.push(
                Diagnostic::error("E1015", "this function has more than 65535 variables", span)
                    .with_label("too many variables"),
            );
        }
        let upvalue_names = self
            .info
            .captures
            .iter()
            .map(|b| self.an.bindings[*b as usize].name.clone())
            .collect();
        Function {
            name,
            file: self.file_index,
            span,
            arity,
            params: Vec::new(),
            is_method,
            slots: self.next_slot.min(u16::MAX as u32) as u16,
            // Filled by the enclosing function (see `closure`), which knows
            // where each captured variable lives.
            upvalues: Vec::new(),
            upvalue_names,
            min_arity: arity,
            code: std::mem::take(&mut self.code),
            spans: std::mem::take(&mut self.spans),
            cell_params,
        }
    }

    /// Where each upvalue of the nested function `key` comes from, seen from
    /// this (enclosing) function.
    pub fn closure_sources(&mut self, key: NodeId) -> Vec<UpvalueSource> {
        let captures = self
            .an
            .functions
            .get(&key)
            .map(|f| f.captures.clone())
            .unwrap_or_default();
        captures
            .into_iter()
            .map(|b| {
                if self.an.bindings[b as usize].owner == self.key {
                    UpvalueSource::Local(self.slot(b))
                } else {
                    UpvalueSource::Upvalue(self.upvals.get(&b).copied().unwrap_or(0))
                }
            })
            .collect()
    }

    // ── emitting ──

    pub fn emit(&mut self, op: Op) -> usize {
        if let Some(b) = BinOp::from_op(op) {
            if let Some(fused) = self.fuse(b) {
                // The two loads become part of one instruction.
                self.code.truncate(self.code.len() - 2);
                self.spans.truncate(self.spans.len() - 2);
                self.code.push(fused);
                self.spans.push(self.span);
                return self.code.len() - 1;
            }
        }
        self.code.push(op);
        self.spans.push(self.span);
        self.code.len() - 1
    }

    /// `LoadLocal; Const; op` and `LoadLocal; LoadLocal; op` as one instruction.
    fn fuse(&self, op: BinOp) -> Option<Op> {
        let n = self.code.len();
        if n < 2 || n - 2 < self.barrier {
            return None;
        }
        match (self.code[n - 2], self.code[n - 1]) {
            (Op::LoadLocal(slot), Op::Const(k)) if k <= u16::MAX as u32 => Some(Op::LocalConstOp {
                slot,
                k: k as u16,
                op,
            }),
            (Op::LoadLocal(a), Op::LoadLocal(b)) => Some(Op::LocalLocalOp { a, b, op }),
            _ => None,
        }
    }

    /// The current position, as a jump target.
    pub fn here(&mut self) -> usize {
        self.barrier = self.code.len();
        self.code.len()
    }

    /// Point the jump at `at` to the current position.
    pub fn patch(&mut self, at: usize) {
        self.barrier = self.code.len();
        let target = self.code.len() as u32;
        match &mut self.code[at] {
            Op::Jump(t)
            | Op::JumpIfFalse(t)
            | Op::PushHandler(t)
            | Op::AndShort(t)
            | Op::OrShort(t) => *t = target,
            Op::ForNext { exit, .. } | Op::RangeNext { exit, .. } => *exit = target,
            _ => {}
        }
    }

    pub fn check(&mut self, ty: Ty, site: CheckSite) {
        let c = self.d.const_(Constant::Ty(ty));
        self.emit(Op::CheckType {
            ty: c,
            site: site as u8,
        });
    }

    fn emit_return(&mut self) {
        if let Some(ty) = self.info.ret_check.clone() {
            self.check(ty, CheckSite::Return);
        }
        self.emit(Op::Return);
    }

    // ── variables ──

    pub fn slot(&mut self, b: BindingId) -> u16 {
        if let Some(s) = self.slots.get(&b) {
            return *s;
        }
        let s = self.next_slot.min(u16::MAX as u32) as u16;
        self.next_slot += 1;
        self.slots.insert(b, s);
        s
    }

    /// Two consecutive hidden slots (a `for` loop's collection and position).
    fn hidden_slots(&mut self) -> u16 {
        self.hidden_slots_n(2)
    }

    fn hidden_slots_n(&mut self, n: u32) -> u16 {
        let s = self.next_slot.min(u16::MAX as u32 - n) as u16;
        self.next_slot += n;
        s
    }

    /// The arguments of `range(…)` when `iter` is a call of the builtin.
    fn range_call<'e>(&self, iter: &'e Expr) -> Option<&'e [Expr]> {
        let ExprKind::Call { callee, args } = &iter.kind else {
            return None;
        };
        let range = self
            .d
            .options
            .builtins
            .natives
            .iter()
            .position(|n| n.0 == "range")?;
        if self.an.uses.get(&callee.id) == Some(&VarRef::Global(range as u16))
            && (1..=3).contains(&args.len())
        {
            Some(args)
        } else {
            None
        }
    }

    fn is_captured(&self, b: BindingId) -> bool {
        self.an.bindings[b as usize].captured
    }

    fn is_own(&self, b: BindingId) -> bool {
        self.an.bindings[b as usize].owner == self.key
    }

    pub fn load_binding(&mut self, b: BindingId) {
        if self.is_own(b) {
            let s = self.slot(b);
            self.emit(if self.is_captured(b) {
                Op::LoadCell(s)
            } else {
                Op::LoadLocal(s)
            });
        } else {
            let u = self.upvals.get(&b).copied().unwrap_or(0);
            self.emit(Op::LoadUpval(u));
        }
    }

    /// Pop the top of the stack into an existing binding.
    pub fn store_binding(&mut self, b: BindingId) {
        if self.is_own(b) {
            let s = self.slot(b);
            self.emit(if self.is_captured(b) {
                Op::StoreCell(s)
            } else {
                Op::StoreLocal(s)
            });
        } else {
            let u = self.upvals.get(&b).copied().unwrap_or(0);
            self.emit(Op::StoreUpval(u));
        }
    }

    /// Pop the top of the stack into a binding being declared: a captured
    /// variable gets a fresh cell (so each loop iteration has its own).
    fn declare_binding(&mut self, b: BindingId) {
        let s = self.slot(b);
        self.emit(if self.is_captured(b) {
            Op::DeclCell(s)
        } else {
            Op::StoreLocal(s)
        });
    }

    /// The load instruction of a callee that can be called without pushing
    /// it: an upvalue or a plain (uncaptured) local of this function.
    pub fn direct_callee(&mut self, callee: &Expr) -> Option<Op> {
        let ExprKind::Ident(_) = callee.kind else {
            return None;
        };
        let Some(VarRef::Local(b)) = self.an.uses.get(&callee.id).cloned() else {
            return None;
        };
        if self.is_own(b) {
            if self.is_captured(b) {
                return None;
            }
            Some(Op::LoadLocal(self.slot(b)))
        } else {
            self.upvals.get(&b).map(|u| Op::LoadUpval(*u))
        }
    }

    pub fn load_var(&mut self, r: &VarRef) {
        match r {
            VarRef::Local(b) => self.load_binding(*b),
            VarRef::Global(i) => {
                self.emit(Op::LoadGlobal(*i));
            }
            VarRef::Alias(i) => {
                let Some((_, module, export)) =
                    self.d.options.builtins.aliases.get(*i as usize).cloned()
                else {
                    self.emit(Op::Null);
                    return;
                };
                match self.d.module_index(&module, self.file) {
                    Ok(m) => {
                        self.emit(Op::LoadModule(m));
                        // An empty export names the whole module.
                        if !export.is_empty() {
                            let c = self.d.str_const(&export);
                            self.emit(Op::GetField(c));
                        }
                    }
                    Err(d) => {
                        self.diags.push(d.with_label("needed by this builtin"));
                        self.emit(Op::Null);
                    }
                }
            }
        }
    }

    // ── statements ──

    /// Statements of one block. Captured let-bound functions that are
    /// hoisted get their cell up front so earlier closures can capture it.
    pub fn stmts(&mut self, stmts: &[Stmt]) {
        for b in self.hoisted_cells(stmts) {
            let s = self.slot(b);
            self.emit(Op::DeclUndef(s));
            self.hoisted.insert(b);
        }
        for s in stmts {
            self.stmt(s);
        }
    }

    fn hoisted_cells(&self, stmts: &[Stmt]) -> Vec<BindingId> {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for s in stmts {
            if let StmtKind::Let { name, .. } = &s.kind {
                *counts.entry(&name.name).or_insert(0) += 1;
            }
        }
        stmts
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Let { name, value, .. }
                    if value.is_fn() && counts.get(name.name.as_str()) == Some(&1) =>
                {
                    self.an
                        .decls
                        .get(&name.id)
                        .copied()
                        .filter(|b| self.is_captured(*b))
                }
                _ => None,
            })
            .collect()
    }

    /// A block in statement position.
    pub fn block(&mut self, b: &Block) {
        self.stmts(&b.stmts);
    }

    fn stmt(&mut self, s: &Stmt) {
        self.span = s.span;
        match &s.kind {
            StmtKind::Let { name, value, .. } => self.let_stmt(name, value),
            StmtKind::Assign { target, value } => self.assign(target, value),
            StmtKind::Expr(e) => match &e.kind {
                // An `if` whose value is unused compiles without one.
                ExprKind::If { .. } => self.if_stmt(e),
                _ => {
                    self.expr(e);
                    self.emit(Op::Pop);
                }
            },
            StmtKind::Return(e) => {
                match e {
                    Some(e) => self.expr(e),
                    None => {
                        self.emit(Op::Null);
                    }
                }
                self.span = s.span;
                self.emit_return();
            }
            StmtKind::While { cond, body } => {
                let top = self.here();
                self.expr(cond);
                let exit = self.emit(Op::JumpIfFalse(0));
                self.loop_body(body, top);
                self.emit(Op::Jump(top as u32));
                self.patch(exit);
                self.end_loop();
            }
            StmtKind::For { var, iter, body } => {
                let top;
                let next;
                if let Some(args) = self.range_call(iter) {
                    // A numeric loop: no list is built.
                    for a in args {
                        self.expr(a);
                    }
                    self.span = iter.span;
                    let slot = self.hidden_slots_n(4);
                    self.emit(Op::RangePrepare {
                        slot,
                        argc: args.len() as u8,
                    });
                    top = self.here();
                    next = self.emit(Op::RangeNext { slot, exit: 0 });
                } else {
                    self.expr(iter);
                    self.span = s.span;
                    self.emit(Op::ForPrepare);
                    let slot = self.hidden_slots();
                    self.emit(Op::StoreLocal(slot));
                    let zero = self.d.num_const(0.0);
                    self.emit(Op::Const(zero));
                    self.emit(Op::StoreLocal(slot + 1));
                    top = self.here();
                    next = self.emit(Op::ForNext { slot, exit: 0 });
                }
                if let Some(b) = self.an.decls.get(&var.id).copied() {
                    self.declare_binding(b);
                } else {
                    self.emit(Op::Pop);
                }
                self.loop_body(body, top);
                self.emit(Op::Jump(top as u32));
                self.patch(next);
                self.end_loop();
            }
            StmtKind::Break => {
                self.pop_loop_handlers();
                let j = self.emit(Op::Jump(0));
                if let Some(l) = self.loops.last_mut() {
                    l.breaks.push(j);
                }
            }
            StmtKind::Continue => {
                self.pop_loop_handlers();
                let target = self.loops.last().map(|l| l.continue_target).unwrap_or(0);
                self.emit(Op::Jump(target as u32));
            }
            StmtKind::Try {
                body,
                catch_var,
                handler,
            } => {
                let h = self.emit(Op::PushHandler(0));
                self.handler_depth += 1;
                self.block(body);
                self.handler_depth -= 1;
                self.emit(Op::PopHandler);
                let end = self.emit(Op::Jump(0));
                self.patch(h);
                match catch_var
                    .as_ref()
                    .and_then(|v| self.an.decls.get(&v.id).copied())
                {
                    Some(b) => self.declare_binding(b),
                    None => {
                        self.emit(Op::Pop);
                    }
                }
                self.block(handler);
                self.patch(end);
            }
            StmtKind::Throw(e) => {
                self.expr(e);
                self.span = s.span;
                self.emit(Op::Throw);
            }
            StmtKind::Turn(b) => {
                self.emit(Op::TurnEnter);
                self.block(b);
                self.emit(Op::TurnExit);
            }
            StmtKind::Block(b) => self.block(b),
            StmtKind::Impl { ty, methods } => {
                let Some(sid) = self.an.impls.get(&ty.id).copied() else {
                    return;
                };
                let type_name = ty.name.clone();
                for m in methods {
                    if let ExprKind::Fn(f) = &m.value.kind {
                        self.span = m.value.span;
                        let name = format!("{type_name}.{}", m.name.name);
                        self.closure(m.value.id, f, m.value.span, true, name);
                        let c = self.d.str_const(&m.name.name);
                        self.emit(Op::DefineMethod {
                            sid: sid as u16,
                            name: c,
                        });
                    }
                }
            }
            StmtKind::Suspend => {
                self.emit(Op::Suspend);
                self.emit(Op::Pop);
            }
            StmtKind::Struct(_) | StmtKind::TypeAlias { .. } | StmtKind::Error => {}
        }
    }

    fn if_stmt(&mut self, e: &Expr) {
        let ExprKind::If { cond, then, else_ } = &e.kind else {
            return;
        };
        self.span = e.span;
        self.expr(cond);
        let to_else = self.emit(Op::JumpIfFalse(0));
        self.block(then);
        match else_ {
            Some(other) => {
                let to_end = self.emit(Op::Jump(0));
                self.patch(to_else);
                match &other.kind {
                    ExprKind::If { .. } => self.if_stmt(other),
                    ExprKind::Block(b) => self.block(b),
                    _ => {
                        self.expr(other);
                        self.emit(Op::Pop);
                    }
                }
                self.patch(to_end);
            }
            None => self.patch(to_else),
        }
    }

    fn loop_body(&mut self, body: &Block, continue_target: usize) {
        self.loops.push(LoopCtx {
            continue_target,
            breaks: Vec::new(),
            handler_depth: self.handler_depth,
        });
        self.block(body);
    }

    fn end_loop(&mut self) {
        if let Some(l) = self.loops.pop() {
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    fn pop_loop_handlers(&mut self) {
        let depth = self
            .loops
            .last()
            .map(|l| l.handler_depth)
            .unwrap_or(self.handler_depth);
        for _ in depth..self.handler_depth {
            self.emit(Op::PopHandler);
        }
    }

    fn let_stmt(&mut self, name: &Ident, value: &Expr) {
        let Some(b) = self.an.decls.get(&name.id).copied() else {
            self.expr(value);
            self.emit(Op::Pop);
            return;
        };
        let captured_fn = value.is_fn() && self.is_captured(b);
        let hoisted = captured_fn && self.hoisted.contains(&b);
        if captured_fn && !hoisted {
            // The closure may refer to itself: its cell must exist first.
            let s = self.slot(b);
            self.emit(Op::DeclUndef(s));
        }
        self.expr(value);
        self.span = name.span;
        if let Some(ty) = self.an.checks.get(&name.id).cloned() {
            self.check(ty, CheckSite::Let);
        }
        if captured_fn {
            self.store_binding(b);
        } else {
            self.declare_binding(b);
        }
    }

    fn assign(&mut self, target: &Expr, value: &Expr) {
        // A typed binding keeps its type: check, then store.
        let check = self.an.checks.get(&target.id).cloned();
        match &target.kind {
            ExprKind::Ident(_) => {
                let Some(VarRef::Local(b)) = self.an.uses.get(&target.id).cloned() else {
                    return;
                };
                if check.is_none() && self.is_own(b) && !self.is_captured(b) {
                    if let Some(op) = self.in_place_update(b, value) {
                        self.span = target.span.to(value.span);
                        self.emit(op);
                        return;
                    }
                }
                self.expr(value);
                self.span = target.span;
                if let Some(ty) = check {
                    self.check(ty, CheckSite::Assign);
                }
                self.store_binding(b);
            }
            ExprKind::Index { base, index } if self.plain_local(base).is_some() => {
                let slot = self.plain_local(base).unwrap_or(0);
                self.expr(index);
                self.expr(value);
                self.span = target.span;
                self.emit(Op::SetIndexLocal(slot));
            }
            ExprKind::Field { base, name } if self.plain_local(base).is_some() => {
                let slot = self.plain_local(base).unwrap_or(0);
                self.expr(value);
                self.span = target.span;
                let c = self.d.str_const(&name.name);
                self.emit(Op::SetFieldLocal { slot, name: c });
            }
            _ => self.assign_path(target, value),
        }
    }

    /// The slot of a variable of this function not captured by closures.
    fn plain_local(&self, e: &Expr) -> Option<u16> {
        let ExprKind::Ident(_) = e.kind else {
            return None;
        };
        let Some(VarRef::Local(b)) = self.an.uses.get(&e.id) else {
            return None;
        };
        if self.is_own(*b) && !self.is_captured(*b) {
            self.slots.get(b).copied()
        } else {
            None
        }
    }

    /// `x = x + e` and `x = push(x, e)` on a plain local compile to one
    /// instruction that grows the value in place when nothing else shares it.
    fn in_place_update(&mut self, b: BindingId, value: &Expr) -> Option<Op> {
        let slot = *self.slots.get(&b)?;
        let is_var = |e: &Expr| {
            matches!(e.kind, ExprKind::Ident(_))
                && self.an.uses.get(&e.id) == Some(&VarRef::Local(b))
        };
        match &value.kind {
            ExprKind::Binary {
                op: BinaryOp::Add,
                lhs,
                rhs,
            } if is_var(lhs) => {
                self.expr(rhs);
                Some(Op::AddAssignLocal(slot))
            }
            ExprKind::Call { callee, args } if args.len() == 2 && is_var(&args[0]) => {
                let push = self
                    .d
                    .options
                    .builtins
                    .natives
                    .iter()
                    .position(|n| n.0 == "push")?;
                if self.an.uses.get(&callee.id) != Some(&VarRef::Global(push as u16)) {
                    return None;
                }
                self.expr(&args[1]);
                Some(Op::PushAssignLocal(slot))
            }
            _ => None,
        }
    }

    /// `a.b[i].c = v` and other nested targets: read down the path, then
    /// rebuild each level with the new value on the way back up.
    fn assign_path(&mut self, target: &Expr, value: &Expr) {
        let mut path = Vec::new();
        let mut root = target;
        while let ExprKind::Index { base, .. } | ExprKind::Field { base, .. } = &root.kind {
            path.push(root);
            root = base;
        }
        path.reverse();
        let Some(VarRef::Local(b)) = self.an.uses.get(&root.id).cloned() else {
            return;
        };
        self.load_binding(b);
        let mut index_slots = Vec::new();
        let last = path.len().saturating_sub(1);
        for (k, level) in path.iter().enumerate() {
            self.span = level.span;
            match &level.kind {
                ExprKind::Index { index, .. } => {
                    if k == last {
                        self.expr(index);
                        self.expr(value);
                        self.span = level.span;
                        self.emit(Op::SetIndex);
                    } else {
                        self.emit(Op::Dup);
                        self.expr(index);
                        let t = self.hidden_slots();
                        self.emit(Op::StoreLocal(t));
                        self.emit(Op::LoadLocal(t));
                        self.emit(Op::GetIndex);
                        index_slots.push(Some(t));
                    }
                }
                ExprKind::Field { name, .. } => {
                    let c = self.d.str_const(&name.name);
                    if k == last {
                        self.expr(value);
                        self.span = level.span;
                        self.emit(Op::SetField(c));
                    } else {
                        self.emit(Op::Dup);
                        self.emit(Op::GetField(c));
                        index_slots.push(None);
                    }
                }
                _ => {}
            }
        }
        for (k, level) in path.iter().enumerate().take(last).rev() {
            self.span = level.span;
            match (&level.kind, index_slots.get(k).copied().flatten()) {
                (ExprKind::Index { .. }, Some(t)) => {
                    self.emit(Op::LoadLocal(t));
                    self.emit(Op::Swap);
                    self.emit(Op::SetIndex);
                }
                (ExprKind::Field { name, .. }, _) => {
                    let c = self.d.str_const(&name.name);
                    self.emit(Op::SetField(c));
                }
                _ => {}
            }
        }
        self.store_binding(b);
    }

    /// Emit a closure for a nested function literal.
    pub fn closure(&mut self, key: NodeId, f: &FnExpr, span: Span, is_method: bool, name: String) {
        let idx = self.function(key, f, span, is_method, name);
        let sources = self.closure_sources(key);
        if let Some(func) = self.d.program.functions.get_mut(idx as usize) {
            func.upvalues = sources;
        }
        self.span = span;
        self.emit(Op::Closure(idx));
    }
}
