//! The analysis pass: one walk over a file that resolves names, tracks
//! captures and checks types.

use crate::scope::{FnCtx, Scope};
use crate::typeck::{conflicts, join, satisfies, show, TypeEnv};
use std::collections::HashMap;
use turn_bytecode::{StructDef, Ty};
use turn_syntax::ast::*;
use turn_syntax::{Diagnostic, Span};

pub type BindingId = u32;

/// The key of the module body in [`Analysis::functions`].
pub const MODULE_BODY: NodeId = NodeId::MAX;

/// What the host provides as global names.
#[derive(Clone, Debug, Default)]
pub struct Builtins {
    /// Native functions in `LoadGlobal` order, with their arity range.
    pub natives: Vec<(String, u8, u8)>,
    /// Names that resolve to a std module export: (name, module, export).
    pub aliases: Vec<(String, String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VarRef {
    Local(BindingId),
    /// Index into the native table.
    Global(u16),
    /// Index into `Builtins::aliases`.
    Alias(u16),
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub name: String,
    /// The function (expression id, or [`MODULE_BODY`]) whose frame holds it.
    pub owner: NodeId,
    /// Some closure refers to it from another function: it lives in a cell.
    pub captured: bool,
    pub span: Span,
    pub declared: Option<Ty>,
    reassigned: bool,
    defined: bool,
    sig: Option<FnSig>,
}

#[derive(Clone, Debug)]
struct FnSig {
    params: Vec<Option<Ty>>,
    /// Parameters a call must give (trailing optional ones may be left out).
    min: usize,
    ret: Option<Ty>,
}

/// How many leading parameters a call must give: trailing parameters typed
/// `T?` may be left out (they are null).
pub fn min_arity(params: &[Param]) -> usize {
    params
        .iter()
        .rposition(|p| !matches!(p.ty.as_ref().map(|t| &t.kind), Some(TypeKind::Optional(_))))
        .map(|i| i + 1)
        .unwrap_or(0)
}

#[derive(Clone, Debug, Default)]
pub struct FnInfo {
    /// Bindings of enclosing functions this function refers to, in upvalue order.
    pub captures: Vec<BindingId>,
    pub params: Vec<BindingId>,
    /// For `impl` methods: the binding of `this` (slot 0).
    pub this: Option<BindingId>,
    /// Checked at every return when the function declares a return type.
    pub ret_check: Option<Ty>,
}

/// The side tables the compiler reads.
#[derive(Debug, Default)]
pub struct Analysis {
    pub uses: HashMap<NodeId, VarRef>,
    /// Binding sites (let names, parameters, loop and catch variables).
    pub decls: HashMap<NodeId, BindingId>,
    pub bindings: Vec<Binding>,
    pub functions: HashMap<NodeId, FnInfo>,
    /// Struct literal expression -> struct id.
    pub struct_lits: HashMap<NodeId, u32>,
    /// `impl` type name ident -> struct id.
    pub impls: HashMap<NodeId, u32>,
    /// `infer` expression -> target type.
    pub infer_types: HashMap<NodeId, Ty>,
    /// Annotated sites checked at run time (let name ident, param ident,
    /// assignment target expression) -> type.
    pub checks: HashMap<NodeId, Ty>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyze one file. `structs` is the program-wide struct table: structs
/// declared in this file are appended to it.
pub fn analyze(
    file: &File,
    builtins: &Builtins,
    structs: &mut Vec<StructDef>,
    file_index: u32,
) -> Analysis {
    let mut a = Analyzer {
        out: Analysis::default(),
        builtins,
        structs,
        file_index,
        types: TypeEnv::default(),
        scopes: Vec::new(),
        fns: Vec::new(),
        pending_arity: Vec::new(),
        methods: HashMap::new(),
    };
    a.declare_types(&file.stmts);
    a.fns.push(FnCtx {
        key: MODULE_BODY,
        scope_base: 0,
        captures: Vec::new(),
        ret: None,
        loop_depth: 0,
        this: None,
    });
    a.block_stmts(&file.stmts);
    a.fns.pop();
    a.out.functions.insert(MODULE_BODY, FnInfo::default());
    a.finish();
    a.out
}

struct Analyzer<'a> {
    out: Analysis,
    builtins: &'a Builtins,
    structs: &'a mut Vec<StructDef>,
    file_index: u32,
    types: TypeEnv,
    scopes: Vec<Scope>,
    fns: Vec<FnCtx>,
    /// Arity errors against let-bound functions, reported only if the
    /// binding is never reassigned.
    pending_arity: Vec<(BindingId, Diagnostic)>,
    /// Methods declared so far in this file: (struct, name) -> where.
    methods: HashMap<(u32, String), Span>,
}

impl Analyzer<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.out.diagnostics.push(d);
    }

