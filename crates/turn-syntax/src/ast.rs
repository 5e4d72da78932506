//! The abstract syntax tree.
//!
//! Every expression and every binding site carries a [`NodeId`], unique within
//! one parsed file, so later passes (name resolution, types) keep their results
//! in side tables instead of mutating the tree. Broken source produces
//! `Error` nodes; passes skip them silently because the parser already
//! reported the problem.

use crate::span::Span;

/// Identifies an expression or binding site within one file.
pub type NodeId = u32;

/// A parsed file: a module or the main program. Its `return` value is its export.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub stmts: Vec<Stmt>,
    /// One past the largest [`NodeId`] used in this file.
    pub node_count: u32,
}

/// A name at a binding site or in a type.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub id: NodeId,
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `let name: T = value;`
    Let {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    /// `target = value;` where target is a name, `a[i]` or `a.f` (nested allowed).
    Assign {
        target: Expr,
        value: Expr,
    },
    /// An expression used as a statement. A block's value is the value of its
    /// last statement when that is an expression statement.
    Expr(Expr),
    Return(Option<Expr>),
    While {
        cond: Expr,
        body: Block,
    },
    For {
        var: Ident,
        iter: Expr,
        body: Block,
    },
    Break,
    Continue,
    /// `try { … } catch (e) { … }`; the catch variable is optional: `catch { … }`.
    Try {
        body: Block,
        catch_var: Option<Ident>,
        handler: Block,
    },
    Throw(Expr),
    /// `turn { … }` as a statement: a traced unit and a checkpoint boundary that
    /// scopes like a plain block for the purpose of `return`, but whose
    /// bindings stay visible after it.
    Turn(Block),
    /// `{ … }` at statement position: a nested scope.
    Block(Block),
    Struct(StructDecl),
    /// `type Name = T;`
    TypeAlias {
        name: Ident,
        ty: TypeExpr,
    },
    /// `impl S { let m = turn(…) { … }; … };`
    Impl {
        ty: Ident,
        methods: Vec<Method>,
    },
    /// `suspend;`
    Suspend,
    /// A statement the parser could not make sense of (already reported).
    Error,
}

#[derive(Clone, Debug)]
pub struct StructDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug)]
pub struct Method {
    pub name: Ident,
    /// Always an [`ExprKind::Fn`] when parsing succeeded.
    pub value: Expr,
}

/// A type written in an annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `Num`, `Str`, a struct name, an alias … (resolved by sema). Generic
    /// arguments are kept for `List<T>` and `Map<T>` (or `Map<Str, T>`).
    Named {
        name: String,
        args: Vec<TypeExpr>,
    },
    /// `Fn(A, B) -> R`
    Fn {
        params: Vec<TypeExpr>,
        ret: Option<Box<TypeExpr>>,
    },
    /// `T?`
    Optional(Box<TypeExpr>),
    Error,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub id: NodeId,
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
    /// `confidence v`
    Confidence,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `a ~> b`: cosine similarity of two vectors.
    Similar,
    And,
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnKind {
    Spawn,
    SpawnLink,
}

/// Keyword forms that look like calls: `remember(k, v)`, `recall(k)`,
/// `call(f, args…)`, `spawn_each(list, f)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    Remember,
    Recall,
    Call,
    SpawnEach,
}

/// The key of a map literal entry: `"k": v`, `k: v` (an identifier is a string
/// key), or `[expr]: v` is not supported.
#[derive(Clone, Debug)]
pub struct MapEntry {
    pub key: String,
    pub key_span: Span,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct FieldInit {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
}

#[derive(Clone, Debug)]
pub struct FnExpr {
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
    /// Filled by the parser when the closure is the value of `let name = …`
    /// or an `impl` method, so traces can name it.
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub enum UseTarget {
    /// `use "std/json"`, `use "./lib.tn"`
    Path(String),
    /// `use schema::openapi("spec.json")`: `protocol` is `openapi`, `mcp`, …
    Schema { protocol: Ident, source: String },
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A variable reference.
    Ident(String),
    /// `self`: the current process's pid.
    SelfPid,
    /// `this`: the receiver inside an `impl` method.
    This,
    List(Vec<Expr>),
    Map(Vec<MapEntry>),
    /// `vec[0.1, 0.2]`
    Vector(Vec<Expr>),
    /// `Point { x: 1, ..base }`
    Struct {
        name: Ident,
        fields: Vec<FieldInit>,
        spread: Option<Box<Expr>>,
    },
    /// `turn(x: Num) -> Num { … }` or `turn { … }`
    Fn(Box<FnExpr>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `recv.name(args)`: an `impl` method of recv's struct, else a function
    /// stored in field/key `name`.
    MethodCall {
        recv: Box<Expr>,
        name: Ident,
        args: Vec<Expr>,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Field {
        base: Box<Expr>,
        name: Ident,
    },
    /// `if c { … } else if d { … } else { … }`; `else_` is a `Block` or `If` expr.
    If {
        cond: Box<Expr>,
        then: Block,
        else_: Option<Box<Expr>>,
    },
    /// A block used as an expression (the `else` branch).
    Block(Block),
    /// `infer T { …; prompt }`
    Infer {
        ty: TypeExpr,
        body: Block,
    },
    Spawn {
        kind: SpawnKind,
        func: Box<Expr>,
    },
    /// `gather pids`
    Gather(Box<Expr>),
    /// `send pid, msg`
    Send {
        target: Box<Expr>,
        msg: Box<Expr>,
    },
    /// `receive` or `receive timeout secs`
    Receive {
        timeout: Option<Box<Expr>>,
    },
    /// `grant identity::kind("name")`
    Grant {
        kind: Ident,
        name: Box<Expr>,
    },
    Use(UseTarget),
    /// `context.method(args)`: system, append, budget, policy, tokens, entries.
    Context {
        method: Ident,
        args: Vec<Expr>,
    },
    Intrinsic {
        kind: Intrinsic,
        args: Vec<Expr>,
    },
    /// Source the parser could not make sense of (already reported).
    Error,
}

impl Expr {
    /// Whether this expression is a function literal (`turn(…) { … }`).
    pub fn is_fn(&self) -> bool {
        matches!(self.kind, ExprKind::Fn(_))
    }
}
