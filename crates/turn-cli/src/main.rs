//! `turn`: the command-line front end. Thin: it wires the crates together.

use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use turn_cli::hosts::SystemHost;
use turn_cli::loader::FsLoader;
use turn_cli::report;
use turn_runtime::RunResult;
use turn_vm::{Limits, Program};

mod durable;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "turn",
    version,
    about = "Turn: a language, a durable runtime and a turn executor for agentic software"
)]
#[command(
    after_help = "Examples:\n  turn run examples/hello.tn\n  turn check app.tn --json\n  turn schema app.tn Report"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How `infer` is answered (flags override TURN_PROVIDER/TURN_MODEL and turn.toml).
#[derive(clap::Args, Clone, Debug, Default)]
struct InferArgs {
    /// The inference provider: openai, anthropic, gemini, ollama, scripted,
    /// local, or a path to a .wasm driver.
    #[arg(long)]
    provider: Option<String>,
    /// The model name sent to the provider.
    #[arg(long)]
    model: Option<String>,
    /// JSONL answers for the scripted provider (implies --provider scripted).
    #[arg(long, value_name = "FILE")]
    responses: Option<std::path::PathBuf>,
    /// Re-asks after an answer that does not match the type (default 3).
    #[arg(long)]
    retries: Option<u32>,
    /// Print every inference request and answer to stderr (keys never appear).
    #[arg(long)]
    trace: bool,
    /// Print token and latency totals per `infer` to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Allow `grant identity::KIND("NAME")` (repeatable; `[[grant]]` in
    /// turn.toml does the same). Without any, only network:public.
    #[arg(long = "grant", value_name = "KIND:NAME")]
    grant: Vec<String>,
}

/// Where durable runs are kept.
#[derive(clap::Args, Clone, Debug, Default)]
struct StoreArgs {
    /// The store directory (default: $TURN_STORE, else .turn).
    #[arg(long = "store", value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Compile and run a program; print its return value (nothing for null).
    ///
    /// Exit codes: 0 success, 1 compile error, 2 uncaught runtime error.
    Run {
        /// The program's entry file (.tn).
        file: String,
        /// Stop with a `limit` error after this many steps (a step is a call or a
        /// loop iteration; 0: no limit).
        #[arg(long, default_value_t = 0)]
        max_steps: u64,
        /// Deepest call stack allowed before a `limit` error.
        #[arg(long, default_value_t = 10_000)]
        max_depth: usize,
        /// Largest string (bytes) or list/map (elements) a program may build.
        #[arg(long, default_value_t = 256 * 1024 * 1024)]
        max_value_size: usize,
        /// Make the run durable under this id: effects are logged and the
        /// state checkpointed in the store; the main process's memory
        /// persists across runs with the same id.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        /// Reuse an id whose last run belongs to another program or did not
        /// finish (its log is dropped; its memory is kept).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        infer: InferArgs,
    },
    /// Continue a durable run: after `suspend;`, after a crash, or with the
    /// result of an external tool it waits for.
    Resume {
        id: String,
        /// The external tool's result, as JSON.
        #[arg(long, value_name = "JSON")]
        result: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        infer: InferArgs,
    },
    /// Re-run a durable run from its effect log, calling no provider or tool;
    /// report the first divergence if it does not reproduce.
    Replay {
        id: String,
        /// Stop after this many log entries.
        #[arg(long, value_name = "N")]
        until: Option<u64>,
        /// With --until: start a new run with this id that continues live
        /// from entry N.
        #[arg(long, value_name = "NEW_ID", requires = "until")]
        fork: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        infer: InferArgs,
    },
    /// Show a durable run: status, processes and links, memory, context
    /// tiers, last confidences, the effect log.
    Inspect {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the durable runs in the store.
    Runs {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check a program for errors without running it.
    Check {
        file: String,
        /// Print diagnostics as a JSON array of objects with file, severity, code,
        /// message, line, col, end_line, end_col, label and hint.
        #[arg(long)]
        json: bool,
    },
    /// Print the bytecode of a program and of every module it uses.
    Disasm { file: String },
    /// Print the JSON Schema that `infer` sends for a type declared in a file.
    Schema {
        file: String,
        /// A struct or type alias name (or a builtin type such as `List<Str>`).
        #[arg(value_name = "TYPE")]
        type_name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Deep (but legal) programs recurse in the compiler: give it room.
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || dispatch(cli));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal failure (this is a bug in turn)");
            ExitCode::from(70)
        }
    }
}

fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run {
            file,
            max_steps,
            max_depth,
            max_value_size,
            id,
            store,
            force,
            infer,
        } => {
            let limits = Limits {
                max_steps,
                max_call_depth: max_depth,
                max_value_size,
            };
            match id {
                Some(id) => durable::run(&file, &id, &store_dir(store), force, limits, &infer),
                None => run(&file, limits, &infer),
            }
        }
        Command::Resume {
            id,
            result,
            store,
            infer,
        } => durable::resume(&id, result.as_deref(), &store_dir(store), &infer),
        Command::Replay {
            id,
            until,
            fork,
            store,
            infer,
        } => durable::replay(&id, until, fork.as_deref(), &store_dir(store), &infer),
        Command::Inspect { id, json, store } => durable::inspect(&id, json, &store_dir(store)),
        Command::Runs { store } => durable::runs(&store_dir(store)),
        Command::Check { file, json } => check(&file, json),
        Command::Disasm { file } => match compile(&file) {
            Ok(p) => {
                out(&turn_bytecode::disasm::disassemble(&p));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Schema { file, type_name } => schema(&file, &type_name),
    }
}

/// Compile, printing diagnostics (warnings too) to stderr.
fn compile(file: &str) -> Result<Program, ExitCode> {
    match turn_cli::compile_file(file, &FsLoader::default()) {
        Ok(p) => Ok(p),
        Err(failure) => {
            eprint!(
                "{}",
                report::render_diagnostics(&failure, std::io::stderr().is_terminal())
            );
            Err(ExitCode::from(1))
        }
    }
}

/// The provider for this run, from flags, environment and turn.toml.
fn inference(file: &str, args: &InferArgs) -> Result<turn_runtime::Inference, String> {
    let toml = turn_cli::config::find_turn_toml(std::path::Path::new(file));
    let toml_text = match &toml {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let overrides = turn_infer::config::Overrides {
        provider: args.provider.clone(),
        model: args.model.clone(),
        responses: args.responses.clone(),
        retries: args.retries,
    };
    let env = |k: &str| std::env::var(k).ok();
    let settings = turn_infer::config::resolve(toml_text.as_deref(), &env, &overrides)?;
    let provider = turn_infer::config::build(&settings, &env)?;
    let options = turn_infer::engine::Options {
        retries: settings.retries,
        params: settings.params.clone(),
    };
    let mut inf = turn_runtime::Inference::new(provider, options)?;
    inf.trace = args.trace;
    Ok(inf)
}

fn store_dir(args: StoreArgs) -> std::path::PathBuf {
    turn_cli::runs::store_dir(args.dir)
}

/// The host for running `file`: its tools, and its provider if it infers.
fn system_host(file: &str, program: &Program, args: &InferArgs) -> Result<SystemHost, ExitCode> {
    let mut host = SystemHost::default();
    if turn_cli::uses_infer(program) {
        // A configuration problem is raised at the first `infer`, where the
        // program can catch it.
        host.inference = inference(file, args);
    }
    host.tools = turn_cli::tools::Tools::for_program(std::path::Path::new(file)).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })?;
    host.policy =
        turn_cli::grants::policy(std::path::Path::new(file), &args.grant).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(1)
        })?;
    host.io.base = turn_cli::grants::base_dir(std::path::Path::new(file));
    host.secrets = turn_cli::grants::secrets_file(std::path::Path::new(file)).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })?;
    Ok(host)
}

fn print_stats(host: &SystemHost, args: &InferArgs) {
    if args.stats {
        if let Ok(i) = &host.inference {
            eprint!("{}", i.stats.borrow().render());
        }
    }
}

