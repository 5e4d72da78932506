//! A compact S-expression rendering of the AST, so tests can state the shape
//! of a tree in one line: `(+ 1 (* 2 3))`.

use turn_syntax::ast::*;
use turn_syntax::{parse, Diagnostic};

pub fn file(file: &File) -> String {
    file.stmts.iter().map(stmt).collect::<Vec<_>>().join(" ")
}

pub fn block(b: &Block) -> String {
    format!(
        "{{{}}}",
        b.stmts.iter().map(stmt).collect::<Vec<_>>().join(" ")
    )
}

pub fn stmt(s: &Stmt) -> String {
    match &s.kind {
        StmtKind::Let { name, ty, value } => match ty {
            Some(ty) => format!("(let {}: {} {})", name.name, type_(ty), expr(value)),
            None => format!("(let {} {})", name.name, expr(value)),
        },
        StmtKind::Assign { target, value } => format!("(= {} {})", expr(target), expr(value)),
        StmtKind::Expr(e) => expr(e),
        StmtKind::Return(None) => "(return)".into(),
        StmtKind::Return(Some(e)) => format!("(return {})", expr(e)),
        StmtKind::While { cond, body } => format!("(while {} {})", expr(cond), block(body)),
        StmtKind::For { var, iter, body } => {
            format!("(for {} {} {})", var.name, expr(iter), block(body))
        }
        StmtKind::Break => "break".into(),
        StmtKind::Continue => "continue".into(),
        StmtKind::Try {
            body,
            catch_var,
            handler,
        } => format!(
            "(try {} catch {}{})",
            block(body),
            catch_var
                .as_ref()
                .map(|v| format!("{} ", v.name))
                .unwrap_or_default(),
            block(handler)
        ),
        StmtKind::Throw(e) => format!("(throw {})", expr(e)),
        StmtKind::Turn(b) => format!("(turn {})", block(b)),
        StmtKind::Block(b) => block(b),
        StmtKind::Struct(d) => {
            let fields: Vec<String> = d
                .fields
                .iter()
                .map(|f| format!(" ({} {})", f.name.name, type_(&f.ty)))
                .collect();
            format!("(struct {}{})", d.name.name, fields.concat())
        }
        StmtKind::TypeAlias { name, ty } => format!("(type {} {})", name.name, type_(ty)),
        StmtKind::Impl { ty, methods } => {
            let ms: Vec<String> = methods
                .iter()
                .map(|m| format!(" ({} {})", m.name.name, expr(&m.value)))
                .collect();
            format!("(impl {}{})", ty.name, ms.concat())
        }
        StmtKind::Suspend => "suspend".into(),
        StmtKind::Error => "ERR".into(),
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(|e| format!(" {}", expr(e))).collect()
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Num(n) => n.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Ident(name) => name.clone(),
        ExprKind::SelfPid => "self".into(),
        ExprKind::This => "this".into(),
        ExprKind::List(items) => format!("(list{})", list(items)),
        ExprKind::Vector(items) => format!("(vec{})", list(items)),
        ExprKind::Map(entries) => {
            let es: Vec<String> = entries
                .iter()
                .map(|en| format!(" ({:?} {})", en.key, expr(&en.value)))
                .collect();
            format!("(map{})", es.concat())
        }
        ExprKind::Struct {
            name,
            fields,
            spread,
        } => {
            let fs: Vec<String> = fields
                .iter()
                .map(|f| format!(" ({} {})", f.name.name, expr(&f.value)))
                .collect();
            let sp = spread
                .as_ref()
                .map(|s| format!(" (.. {})", expr(s)))
                .unwrap_or_default();
            format!("(struct {}{}{})", name.name, fs.concat(), sp)
        }
        ExprKind::Fn(f) => {
            let name = f.name.as_ref().map(|n| format!("{n} ")).unwrap_or_default();
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| match &p.ty {
                    Some(ty) => format!("{}: {}", p.name.name, type_(ty)),
                    None => p.name.name.clone(),
                })
                .collect();
            let ret = f
                .ret
                .as_ref()
                .map(|t| format!(" -> {}", type_(t)))
                .unwrap_or_default();
            format!(
                "(fn {}({}){} {})",
                name,
                params.join(", "),
                ret,
                block(&f.body)
            )
        }
        ExprKind::Unary { op, expr: inner } => {
            let op = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "!",
                UnaryOp::Confidence => "confidence",
            };
            format!("({op} {})", expr(inner))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let op = match op {
                BinaryOp::Add => "+",
                BinaryOp::Sub => "-",
                BinaryOp::Mul => "*",
                BinaryOp::Div => "/",
                BinaryOp::Rem => "%",
                BinaryOp::Eq => "==",
                BinaryOp::Ne => "!=",
                BinaryOp::Lt => "<",
                BinaryOp::Le => "<=",
                BinaryOp::Gt => ">",
                BinaryOp::Ge => ">=",
                BinaryOp::Similar => "~>",
                BinaryOp::And => "and",
                BinaryOp::Or => "or",
            };
            format!("({op} {} {})", expr(lhs), expr(rhs))
        }
        ExprKind::Call { callee, args } => format!("(call {}{})", expr(callee), list(args)),
        ExprKind::MethodCall { recv, name, args } => {
            format!("(method {} {}{})", expr(recv), name.name, list(args))
        }
        ExprKind::Index { base, index } => format!("(index {} {})", expr(base), expr(index)),
        ExprKind::Field { base, name } => format!("(field {} {})", expr(base), name.name),
        ExprKind::If { cond, then, else_ } => match else_ {
            Some(e) => format!("(if {} {} {})", expr(cond), block(then), expr(e)),
            None => format!("(if {} {})", expr(cond), block(then)),
        },
        ExprKind::Block(b) => block(b),
        ExprKind::Infer { ty, body } => format!("(infer {} {})", type_(ty), block(body)),
        ExprKind::Spawn { kind, func } => match kind {
            SpawnKind::Spawn => format!("(spawn {})", expr(func)),
            SpawnKind::SpawnLink => format!("(spawn_link {})", expr(func)),
        },
        ExprKind::Gather(inner) => format!("(gather {})", expr(inner)),
        ExprKind::Send { target, msg } => format!("(send {} {})", expr(target), expr(msg)),
        ExprKind::Receive { timeout: None } => "(receive)".into(),
        ExprKind::Receive { timeout: Some(t) } => format!("(receive timeout {})", expr(t)),
        ExprKind::Grant { kind, name } => format!("(grant {} {})", kind.name, expr(name)),
        ExprKind::Use(UseTarget::Path(p)) => format!("(use {p:?})"),
        ExprKind::Use(UseTarget::Schema { protocol, source }) => {
            format!("(use schema {} {source:?})", protocol.name)
        }
        ExprKind::Context { method, args } => format!("(context {}{})", method.name, list(args)),
        ExprKind::Intrinsic { kind, args } => {
            let k = match kind {
                Intrinsic::Remember => "remember",
                Intrinsic::Recall => "recall",
                Intrinsic::Call => "call",
                Intrinsic::SpawnEach => "spawn_each",
            };
            format!("({k}{})", list(args))
        }
        ExprKind::Error => "ERR".into(),
    }
}

