//! `turn-fuzz`: the long-running fuzzer, its worker, and a corpus checker.
//!
//! ```text
//! turn-fuzz [--seconds N] [--seed N] [--corpus DIR] [--skip-known] [--max-steps N] [--min-tests N] [--only GENERATOR]
//! turn-fuzz --check PATH...      check files (or directories of .tn files); exit 1 if any fails
//! turn-fuzz --sample GENERATOR   print five inputs from grammar, deep, chains, token-soup or mutation
//! turn-fuzz --worker [...]       serve inputs on stdin/stdout (started by the fuzzer itself)
//! ```
//!
//! The fuzzer loops until the time is up: it generates an input (grammar,
//! deep nesting, long chains, token soup, or a mutation of the corpus and of
//! earlier inputs that compiled), checks it in a worker process, and prints
//! progress every ten seconds. On a failure it minimizes the input (delta
//! debugging, keeping the failure's signature), writes it and a report to
//! `<corpus>/crashes/`, and exits 1 — unless `--skip-known` is given, in
//! which case failures with the signature of an open bug (a file in
//! `crashes/` that still fails, checked at startup) are counted and
//! skipped, and new ones are recorded and then skipped too.

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use turn_fuzz::host::fnv1a;
use turn_fuzz::minimize::minimize;
use turn_fuzz::rng::Rng;
use turn_fuzz::supervisor::{serve, worker_config, Supervisor};
use turn_fuzz::{gen, mutate, Config, Failure, FailureKind, Verdict};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--worker") {
        return match worker_config(&args)
            .map_err(|e| e.to_string())
            .and_then(|c| serve(&c).map_err(|e| e.to_string()))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("turn-fuzz worker: {e}");
                ExitCode::from(2)
            }
        };
    }
    match Options::parse(&args) {
        Ok(opts) if !opts.check.is_empty() => check_files(&opts),
        Ok(opts) if opts.sample.is_some() => sample(&opts),
        Ok(opts) => fuzz(&opts),
        Err(e) => {
            eprintln!("turn-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    seconds: u64,
    seed: u64,
    corpus: PathBuf,
    skip_known: bool,
    max_steps: Option<u64>,
    min_tests: usize,
    check: Vec<PathBuf>,
    sample: Option<String>,
    only: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            seconds: 60,
            seed: default_seed(),
            corpus: Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
            skip_known: false,
            max_steps: None,
            min_tests: 3000,
            check: Vec::new(),
            sample: None,
            only: None,
        };
        let mut it = args.iter();
        let number = |v: Option<&String>, flag: &str| -> Result<u64, String> {
            v.and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{flag} needs a number"))
        };
        while let Some(a) = it.next() {
            match a.as_str() {
                "--seconds" => o.seconds = number(it.next(), a)?,
                "--seed" => o.seed = number(it.next(), a)?,
                "--max-steps" => o.max_steps = Some(number(it.next(), a)?),
                "--min-tests" => o.min_tests = number(it.next(), a)? as usize,
                "--corpus" => o.corpus = it.next().map(PathBuf::from).ok_or("--corpus needs a directory")?,
                "--skip-known" => o.skip_known = true,
                "--only" => o.only = Some(it.next().cloned().ok_or("--only needs a generator name")?),
                "--sample" => o.sample = Some(it.next().cloned().ok_or("--sample needs a generator name")?),
                "--check" => {
                    o.check.extend(it.by_ref().map(PathBuf::from));
                    if o.check.is_empty() {
                        return Err("--check needs files or directories".into());
                    }
                }
                "-h" | "--help" => {
                    return Err("usage: turn-fuzz [--seconds N] [--seed N] [--corpus DIR] [--skip-known] [--max-steps N] \
                                [--min-tests N] [--only GENERATOR] | --check PATH... | --sample GENERATOR"
                        .into())
                }
                other => return Err(format!("unknown argument `{other}` (see --help)")),
            }
        }
        Ok(o)
    }

    fn config(&self) -> Config {
        let mut c = Config::default();
        if let Some(n) = self.max_steps {
            c.limits.max_steps = n;
        }
        c
    }
}

fn default_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// `.tn` files under `path` (or `path` itself), sorted; `skip` names
/// directories to leave out.
fn collect(path: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() && p.file_name().is_some_and(|n| skip.iter().any(|s| n == *s)) {
                continue;
            }
            collect(&p, skip, out);
        }
    } else if path.extension().is_some_and(|x| x == "tn") {
        out.push(path.to_path_buf());
    }
}

fn exe() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("turn-fuzz"))
}