fn run(file: &str, limits: Limits, args: &InferArgs) -> ExitCode {
    let program = match compile(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut host = match system_host(file, &program, args) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let shown = program.clone();
    let result = turn_cli::run_program(program, limits, &mut host);
    print_stats(&host, args);
    report_result(result, &shown)
}

/// Print how a run ended; the exit code.
fn report_result(result: Result<RunResult, turn_vm::RtError>, shown: &Program) -> ExitCode {
    match result {
        Ok(RunResult::Done(v)) => {
            if !matches!(v, turn_vm::Value::Null) {
                match turn_vm::display(&v, shown) {
                    Ok(s) => out(&format!("{s}\n")),
                    Err(e) => {
                        eprintln!("error[{}]: cannot print the result: {}", e.kind, e.message);
                        return ExitCode::from(2);
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Ok(RunResult::Failed(u)) => {
            eprint!("{}", report::render_uncaught(&u, shown));
            ExitCode::from(2)
        }
        Ok(RunResult::Waiting { tool, pid }) => {
            // Durable runs stop here before reaching this function.
            eprintln!(
                "error: <pid {pid}> waits for the external tool `{tool}`, whose result can only \
                 be supplied to a durable run: run it with --id ID, then \
                 `turn resume ID --result '<json>'`"
            );
            ExitCode::from(2)
        }
        Ok(RunResult::Suspended) => {
            eprintln!("suspended");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error[{}]: {}", e.kind, e.message);
            ExitCode::from(2)
        }
    }
}

fn check(file: &str, json: bool) -> ExitCode {
    match turn_cli::compile_file(file, &FsLoader::default()) {
        Ok(_) => {
            if json {
                out("[]\n");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if json {
                out(&format!("{}\n", report::diagnostics_json(&failure)));
            } else {
                eprint!(
                    "{}",
                    report::render_diagnostics(&failure, std::io::stderr().is_terminal())
                );
            }
            ExitCode::from(1)
        }
    }
}

fn schema(file: &str, type_name: &str) -> ExitCode {
    // Resolve the type exactly as an `infer` site in that file would: compile
    // the file with a probe function appended and read the probe's target.
    let probe =
        format!("\nlet __turn_schema_probe = turn() {{ return infer {type_name} {{ \"\" }}; }};\n");
    let loader = turn_cli::loader::ProbeLoader {
        inner: FsLoader::default(),
        entry_suffix: probe,
    };
    let program = match turn_cli::compile_file(file, &loader) {
        Ok(p) => p,
        Err(failure) => {
            // A problem with the type itself (in the appended probe) is
            // reported without showing the probe.
            let own_len = std::fs::read_to_string(file)
                .map(|t| t.len())
                .unwrap_or(usize::MAX) as u32;
            let probe_issue = failure.files.first().and_then(|f| {
                f.diagnostics
                    .iter()
                    .find(|d| d.is_error() && d.span.start >= own_len)
            });
            match probe_issue {
                Some(d) => eprintln!(
                    "error[{}]: {} (in `turn schema {file} {type_name}`)",
                    d.code, d.message
                ),
                None => eprint!(
                    "{}",
                    report::render_diagnostics(&failure, std::io::stderr().is_terminal())
                ),
            }
            return ExitCode::from(1);
        }
    };
    let target = program
        .functions
        .iter()
        .filter(|f| f.name == "__turn_schema_probe")
        .flat_map(|f| f.code.iter())
        .find_map(|op| match op {
            turn_bytecode::Op::Infer(c) => match program.constants.get(*c as usize) {
                Some(turn_bytecode::Constant::Ty(t)) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        });
    let Some(ty) = target else {
        eprintln!("error: could not resolve the type `{type_name}` (this is a bug in turn)");
        return ExitCode::from(70);
    };
    let schema = turn_sema::schema_for(&ty, &program.structs);
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    ));
    ExitCode::SUCCESS
}

/// Write to stdout; a closed pipe (`turn disasm x | head`) is not an error.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}