    fn finish(&mut self) {
        for (b, d) in std::mem::take(&mut self.pending_arity) {
            if !self.out.bindings[b as usize].reassigned {
                self.out.diagnostics.push(d);
            }
        }
    }

    // ── types ──

    /// Register the struct and alias names declared at the top of the file
    /// so they can be used (and refer to each other) in any order.
    fn declare_types(&mut self, stmts: &[Stmt]) {
        let mut new = Vec::new();
        for s in stmts {
            match &s.kind {
                StmtKind::Struct(decl) => {
                    if let Some(sid) = self.register_struct(decl) {
                        new.push((sid, decl));
                    }
                }
                StmtKind::TypeAlias { name, ty } => self.register_alias(name, ty),
                _ => {}
            }
        }
        for (sid, decl) in new {
            self.lower_struct_fields(sid, decl);
        }
    }

    fn register_struct(&mut self, decl: &StructDecl) -> Option<u32> {
        let name = &decl.name.name;
        if self.types.structs.contains_key(name) || self.types.aliases.contains_key(name) {
            self.error(
                Diagnostic::error(
                    "E1010",
                    format!("the type `{name}` is declared twice"),
                    decl.name.span,
                )
                .with_label("declared again here"),
            );
            return None;
        }
        let sid = self.structs.len() as u32;
        self.structs.push(StructDef {
            name: name.clone(),
            fields: Vec::new(),
            file: self.file_index,
        });
        self.types.structs.insert(name.clone(), sid);
        Some(sid)
    }

    fn register_alias(&mut self, name: &Ident, ty: &TypeExpr) {
        if self.types.structs.contains_key(&name.name)
            || self.types.aliases.contains_key(&name.name)
        {
            self.error(
                Diagnostic::error(
                    "E1010",
                    format!("the type `{}` is declared twice", name.name),
                    name.span,
                )
                .with_label("declared again here"),
            );
            return;
        }
        self.types.aliases.insert(name.name.clone(), ty.clone());
    }

    fn lower_struct_fields(&mut self, sid: u32, decl: &StructDecl) {
        let mut fields: Vec<(String, Ty)> = Vec::new();
        for f in &decl.fields {
            if fields.iter().any(|(n, _)| n == &f.name.name) {
                self.error(
                    Diagnostic::error(
                        "E1010",
                        format!("field `{}` is declared twice", f.name.name),
                        f.name.span,
                    )
                    .with_label("declared again here"),
                );
                continue;
            }
            let ty = self.types.lower(&f.ty, &mut self.out.diagnostics);
            fields.push((f.name.name.clone(), ty));
        }
        if let Some(def) = self.structs.get_mut(sid as usize) {
            def.fields = fields;
        }
    }

    fn lower(&mut self, t: &TypeExpr) -> Ty {
        self.types.lower(t, &mut self.out.diagnostics)
    }

    fn show(&self, t: &Ty) -> String {
        show(t, self.structs)
    }

    /// Report when `actual` can never be `expected`; return whether a run-time
    /// check is still needed.
    fn check_assignable(&mut self, actual: &Ty, expected: &Ty, span: Span, what: &str) -> bool {
        if conflicts(actual, expected) {
            let d = Diagnostic::error(
                "E1002",
                format!(
                    "mismatched types: {what} expects `{}`, found `{}`",
                    self.show(expected),
                    self.show(actual)
                ),
                span,
            )
            .with_label(format!("this is `{}`", self.show(actual)));
            self.error(d);
            false
        } else {
            !satisfies(actual, expected)
        }
    }

    // ── scopes and names ──

    fn push_scope(&mut self) {
        self.scopes.push(Scope {
            names: HashMap::new(),
        });
    }
    fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    fn current_fn(&self) -> NodeId {
        self.fns.last().map(|f| f.key).unwrap_or(MODULE_BODY)
    }

    fn new_binding(&mut self, ident: &Ident, declared: Option<Ty>, defined: bool) -> BindingId {
        let id = self.out.bindings.len() as BindingId;
        self.out.bindings.push(Binding {
            name: ident.name.clone(),
            owner: self.current_fn(),
            captured: false,
            span: ident.span,
            declared,
            reassigned: false,
            defined,
            sig: None,
        });
        if let Some(scope) = self.scopes.last_mut() {
            scope.names.insert(ident.name.clone(), id);
        }
        self.out.decls.insert(ident.id, id);
        id
    }

