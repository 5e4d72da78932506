//! Tree heights, so the parser can bound how tall the tree gets.
//!
//! The height of every expression is recorded (by [`NodeId`]) when the node
//! is built, so computing a new node's height only looks at its direct
//! children: expressions by table, types by a walk (types are bounded when
//! built), and blocks by a walk over their statements that stops at
//! expressions. Nested blocks without an expression in between are bounded by
//! the parser's recursion limit, so these walks are shallow and each block is
//! walked once per enclosing expression construction.

use crate::ast::{Block, Expr, ExprKind, Stmt, StmtKind, TypeExpr, TypeKind, UseTarget};

use super::Parser;

impl Parser<'_> {
    fn height_of(&self, expr: &Expr) -> u32 {
        self.heights
            .get(expr.id as usize)
            .map_or(1, |&h| u32::from(h))
    }

    fn max_height<'e>(&self, exprs: impl IntoIterator<Item = &'e Expr>) -> u32 {
        exprs
            .into_iter()
            .map(|e| self.height_of(e))
            .max()
            .unwrap_or(0)
    }

    /// Height of an expression with this kind: 1 + its tallest child.
    pub(super) fn kind_height(&self, kind: &ExprKind) -> u32 {
        let children = match kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Num(_)
            | ExprKind::Str(_)
            | ExprKind::Ident(_)
            | ExprKind::SelfPid
            | ExprKind::This
            | ExprKind::Use(UseTarget::Path(_) | UseTarget::Schema { .. })
            | ExprKind::Error => 0,
            ExprKind::List(items) | ExprKind::Vector(items) => self.max_height(items),
            ExprKind::Map(entries) => self.max_height(entries.iter().map(|e| &e.value)),
            ExprKind::Struct { fields, spread, .. } => {
                self.max_height(fields.iter().map(|f| &f.value).chain(spread.as_deref()))
            }
            ExprKind::Fn(f) => {
                let params = f
                    .params
                    .iter()
                    .filter_map(|p| p.ty.as_ref())
                    .map(type_height);
                let ret = f.ret.as_ref().map_or(0, type_height);
                params
                    .max()
                    .unwrap_or(0)
                    .max(ret)
                    .max(self.block_height(&f.body))
            }
            ExprKind::Unary { expr, .. } => self.height_of(expr),
            // A left-associative chain (`a + b + c …`) is walked iteratively by
            // every pass, so its left spine adds no height; its length is
            // bounded by `MAX_CHAIN` instead.
            ExprKind::Binary { lhs, rhs, .. } => self
                .height_of(lhs)
                .saturating_sub(1)
                .max(self.height_of(rhs)),
            ExprKind::Call { callee, args } => self.height_of(callee).max(self.max_height(args)),
            ExprKind::MethodCall { recv, args, .. } => {
                self.height_of(recv).max(self.max_height(args))
            }
            ExprKind::Index { base, index } => self.height_of(base).max(self.height_of(index)),
            ExprKind::Field { base, .. } => self.height_of(base),
            ExprKind::If { cond, then, else_ } => self
                .height_of(cond)
                .max(self.block_height(then))
                .max(else_.as_deref().map_or(0, |e| self.height_of(e))),
            ExprKind::Block(block) => self.block_height(block),
            ExprKind::Infer { ty, body } => type_height(ty).max(self.block_height(body)),
            ExprKind::Spawn { func, .. } => self.height_of(func),
            ExprKind::Gather(expr) => self.height_of(expr),
            ExprKind::Send { target, msg } => self.height_of(target).max(self.height_of(msg)),
            ExprKind::Receive { timeout } => timeout.as_deref().map_or(0, |e| self.height_of(e)),
            ExprKind::Grant { name, .. } => self.height_of(name),
            ExprKind::Context { args, .. } | ExprKind::Intrinsic { args, .. } => {
                self.max_height(args)
            }
        };
        children + 1
    }

    /// Height of a block: 1 + its tallest statement.
    pub(super) fn block_height(&self, block: &Block) -> u32 {
        block
            .stmts
            .iter()
            .map(|s| self.stmt_height(s))
            .max()
            .unwrap_or(0)
            + 1
    }

    fn stmt_height(&self, stmt: &Stmt) -> u32 {
        let children = match &stmt.kind {
            StmtKind::Let { ty, value, .. } => ty
                .as_ref()
                .map_or(0, type_height)
                .max(self.height_of(value)),
            StmtKind::Assign { target, value } => self.height_of(target).max(self.height_of(value)),
            StmtKind::Expr(expr) | StmtKind::Throw(expr) => self.height_of(expr),
            StmtKind::Return(expr) => expr.as_ref().map_or(0, |e| self.height_of(e)),
            StmtKind::While { cond, body } => self.height_of(cond).max(self.block_height(body)),
            StmtKind::For { iter, body, .. } => self.height_of(iter).max(self.block_height(body)),
            StmtKind::Try { body, handler, .. } => {
                self.block_height(body).max(self.block_height(handler))
            }
            StmtKind::Turn(block) | StmtKind::Block(block) => self.block_height(block),
            StmtKind::Struct(decl) => decl
                .fields
                .iter()
                .map(|f| type_height(&f.ty))
                .max()
                .unwrap_or(0),
            StmtKind::TypeAlias { ty, .. } => type_height(ty),
            StmtKind::Impl { methods, .. } => self.max_height(methods.iter().map(|m| &m.value)),
            StmtKind::Break | StmtKind::Continue | StmtKind::Suspend | StmtKind::Error => 0,
        };
        children + 1
    }
}

/// Height of a type. Types are bounded when they are built (see
/// `parser::types`), so this recursion is shallow.
pub(super) fn type_height(ty: &TypeExpr) -> u32 {
    let children = match &ty.kind {
        TypeKind::Named { args, .. } => args.iter().map(type_height).max().unwrap_or(0),
        TypeKind::Fn { params, ret } => params
            .iter()
            .map(type_height)
            .max()
            .unwrap_or(0)
            .max(ret.as_deref().map_or(0, type_height)),
        TypeKind::Optional(inner) => type_height(inner),
        TypeKind::Error => 0,
    };
    children + 1
}