pub fn type_(t: &TypeExpr) -> String {
    match &t.kind {
        TypeKind::Named { name, args } if args.is_empty() => name.clone(),
        TypeKind::Named { name, args } => {
            format!(
                "{name}<{}>",
                args.iter().map(type_).collect::<Vec<_>>().join(", ")
            )
        }
        TypeKind::Fn { params, ret } => {
            let ps = params.iter().map(type_).collect::<Vec<_>>().join(", ");
            match ret {
                Some(r) => format!("Fn({ps}) -> {}", type_(r)),
                None => format!("Fn({ps})"),
            }
        }
        TypeKind::Optional(inner) => format!("{}?", type_(inner)),
        TypeKind::Error => "ERR".into(),
    }
}

/// Parses `src`, asserts it has no diagnostics, and renders it.
#[track_caller]
pub fn ok(src: &str) -> String {
    let parsed = parse(src);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected diagnostics for {src:?}: {:#?}",
        parsed.diagnostics
    );
    file(&parsed.file)
}

/// Parses `src` and returns (rendering, diagnostics).
pub fn with_errors(src: &str) -> (String, Vec<Diagnostic>) {
    let parsed = parse(src);
    (file(&parsed.file), parsed.diagnostics)
}

/// The codes of the diagnostics for `src`.
pub fn codes(src: &str) -> Vec<&'static str> {
    parse(src).diagnostics.iter().map(|d| d.code).collect()
}