    /// Resolve a name used in the current function.
    fn resolve(&mut self, name: &str, span: Span, id: NodeId) -> Option<VarRef> {
        let found = self
            .scopes
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, s)| s.names.get(name).map(|b| (i, *b)));
        if let Some((scope_index, b)) = found {
            let owner = self.out.bindings[b as usize].owner;
            if owner != self.current_fn() {
                self.capture(b, scope_index);
            } else if !self.out.bindings[b as usize].defined {
                self.error(
                    Diagnostic::error(
                        "E1012",
                        format!("`{name}` is used before its definition"),
                        span,
                    )
                    .with_label("used here")
                    .with_secondary(self.out.bindings[b as usize].span, "defined later here")
                    .with_hint(
                        "move the definition up, or use it inside a function called after it",
                    ),
                );
            }
            let r = VarRef::Local(b);
            self.out.uses.insert(id, r.clone());
            return Some(r);
        }
        if let Some(i) = self.builtins.aliases.iter().position(|(n, _, _)| n == name) {
            let r = VarRef::Alias(i as u16);
            self.out.uses.insert(id, r.clone());
            return Some(r);
        }
        if let Some(i) = self.builtins.natives.iter().position(|(n, _, _)| n == name) {
            let r = VarRef::Global(i as u16);
            self.out.uses.insert(id, r.clone());
            return Some(r);
        }
        let mut d = Diagnostic::error("E1001", format!("undefined variable `{name}`"), span)
            .with_label("not found in this scope");
        if let Some(similar) = self.similar_name(name) {
            d = d.with_hint(format!(
                "a variable with a similar name exists: `{similar}`"
            ));
        } else {
            d = d.with_hint(format!("declare it first: `let {name} = …;`"));
        }
        self.error(d);
        None
    }

    fn similar_name(&self, name: &str) -> Option<String> {
        let candidates = self.scopes.iter().flat_map(|s| s.names.keys()).chain(
            self.builtins
                .natives
                .iter()
                .filter(|n| !n.0.starts_with("__"))
                .map(|n| &n.0),
        );
        candidates
            .filter(|c| edit_distance(c, name) <= 2 && c.len() > 1)
            .min_by_key(|c| edit_distance(c, name))
            .cloned()
    }

    /// Mark `b` (declared in scope `scope_index`) as captured by every
    /// function between its owner and the current one.
    fn capture(&mut self, b: BindingId, scope_index: usize) {
        self.out.bindings[b as usize].captured = true;
        for f in self.fns.iter_mut().rev() {
            if f.scope_base <= scope_index {
                break;
            }
            if !f.captures.contains(&b) {
                f.captures.push(b);
            }
        }
    }

    fn binding_sig(&self, callee: &Expr) -> Option<(BindingId, FnSig)> {
        if let ExprKind::Ident(_) = callee.kind {
            if let Some(VarRef::Local(b)) = self.out.uses.get(&callee.id) {
                return self.out.bindings[*b as usize].sig.clone().map(|s| (*b, s));
            }
        }
        None
    }

    // ── statements ──

    /// A list of statements in its own scope, with let-bound functions
    /// hoisted so functions can call each other in any order.
    fn block(&mut self, b: &Block) {
        self.push_scope();
        self.block_stmts(&b.stmts);
        self.pop_scope();
    }

    fn block_stmts(&mut self, stmts: &[Stmt]) {
        if self.scopes.is_empty() {
            self.push_scope();
        }
        let mut counts: HashMap<&str, (u32, bool)> = HashMap::new();
        for s in stmts {
            if let StmtKind::Let { name, value, .. } = &s.kind {
                let e = counts.entry(name.name.as_str()).or_insert((0, true));
                e.0 += 1;
                e.1 &= value.is_fn();
            }
        }
        for s in stmts {
            if let StmtKind::Let { name, ty, value } = &s.kind {
                if counts.get(name.name.as_str()) == Some(&(1, true)) {
                    let declared = ty.as_ref().map(|t| self.lower(t));
                    let b = self.new_binding(name, declared, false);
                    self.out.bindings[b as usize].sig =
                        fn_sig(value, &mut self.types, &mut Vec::new());
                }
            }
        }
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Let { name, ty, value } => self.let_stmt(name, ty.as_ref(), value),
            StmtKind::Assign { target, value } => self.assign(target, value),
            StmtKind::Expr(e) => {
                self.expr(e);
            }
            StmtKind::Return(e) => {
                let t = match e {
                    Some(e) => self.expr(e),
                    None => Ty::Void,
                };
                if let Some(ret) = self.fns.last().and_then(|f| f.ret.clone()) {
                    let span = e.as_ref().map(|e| e.span).unwrap_or(s.span);
                    self.check_assignable(&t, &ret, span, "the return type");
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.loop_body(body);
            }
            StmtKind::For { var, iter, body } => {
                self.expr(iter);
                self.push_scope();
                self.new_binding(var, None, true);
                self.loop_body(body);
                self.pop_scope();
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.fns.last().is_none_or(|f| f.loop_depth == 0) {
                    let word = if matches!(s.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(
                        Diagnostic::error("E1009", format!("`{word}` outside of a loop"), s.span)
                            .with_label("not inside `while` or `for`"),
                    );
                }
            }
            StmtKind::Try {
                body,
                catch_var,
                handler,
            } => {
                self.block(body);
                self.push_scope();
                if let Some(v) = catch_var {
                    self.new_binding(v, None, true);
                }
                self.block(handler);
                self.pop_scope();
            }
            StmtKind::Throw(e) => {
                self.expr(e);
            }
            StmtKind::Turn(b) | StmtKind::Block(b) => self.block(b),
            StmtKind::Struct(decl) => {
                // Top-level structs were registered up front.
                if !self.types.structs.contains_key(&decl.name.name) || self.scopes.len() > 1 {
                    if let Some(sid) = self.register_struct(decl) {
                        self.lower_struct_fields(sid, decl);
                    }
                }
            }
            StmtKind::TypeAlias { name, ty } => {
                if self.scopes.len() > 1 {
                    self.register_alias(name, ty);
                }
            }
            StmtKind::Impl { ty, methods } => self.impl_block(ty, methods),
            StmtKind::Suspend | StmtKind::Error => {}
        }
    }

    fn loop_body(&mut self, body: &Block) {
        if let Some(f) = self.fns.last_mut() {
            f.loop_depth += 1;
        }
        self.block(body);
        if let Some(f) = self.fns.last_mut() {
            f.loop_depth -= 1;
        }
    }

    fn let_stmt(&mut self, name: &Ident, ty: Option<&TypeExpr>, value: &Expr) {
        let hoisted = self
            .scopes
            .last()
            .and_then(|s| s.names.get(&name.name).copied())
            .filter(|b| {
                let bd = &self.out.bindings[*b as usize];
                !bd.defined && bd.span == name.span
            });
        let b = if let Some(b) = hoisted {
            self.out.decls.insert(name.id, b);
            self.out.bindings[b as usize].defined = true;
            b
        } else if value.is_fn() {
            // Visible in its own body, for recursion.
            let declared = ty.map(|t| self.lower(t));
            let b = self.new_binding(name, declared, true);
            self.out.bindings[b as usize].sig = fn_sig(value, &mut self.types, &mut Vec::new());
            b
        } else {
            let declared = ty.map(|t| self.lower(t));
            let t = self.expr(value);
            self.new_binding(name, declared.clone(), true);
            if let Some(d) = declared {
                if self.check_assignable(&t, &d, value.span, &format!("`{}`", name.name)) {
                    self.out.checks.insert(name.id, d);
                }
            }
            return;
        };
        let t = self.expr(value);
        if let Some(d) = self.out.bindings[b as usize].declared.clone() {
            if self.check_assignable(&t, &d, value.span, &format!("`{}`", name.name)) {
                self.out.checks.insert(name.id, d);
            }
        }
    }

    fn assign(&mut self, target: &Expr, value: &Expr) {
        let t = self.expr(value);
        // Find the variable at the root of `a`, `a[i]`, `a.f.g`.
        let mut root = target;
        loop {
            match &root.kind {
                ExprKind::Index { base, index } => {
                    self.expr(index);
                    root = base;
                }
                ExprKind::Field { base, .. } => root = base,
                _ => break,
            }
        }
        let ExprKind::Ident(name) = &root.kind else {
            if !matches!(root.kind, ExprKind::Error) {
                self.error(
                    Diagnostic::error("E0004", "invalid assignment target", target.span)
                        .with_label("expected a variable, `v[i]` or `v.field`"),
                );
            }
            return;
        };
        match self.resolve(name, root.span, root.id) {
            Some(VarRef::Local(b)) => {
                self.out.bindings[b as usize].reassigned = true;
                if std::ptr::eq(root, target) {
                    if let Some(d) = self.out.bindings[b as usize].declared.clone() {
                        if self.check_assignable(&t, &d, value.span, &format!("`{name}`")) {
                            self.out.checks.insert(target.id, d);
                        }
                    }
                }
            }
            Some(_) => self.error(
                Diagnostic::error(
                    "E1014",
                    format!("cannot assign to the builtin `{name}`"),
                    root.span,
                )
                .with_label("builtin")
                .with_hint(format!("declare your own variable: `let {name} = …;`")),
            ),
            None => {}
        }
    }

    fn impl_block(&mut self, ty: &Ident, methods: &[Method]) {
        let Some(sid) = self.types.structs.get(&ty.name).copied() else {
            self.error(
                Diagnostic::error("E1007", format!("unknown struct `{}`", ty.name), ty.span)
                    .with_label("`impl` needs a declared struct"),
            );
            for m in methods {
                self.expr(&m.value);
            }
            return;
        };
        self.out.impls.insert(ty.id, sid);
        for m in methods {
            if let Some(prev) = self.methods.insert((sid, m.name.name.clone()), m.name.span) {
                self.error(
                    Diagnostic::error(
                        "E1010",
                        format!(
                            "the method `{}` of `{}` is declared twice",
                            m.name.name, ty.name
                        ),
                        m.name.span,
                    )
                    .with_label("declared again here")
                    .with_secondary(prev, "first declared here"),
                );
            }
            match &m.value.kind {
                ExprKind::Fn(f) => self.function(m.value.id, f, true),
                // The parser already reported a method that is not a function.
                _ => {
                    self.expr(&m.value);
                }
            }
        }
    }

    // ── functions ──

    fn function(&mut self, key: NodeId, f: &FnExpr, is_method: bool) {
        let ret = f.ret.as_ref().map(|t| self.lower(t));
        self.fns.push(FnCtx {
            key,
            scope_base: self.scopes.len(),
            captures: Vec::new(),
            ret: ret.clone(),
            loop_depth: 0,
            this: None,
        });
        self.push_scope();
        let mut info = FnInfo::default();
        if is_method {
            let this = Ident {
                id: NodeId::MAX,
                name: "this".into(),
                span: f.body.span,
            };
            let b = self.new_binding(&this, None, true);
            self.out.decls.remove(&NodeId::MAX);
            info.this = Some(b);
            if let Some(ctx) = self.fns.last_mut() {
                ctx.this = Some(b);
            }
        }
        for (i, p) in f.params.iter().enumerate() {
            if f.params[..i].iter().any(|q| q.name.name == p.name.name) {
                self.error(
                    Diagnostic::error(
                        "E1010",
                        format!("parameter `{}` is declared twice", p.name.name),
                        p.name.span,
                    )
                    .with_label("declared again here"),
                );
            }
            let declared = p.ty.as_ref().map(|t| self.lower(t));
            if let Some(d) = &declared {
                if !matches!(d, Ty::Any) {
                    self.out.checks.insert(p.name.id, d.clone());
                }
            }
            info.params.push(self.new_binding(&p.name, declared, true));
        }
        self.block_stmts(&f.body.stmts);
        self.pop_scope();
        let ctx = self.fns.pop();
        info.captures = ctx.map(|c| c.captures).unwrap_or_default();
        info.ret_check = ret.filter(|t| !matches!(t, Ty::Any));
        self.out.functions.insert(key, info);
    }

    // ── expressions ──

    fn exprs(&mut self, es: &[Expr]) {
        for e in es {
            self.expr(e);
        }
    }

    /// Analyze an expression and return its static type (`Any` if unknown).
    fn expr(&mut self, e: &Expr) -> Ty {
        // Nesting is bounded by the parser, but a debug build's frames are
        // large: grow the stack on the heap when it runs low.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Null => Ty::Void,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Num(_) => Ty::Num,
            ExprKind::Str(_) => Ty::Str,
            ExprKind::Error => Ty::Any,
            ExprKind::Ident(name) => match self.resolve(name, e.span, e.id) {
                Some(VarRef::Local(b)) => self.out.bindings[b as usize]
                    .declared
                    .clone()
                    .unwrap_or(Ty::Any),
                _ => Ty::Any,
            },
            ExprKind::SelfPid => Ty::Pid,
            ExprKind::This => {
                let this = self.fns.iter().rev().find_map(|f| f.this);
                match this {
                    Some(b) => {
                        let scope_index = self
                            .scopes
                            .iter()
                            .position(|s| s.names.get("this") == Some(&b))
                            .unwrap_or(0);
                        if self.out.bindings[b as usize].owner != self.current_fn() {
                            self.capture(b, scope_index);
                        }
                        self.out.uses.insert(e.id, VarRef::Local(b));
                    }
                    None => self.error(
                        Diagnostic::error("E1008", "`this` outside of an `impl` method", e.span)
                            .with_label("no receiver here")
                            .with_hint("`self` is the current process's pid; `this` exists only in methods"),
                    ),
                }
                Ty::Any
            }
            ExprKind::List(items) => {
                let mut t: Option<Ty> = None;
                for i in items {
                    let it = self.expr(i);
                    t = Some(match t {
                        None => it,
                        Some(prev) => join(&prev, &it),
                    });
                }
                Ty::List(Box::new(t.unwrap_or(Ty::Any)))
            }
            ExprKind::Map(entries) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for en in entries {
                    if let Some(prev) = seen.insert(&en.key, en.key_span) {
                        self.error(
                            Diagnostic::error(
                                "E1010",
                                format!("key `{}` appears twice in this map", en.key),
                                en.key_span,
                            )
                            .with_label("duplicate key")
                            .with_secondary(prev, "first here"),
                        );
                    }
                    self.expr(&en.value);
                }
                Ty::Map(Box::new(Ty::Any))
            }
            ExprKind::Vector(items) => {
                for i in items {
                    let t = self.expr(i);
                    self.check_assignable(&t, &Ty::Num, i.span, "a vector element");
                }
                Ty::Vec
            }
            ExprKind::Struct {
                name,
                fields,
                spread,
            } => self.struct_lit(e, name, fields, spread.as_deref()),
            ExprKind::Fn(f) => {
                self.function(e.id, f, false);
                Ty::Fn {
                    params: Some(f.params.iter().map(|_| Ty::Any).collect()),
                    ret: Box::new(Ty::Any),
                }
            }
            ExprKind::Unary { op, expr } => {
                let t = self.expr(expr);
                match op {
                    UnaryOp::Neg => {
                        if matches!(t, Ty::Num) {
                            Ty::Num
                        } else {
                            Ty::Any
                        }
                    }
                    UnaryOp::Not => Ty::Bool,
                    UnaryOp::Confidence => Ty::Num,
                }
            }
            ExprKind::Binary { .. } => {
                // Walk the left spine iteratively: chains can be long.
                let mut spine = Vec::new();
                let mut cur = e;
                while let ExprKind::Binary { op, lhs, rhs } = &cur.kind {
                    spine.push((*op, &**rhs));
                    cur = lhs;
                }
                let mut t = self.expr(cur);
                for (op, rhs) in spine.into_iter().rev() {
                    let r = self.expr(rhs);
                    t = binary_type(op, &t, &r);
                }
                t
            }
            ExprKind::Call { callee, args } => self.call(e, callee, args),
            ExprKind::MethodCall { recv, args, .. } => {
                self.expr(recv);
                self.exprs(args);
                Ty::Any
            }
            ExprKind::Index { base, index } => {
                let b = self.expr(base);
                self.expr(index);
                match b {
                    Ty::Str => Ty::Optional(Box::new(Ty::Str)),
                    _ => Ty::Any,
                }
            }
            ExprKind::Field { base, name } => {
                let b = self.expr(base);
                if let Ty::Struct(sid) = b {
                    if let Some(def) = self.structs.get(sid as usize) {
                        match def.fields.iter().find(|(n, _)| n == &name.name) {
                            Some((_, t)) => return t.clone(),
                            None => {
                                let d = Diagnostic::error(
                                    "E1003",
                                    format!("no field `{}` on struct `{}`", name.name, def.name),
                                    name.span,
                                )
                                .with_label("unknown field")
                                .with_hint(format!(
                                    "`{}` has fields: {}",
                                    def.name,
                                    def.fields
                                        .iter()
                                        .map(|f| f.0.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ));
                                self.error(d);
                            }
                        }
                    }
                }
                Ty::Any
            }
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                let t = self.block_value(then);
                match else_ {
                    Some(e) => {
                        let et = self.expr(e);
                        join(&t, &et)
                    }
                    None => join(&t, &Ty::Void),
                }
            }
            ExprKind::Block(b) => self.block_value(b),
            ExprKind::Infer { ty, body } => {
                let target = self.lower(ty);
                if let Some(bad) = uninferable(&target, self.structs, 0) {
                    self.error(
                        Diagnostic::error(
                            "E1006",
                            format!("`infer` cannot produce a value of type `{bad}`"),
                            ty.span,
                        )
                        .with_label("not a data type a model can return")
                        .with_hint(
                            "use a struct, Str, Num, Bool, List<T>, Map<T> or an optional of them",
                        ),
                    );
                }
                let pt = self.block_value(body);
                self.check_assignable(&pt, &Ty::Str, body.span, "the prompt");
                self.out.infer_types.insert(e.id, target.clone());
                target
            }
            ExprKind::Spawn { func, .. } => {
                self.expr(func);
                Ty::Pid
            }
            ExprKind::Gather(x) => {
                self.expr(x);
                Ty::Any
            }
            ExprKind::Send { target, msg } => {
                self.expr(target);
                self.expr(msg);
                Ty::Bool
            }
            ExprKind::Receive { timeout } => {
                if let Some(t) = timeout {
                    let tt = self.expr(t);
                    self.check_assignable(&tt, &Ty::Num, t.span, "`receive timeout`");
                }
                Ty::Any
            }
            ExprKind::Grant { name, .. } => {
                let t = self.expr(name);
                self.check_assignable(&t, &Ty::Str, name.span, "`grant`");
                Ty::Identity
            }
            ExprKind::Use(_) => Ty::Any,
            ExprKind::Context { method, args } => {
                self.exprs(args);
                let expected = match method.name.as_str() {
                    "system" | "append" | "budget" | "policy" => Some(1),
                    "tokens" | "entries" | "clear" => Some(0),
                    _ => None,
                };
                match expected {
                    None => self.error(
                        Diagnostic::error("E1013", format!("`context` has no method `{}`", method.name), method.span)
                            .with_label("unknown context method")
                            .with_hint("context methods: system, append, budget, policy, tokens, entries, clear"),
                    ),
                    Some(n) if n != args.len() => self.arity_error(e.span, &format!("context.{}", method.name), n, n, args.len()),
                    _ => {}
                }
                match method.name.as_str() {
                    "tokens" => Ty::Num,
                    "entries" => Ty::List(Box::new(Ty::Any)),
                    _ => Ty::Any,
                }
            }
            ExprKind::Intrinsic { kind, args } => {
                self.exprs(args);
                let (name, min, max) = match kind {
                    Intrinsic::Remember => ("remember", 2, 2),
                    Intrinsic::Recall => ("recall", 1, 1),
                    Intrinsic::Call => ("call", 1, 255),
                    Intrinsic::SpawnEach => ("spawn_each", 2, 2),
                };
                if args.len() < min || args.len() > max {
                    self.arity_error(e.span, name, min, max, args.len());
                }
                match kind {
                    Intrinsic::SpawnEach => Ty::List(Box::new(Ty::Pid)),
                    _ => Ty::Any,
                }
            }
        }
    }

    /// A block whose last expression statement gives its value.
    fn block_value(&mut self, b: &Block) -> Ty {
        self.push_scope();
        let (init, last) = match b.stmts.split_last() {
            Some((last, init)) if matches!(last.kind, StmtKind::Expr(_)) => (init, Some(last)),
            _ => (&b.stmts[..], None),
        };
        self.block_stmts(init);
        let t = match last.map(|s| &s.kind) {
            Some(StmtKind::Expr(e)) => self.expr(e),
            _ => Ty::Void,
        };
        self.pop_scope();
        t
    }

    fn arity_error(&mut self, span: Span, name: &str, min: usize, max: usize, found: usize) {
        self.error(arity_diag(span, name, min, max, found));
    }

    fn call(&mut self, e: &Expr, callee: &Expr, args: &[Expr]) -> Ty {
        self.expr(callee);
        let arg_types: Vec<Ty> = args.iter().map(|a| self.expr(a)).collect();
        if let Some((b, sig)) = self.binding_sig(callee) {
            let name = self.out.bindings[b as usize].name.clone();
            if args.len() < sig.min || args.len() > sig.params.len() {
                let d = arity_diag(e.span, &name, sig.min, sig.params.len(), args.len())
                    .with_secondary(self.out.bindings[b as usize].span, "defined here");
                self.pending_arity.push((b, d));
            } else {
                for ((t, a), p) in arg_types.iter().zip(args).zip(&sig.params) {
                    if let Some(p) = p {
                        if conflicts(t, p) {
                            let d = Diagnostic::error(
                                "E1002",
                                format!(
                                    "mismatched types: `{name}` expects `{}` here, found `{}`",
                                    self.show(p),
                                    self.show(t)
                                ),
                                a.span,
                            )
                            .with_label(format!("this is `{}`", self.show(t)));
                            self.pending_arity.push((b, d));
                        }
                    }
                }
            }
            return sig.ret.unwrap_or(Ty::Any);
        }
        if let ExprKind::Ident(name) = &callee.kind {
            if let Some(VarRef::Global(i)) = self.out.uses.get(&callee.id) {
                if let Some((_, min, max)) = self.builtins.natives.get(*i as usize) {
                    let (min, max) = (*min as usize, *max as usize);
                    if args.len() < min || args.len() > max {
                        self.arity_error(e.span, name, min, max, args.len());
                    }
                }
            }
        }
        Ty::Any
    }

    fn struct_lit(
        &mut self,
        e: &Expr,
        name: &Ident,
        fields: &[FieldInit],
        spread: Option<&Expr>,
    ) -> Ty {
        let spread_ty = spread.map(|s| (self.expr(s), s.span));
        let Some(sid) = self.types.structs.get(&name.name).copied() else {
            self.error(
                Diagnostic::error(
                    "E1007",
                    format!("unknown struct `{}`", name.name),
                    name.span,
                )
                .with_label("not declared")
                .with_hint(format!("declare it: `struct {} {{ … }};`", name.name)),
            );
            for f in fields {
                self.expr(&f.value);
            }
            return Ty::Any;
        };
        self.out.struct_lits.insert(e.id, sid);
        if let Some((t, span)) = spread_ty {
            self.check_assignable(
                &t,
                &Ty::Struct(sid),
                span,
                &format!("`..` in a `{}` literal", name.name),
            );
        }
        let def_fields = self
            .structs
            .get(sid as usize)
            .map(|d| d.fields.clone())
            .unwrap_or_default();
        let mut seen: Vec<&str> = Vec::new();
        for f in fields {
            let t = self.expr(&f.value);
            if seen.contains(&f.name.name.as_str()) {
                self.error(
                    Diagnostic::error(
                        "E1010",
                        format!("field `{}` is given twice", f.name.name),
                        f.name.span,
                    )
                    .with_label("duplicate field"),
                );
                continue;
            }
            seen.push(&f.name.name);
            match def_fields.iter().find(|(n, _)| n == &f.name.name) {
                Some((_, ft)) => {
                    self.check_assignable(
                        &t,
                        ft,
                        f.value.span,
                        &format!("field `{}`", f.name.name),
                    );
                }
                None => {
                    let known = def_fields
                        .iter()
                        .map(|f| f.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(
                        Diagnostic::error(
                            "E1003",
                            format!("struct `{}` has no field `{}`", name.name, f.name.name),
                            f.name.span,
                        )
                        .with_label("unknown field")
                        .with_hint(format!("`{}` has fields: {known}", name.name)),
                    );
                }
            }
        }
        if spread.is_none() {
            let missing: Vec<&str> = def_fields
                .iter()
                .filter(|(n, t)| !seen.contains(&n.as_str()) && !t.accepts_null())
                .map(|(n, _)| n.as_str())
                .collect();
            if !missing.is_empty() {
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    Diagnostic::error(
                        "E1004",
                        format!(
                            "missing field{} {list} in `{}`",
                            if missing.len() > 1 { "s" } else { "" },
                            name.name
                        ),
                        e.span,
                    )
                    .with_label("incomplete struct literal")
                    .with_hint(
                        "give every field, or copy the rest from another value with `..base`",
                    ),
                );
            }
        }
        Ty::Struct(sid)
    }
}