/// `--check`: every file through the worker; one line per file (written
/// with errors ignored, so a closed pipe does not stop the check).
fn check_files(opts: &Options) -> ExitCode {
    use std::io::Write;
    let mut files = Vec::new();
    for p in &opts.check {
        collect(p, &[], &mut files);
    }
    let mut sup = Supervisor::new(exe(), opts.config());
    let mut out = std::io::stdout();
    let mut failed = 0;
    for f in &files {
        let text = match std::fs::read(f) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                let _ = writeln!(out, "FAIL {}: cannot read: {e}", f.display());
                failed += 1;
                continue;
            }
        };
        let start = Instant::now();
        let _ = match sup.check(&text) {
            Ok(v) => writeln!(
                out,
                "ok {} {} ({} ms)",
                f.display(),
                v.name(),
                start.elapsed().as_millis()
            ),
            Err(failure) => {
                failed += 1;
                writeln!(
                    out,
                    "FAIL {}: {failure} [signature: {}]",
                    f.display(),
                    failure.signature()
                )
            }
        };
    }
    let _ = writeln!(out, "{} files, {} failed", files.len(), failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--sample`: five inputs of one generator, with their verdicts.
fn sample(opts: &Options) -> ExitCode {
    let name = opts.sample.as_deref().unwrap_or("");
    let Some(source) = Source::ALL.into_iter().find(|s| s.name() == name) else {
        eprintln!("turn-fuzz: no generator `{name}`");
        return ExitCode::from(2);
    };
    let mut inputs = Inputs::new(opts.seed, load_corpus(&opts.corpus));
    let mut sup = Supervisor::new(exe(), opts.config());
    for _ in 0..5 {
        let text = inputs.generate(source);
        let verdict = match sup.check(&text) {
            Ok(v) => v.name().to_string(),
            Err(f) => f.to_string(),
        };
        println!(
            "==== {} ({} bytes): {verdict}\n{}",
            source.name(),
            text.len(),
            text
        );
    }
    ExitCode::SUCCESS
}

/// Where an input came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Source {
    Grammar,
    Deep,
    Chains,
    TokenSoup,
    Mutation,
}

impl Source {
    const ALL: [Source; 5] = [
        Source::Grammar,
        Source::Deep,
        Source::Chains,
        Source::TokenSoup,
        Source::Mutation,
    ];

    fn name(self) -> &'static str {
        match self {
            Source::Grammar => "grammar",
            Source::Deep => "deep",
            Source::Chains => "chains",
            Source::TokenSoup => "token-soup",
            Source::Mutation => "mutation",
        }
    }
}

/// The input generators, sampled from proptest strategies with a seeded
/// runner, plus the mutation pool.
struct Inputs {
    runner: TestRunner,
    rng: Rng,
    grammar: BoxedStrategy<String>,
    deep: BoxedStrategy<String>,
    chains: BoxedStrategy<String>,
    soup: BoxedStrategy<String>,
    /// Corpus files, then inputs that compiled (bounded).
    pool: Vec<String>,
    seeds: usize,
    /// `--only`: every input from this generator.
    only: Option<Source>,
}

/// Most inputs kept for mutation besides the corpus.
const POOL_EXTRA: usize = 2000;

impl Inputs {
    fn new(seed: u64, corpus: Vec<String>) -> Inputs {
        let mut bytes = [0u8; 32];
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(
                &Rng::new(seed.wrapping_add(i as u64))
                    .next_u64()
                    .to_le_bytes(),
            );
        }
        let runner = TestRunner::new_with_rng(
            RunnerConfig::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
        );
        let seeds = corpus.len();
        Inputs {
            runner,
            rng: Rng::new(seed),
            grammar: gen::program(),
            deep: gen::deep(),
            chains: gen::chains(),
            soup: gen::token_soup(),
            pool: corpus,
            seeds,
            only: None,
        }
    }

    fn next(&mut self) -> (Source, String) {
        if let Some(only) = self.only {
            return (only, self.generate(only));
        }
        let source = match self.rng.below(100) {
            0..=29 => Source::Grammar,
            30..=37 => Source::Deep,
            38..=42 => Source::Chains,
            43..=52 => Source::TokenSoup,
            _ => Source::Mutation,
        };
        (source, self.generate(source))
    }

    fn generate(&mut self, source: Source) -> String {
        let strategy = match source {
            Source::Grammar => &self.grammar,
            Source::Deep => &self.deep,
            Source::Chains => &self.chains,
            Source::TokenSoup => &self.soup,
            Source::Mutation => {
                let Some(base) = self.rng.pick(&self.pool).cloned() else {
                    return String::new();
                };
                return mutate::mutate(&mut self.rng, &base, &self.pool);
            }
        };
        match strategy.new_tree(&mut self.runner) {
            Ok(tree) => tree.current(),
            Err(_) => String::new(),
        }
    }

    /// Keeps an input that compiled for later mutation.
    fn keep(&mut self, text: String) {
        if text.len() > 64 * 1024 || !self.rng.one_in(4) {
            return;
        }
        if self.pool.len() < self.seeds + POOL_EXTRA {
            self.pool.push(text);
        } else {
            let i = self.seeds + self.rng.below(POOL_EXTRA);
            if let Some(slot) = self.pool.get_mut(i) {
                *slot = text;
            }
        }
    }
}

#[derive(Default)]
struct Stats {
    inputs: u64,
    bytes: u64,
    verdicts: HashMap<Verdict, u64>,
    by_source: BTreeMap<Source, u64>,
    /// Outcomes per generator.
    source_verdicts: BTreeMap<(Source, &'static str), u64>,
    /// Failures per signature: (count, whether it was known before this run).
    failures: BTreeMap<String, (u64, bool)>,
}

impl Stats {
    fn line(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(0.001);
        let pct = |v: Verdict| {
            100.0 * *self.verdicts.get(&v).unwrap_or(&0) as f64 / self.inputs.max(1) as f64
        };
        let failures: u64 = self.failures.values().map(|(n, _)| n).sum();
        let compiled = pct(Verdict::Done)
            + pct(Verdict::RuntimeError)
            + pct(Verdict::Limit)
            + pct(Verdict::Suspended);
        format!(
            "[{:>5.0}s] {} inputs ({:.0}/s) | syntax-error {:.0}% compile-error {:.0}% compiled {:.0}%: done {:.0}% \
             runtime-error {:.0}% limit {:.0}% suspended {:.1}% | failures {} ({} signatures)",
            secs,
            self.inputs,
            self.inputs as f64 / secs,
            pct(Verdict::SyntaxError),
            pct(Verdict::CompileError),
            compiled,
            pct(Verdict::Done),
            pct(Verdict::RuntimeError),
            pct(Verdict::Limit),
            pct(Verdict::Suspended),
            failures,
            self.failures.len(),
        )
    }
}

/// Signatures of the open bugs recorded in `crashes/`: a crash file that
/// still fails contributes its failure's signature (and the one its report
/// names, `signature: …` on the first line). A fixed bug's signature is not
/// known any more, so a regression or a variant of it is recorded anew.
fn known_signatures(crashes: &Path, sup: &mut Supervisor) -> HashSet<String> {
    let mut known = HashSet::new();
    let mut files = Vec::new();
    collect(crashes, &[], &mut files);
    for tn in files {
        let Ok(text) = std::fs::read(&tn).map(|b| String::from_utf8_lossy(&b).into_owned()) else {
            continue;
        };
        if let Err(f) = sup.check(&text) {
            known.insert(f.signature());
            let report = std::fs::read_to_string(tn.with_extension("txt")).unwrap_or_default();
            if let Some(sig) = report
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("signature: "))
            {
                known.insert(sig.to_string());
            }
        }
    }
    known
}

/// The corpus files to mutate: everything but `crashes/`.
fn load_corpus(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    collect(dir, &["crashes"], &mut files);
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

fn fuzz(opts: &Options) -> ExitCode {
    let crashes = opts.corpus.join("crashes");
    let corpus = load_corpus(&opts.corpus);
    let mut sup = Supervisor::new(exe(), opts.config());
    let mut known = if opts.skip_known {
        known_signatures(&crashes, &mut sup)
    } else {
        HashSet::new()
    };
    println!(
        "turn-fuzz: seed {} | {} corpus files from {} | {} signatures of open bugs | {} s | limits {:?}",
        opts.seed,
        corpus.len(),
        opts.corpus.display(),
        known.len(),
        opts.seconds,
        opts.config().limits
    );

    let mut inputs = Inputs::new(opts.seed, corpus);
    if let Some(name) = &opts.only {
        match Source::ALL.into_iter().find(|s| s.name() == name) {
            Some(s) => inputs.only = Some(s),
            None => {
                eprintln!("turn-fuzz: no generator `{name}`");
                return ExitCode::from(2);
            }
        }
    }
    let mut stats = Stats::default();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(opts.seconds);
    let mut next_report = start + Duration::from_secs(10);
    let mut exit = ExitCode::SUCCESS;

    while Instant::now() < deadline {
        let (source, text) = inputs.next();
        stats.inputs += 1;
        stats.bytes += text.len() as u64;
        *stats.by_source.entry(source).or_default() += 1;
        match sup.check(&text) {
            Ok(v) => {
                *stats.verdicts.entry(v).or_default() += 1;
                *stats.source_verdicts.entry((source, v.name())).or_default() += 1;
                if matches!(
                    v,
                    Verdict::Done | Verdict::RuntimeError | Verdict::Limit | Verdict::Suspended
                ) {
                    inputs.keep(text);
                }
            }
            Err(failure) => {
                let sig = failure.signature();
                let was_known = known.contains(&sig);
                let entry = stats.failures.entry(sig.clone()).or_insert((0, was_known));
                entry.0 += 1;
                if was_known {
                    continue;
                }
                println!(
                    "\nNEW FAILURE from {} ({} bytes): {failure}",
                    source.name(),
                    text.len()
                );
                let path = record(&mut sup, &crashes, &text, &failure, source, opts);
                match &path {
                    Ok(p) => println!("  minimized input written to {}", p.display()),
                    Err(e) => println!("  could not write the crash: {e}"),
                }
                exit = ExitCode::FAILURE;
                if !opts.skip_known {
                    break;
                }
                known.insert(sig);
            }
        }
        if Instant::now() >= next_report {
            println!("{}", stats.line(start.elapsed()));
            next_report += Duration::from_secs(10);
        }
    }

    let elapsed = start.elapsed();
    println!("\n== summary ==");
    println!("{}", stats.line(elapsed));
    println!(
        "seed {} | {:.0} s | {} inputs | {:.1} MB of source | workers started {}",
        opts.seed,
        elapsed.as_secs_f64(),
        stats.inputs,
        stats.bytes as f64 / 1e6,
        sup.starts
    );
    println!("inputs by generator:");
    for (source, n) in &stats.by_source {
        let outcomes: Vec<String> = Verdict::ALL
            .iter()
            .filter_map(|v| {
                stats
                    .source_verdicts
                    .get(&(*source, v.name()))
                    .map(|c| format!("{} {c}", v.name()))
            })
            .collect();
        println!("  {:<10} {n:>8}  ({})", source.name(), outcomes.join(", "));
    }
    let verdicts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", v.name(), stats.verdicts.get(v).unwrap_or(&0)))
        .collect();
    println!("outcomes: {}", verdicts.join(", "));
    if stats.failures.is_empty() {
        println!("failures: none");
    }
    for (sig, (n, was_known)) in &stats.failures {
        println!(
            "failure {sig}: {n} inputs{}",
            if *was_known { " (known)" } else { " (new)" }
        );
    }
    exit
}

/// Minimizes a failing input and writes `<name>.tn` and `<name>.txt` (the
/// report) to `crashes`.
fn record(
    sup: &mut Supervisor,
    crashes: &Path,
    text: &str,
    failure: &Failure,
    source: Source,
    opts: &Options,
) -> std::io::Result<PathBuf> {
    let sig = failure.signature();
    let started = Instant::now();
    let budget = Duration::from_secs(180);
    let mut tests = 0usize;
    // A hang is minimized with a shorter hang limit (each candidate that
    // still hangs costs the whole limit).
    let mut fast = sup.with_timeout(Duration::from_secs(2));
    let checker = if failure.kind == FailureKind::Hang {
        &mut fast
    } else {
        &mut *sup
    };
    let minimized = minimize(
        text,
        |candidate| {
            tests += 1;
            started.elapsed() < budget
                && checker
                    .check(candidate)
                    .err()
                    .is_some_and(|f| f.signature() == sig)
        },
        opts.min_tests,
    );
    // The minimized input's own failure, for the report (the original one
    // if it now fails differently, as a flaky failure may).
    let last = sup
        .check(&minimized)
        .err()
        .filter(|f| f.signature() == sig)
        .unwrap_or_else(|| failure.clone());
    println!(
        "  minimized {} -> {} bytes in {} tests ({:.1} s)",
        text.len(),
        minimized.len(),
        tests,
        started.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(crashes)?;
    let name = format!(
        "{}-{}-{:08x}",
        failure.kind.name(),
        failure.pass.name(),
        fnv1a(sig.as_bytes()) as u32
    );
    let tn = crashes.join(format!("{name}.tn"));
    std::fs::write(&tn, &minimized)?;
    let backtrace = last
        .backtrace
        .as_deref()
        .map(trim_backtrace)
        .unwrap_or_default();
    let report = format!(
        "signature: {sig}\nfailure: {last}\nfound by: {} (seed {}), {} bytes, minimized to {} bytes\n\n{backtrace}\n",
        source.name(),
        opts.seed,
        text.len(),
        minimized.len()
    );
    std::fs::write(crashes.join(format!("{name}.txt")), report)?;
    Ok(tn)
}

/// The frames of a backtrace that are Turn's code, plus the first few.
fn trim_backtrace(bt: &str) -> String {
    let lines: Vec<&str> = bt.lines().collect();
    let mut keep: Vec<&str> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let ours = l.contains("turn_") || l.contains("crates/turn-");
        if ours && !l.contains("turn_fuzz") {
            keep.push(l);
            if let Some(next) = lines
                .get(i + 1)
                .filter(|n| n.trim_start().starts_with("at "))
            {
                keep.push(next);
            }
        }
        if keep.len() > 60 {
            break;
        }
    }
    if keep.is_empty() {
        lines
            .iter()
            .take(40)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        keep.join("\n")
    }
}
