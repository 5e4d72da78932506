//! What one `infer` costs besides the network: parsing and validating the
//! answer into a Turn value, confidence, and the whole engine round trip
//! against a provider that answers instantly. Prints ns per operation.
//!
//! Run: `cargo bench -p turn-infer --bench infer_overhead`

use std::hint::black_box;
use std::time::Instant;
use turn_bytecode::{StructDef, Ty};
use turn_infer::engine::{infer_with_schema, Options, Target};
use turn_infer::providers::{BoxFuture, Provider};
use turn_infer::request::{InferRequest, ProviderAnswer, ProviderError};
use turn_infer::validate::validate;

/// A provider that answers at once with a fixed text.
struct Instant5(String);

impl Provider for Instant5 {
    fn name(&self) -> &str {
        "instant"
    }
    fn needs_object_root(&self) -> bool {
        false
    }
    fn complete<'a>(
        &'a self,
        _: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            Ok(ProviderAnswer {
                text: self.0.clone(),
                ..Default::default()
            })
        })
    }
}

fn time<T>(label: &str, iterations: u32, mut f: impl FnMut() -> T) {
    for _ in 0..iterations / 10 {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!("{label:<58} {ns:>10.1} ns");
}

fn main() {
    let structs = vec![StructDef {
        name: "Report".into(),
        fields: vec![
            ("title".into(), Ty::Str),
            ("score".into(), Ty::Num),
            ("approved".into(), Ty::Bool),
            ("tags".into(), Ty::List(Box::new(Ty::Str))),
            ("note".into(), Ty::Optional(Box::new(Ty::Str))),
        ],
        file: 0,
    }];
    let ty = Ty::Struct(0);
    let answer = r#"{"title": "Quarterly review", "score": 0.82, "approved": true, "tags": ["finance", "q3"], "note": null}"#;
    println!("turn-infer overhead per operation (5-field struct; no network)");
    time("parse + validate + convert the answer", 200_000, || {
        validate(answer, &ty, &structs, false).is_ok()
    });
    time("JSON Schema generation for the type", 200_000, || {
        turn_sema::schema_for(&ty, &structs)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let provider = Instant5(answer.to_string());
    let options = Options::default();
    let schema = turn_sema::schema_for(&ty, &structs);
    time(
        "whole infer round trip (instant provider, cached schema)",
        50_000,
        || {
            let target = Target {
                ty: &ty,
                structs: &structs,
            };
            runtime
                .block_on(infer_with_schema(
                    &provider,
                    &target,
                    Some(&schema),
                    Vec::new(),
                    "Summarise.",
                    &options,
                    &mut |_| {},
                ))
                .is_ok()
        },
    );
}