fn arity_diag(span: Span, name: &str, min: usize, max: usize, found: usize) -> Diagnostic {
    let expected = if min == max {
        format!("{min} argument{}", if min == 1 { "" } else { "s" })
    } else if max >= 255 {
        format!("at least {min} argument{}", if min == 1 { "" } else { "s" })
    } else {
        format!("{min} to {max} arguments")
    };
    Diagnostic::error(
        "E1005",
        format!(
            "`{name}` takes {expected} but {found} {} given",
            if found == 1 { "was" } else { "were" }
        ),
        span,
    )
    .with_label(format!(
        "{found} argument{}",
        if found == 1 { "" } else { "s" }
    ))
}

/// The signature of a function literal, for static checks of direct calls.
fn fn_sig(value: &Expr, types: &mut TypeEnv, sink: &mut Vec<Diagnostic>) -> Option<FnSig> {
    match &value.kind {
        ExprKind::Fn(f) => Some(FnSig {
            min: min_arity(&f.params),
            params: f
                .params
                .iter()
                .map(|p| p.ty.as_ref().map(|t| types.lower(t, sink)))
                .collect(),
            ret: f.ret.as_ref().map(|t| types.lower(t, sink)),
        }),
        _ => None,
    }
}

fn binary_type(op: BinaryOp, l: &Ty, r: &Ty) -> Ty {
    use BinaryOp::*;
    match op {
        Eq | Ne | Lt | Le | Gt | Ge | And | Or => Ty::Bool,
        Similar => Ty::Num,
        Add => match (l, r) {
            (Ty::Num, Ty::Num) => Ty::Num,
            (Ty::Str, _) | (_, Ty::Str) => Ty::Str,
            (Ty::Vec, Ty::Vec) => Ty::Vec,
            _ => Ty::Any,
        },
        Sub | Mul | Div | Rem => match (l, r) {
            (Ty::Num, Ty::Num) => Ty::Num,
            _ => Ty::Any,
        },
    }
}

/// The first part of `t` a model cannot produce, if any.
fn uninferable(t: &Ty, structs: &[StructDef], depth: u32) -> Option<String> {
    if depth > 32 {
        return None;
    }
    match t {
        Ty::Pid | Ty::Identity | Ty::Fn { .. } | Ty::Void => Some(t.display(structs).to_string()),
        Ty::List(x) | Ty::Map(x) | Ty::Optional(x) => uninferable(x, structs, depth + 1),
        Ty::Struct(sid) => structs.get(*sid as usize).and_then(|d| {
            d.fields
                .iter()
                .find_map(|(_, ft)| uninferable(ft, structs, depth + 1))
        }),
        _ => None,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
