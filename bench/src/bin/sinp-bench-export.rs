//! sinp-bench-export: the benchmark of exports, `make bench-export` (docs/benchmarks.md).
//!
//! ```text
//! sinp-bench-export [--rows "100000"] [--repeat 3] [--dir /var/tmp/sinp_bench_export]
//!                   [--host /var/run/postgresql] [--port 5432] [--user postgres]
//! ```
//!
//! For each size it writes the synthetic archive of `make bench` (50 datasets, 500 users,
//! area-only rows attached to communes), loads it once into a target with the extension, the
//! target schema and the areas (not timed; then `VACUUM ANALYZE`), and then, `--repeat` times
//! each, interleaved, one fresh connection per run:
//!
//! * **export**: `sinp_import.export_archive(path, include_restricted => true)`, the whole archive
//!   (six files, deflated), with the backend's peak memory (`VmHWM`, and the largest `RssAnon`
//!   sampled);
//! * **copy**: `COPY (bench/sql/baseline_export.sql) TO` a file: the observations' records, the
//!   same columns, codes joined, uncompressed.
//!
//! Then, once per size: the change log installed (`sinp_import.log_changes()`), a differential
//! archive loaded (1 % of the rows updated, 0.1 % deleted, 0.1 % new; not timed), and
//! `--repeat` times the **differential export** `since` before that load.
//!
//! It prints the machine, the runs, and two lines per size:
//! `BENCH_EXPORT rows=<n> export_s=<x> copy_s=<y> ratio=<x/y> peak_rss_mb=<m> private_mb=<p>`,
//! `BENCH_EXPORT_DIFF rows=<n> inserted=<i> updated=<u> deleted=<d> export_s=<x>`.
//!
//! Run it as the postgres OS user. Databases named `sinp_benchexport_*` are dropped at start and
//! end, and the files it writes in `--dir`. `PGOPTIONS` is passed to every connection.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use postgres::Client;
use sinp_bench::{write_diff_archive, write_synthetic_archive, DiffOptions};

#[path = "../driver.rs"]
mod driver;
use driver::*;

const USAGE: &str = "usage:
  sinp-bench-export [--rows \"100000\"] [--repeat 3] [--dir /var/tmp/sinp_bench_export]
                    [--host /var/run/postgresql] [--port 5432] [--user postgres]

Run as the postgres OS user, on the database server's machine. PGOPTIONS, if set, is passed
to every connection. See docs/benchmarks.md.";

const DB_PREFIX: &str = "sinp_benchexport_";
const LOADED_DB: &str = "sinp_benchexport_loaded";
const BASELINE_EXPORT_SQL: &str = include_str!("../../sql/baseline_export.sql");

struct Options {
    rows: Vec<usize>,
    repeat: usize,
    dir: PathBuf,
    server: Server,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        rows: vec![100_000],
        repeat: 3,
        dir: PathBuf::from("/var/tmp/sinp_bench_export"),
        server: Server::from_env("sinp-bench-export"),
    };
    if !args.len().is_multiple_of(2) {
        return Err(format!("every option takes a value\n{USAGE}").into());
    }
    for pair in args.chunks(2) {
        let (flag, value) = (pair[0].as_str(), pair[1].as_str());
        match flag {
            "--rows" => {
                options.rows = value
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(|s| parse_count(flag, s))
                    .collect::<Result<_>>()?
            }
            "--repeat" => options.repeat = parse_count(flag, value)?,
            "--dir" => options.dir = PathBuf::from(value),
            "--host" => options.server.host = value.to_string(),
            "--port" => options.server.port = parse_count(flag, value)?.try_into()?,
            "--user" => options.server.user = value.to_string(),
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }
    if options.rows.is_empty() || options.rows.contains(&0) || options.repeat == 0 {
        return Err(format!("--rows needs sizes above 0, --repeat at least 1\n{USAGE}").into());
    }
    Ok(options)
}

/// Loads an archive (not timed); an error unless every file was applied.
fn load_applied(client: &mut Client, archive: &std::path::Path, what: &str) -> Result<()> {
    let statuses: Vec<String> = client
        .query(
            "SELECT DISTINCT status FROM sinp_import.load_archive($1::text)",
            &[&path_text(archive)?],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if statuses != ["applied"] {
        return Err(format!("{what} ended {statuses:?}").into());
    }
    Ok(())
}

/// The loaded target of one size: the extension, the target schema, the areas, the archive.
fn load_target(options: &Options, admin: &mut Client, rows: usize) -> Result<Machine> {
    let archive = options
        .dir
        .join(format!("2020-08-26_sinp_paca_benchexport-{rows}.zip"));
    let manifest = write_synthetic_archive(
        &synth_options(rows),
        BufWriter::new(File::create(&archive)?),
    )?;
    drop(manifest);
    drop_database(admin, LOADED_DB)?;
    admin.batch_execute(&format!("CREATE DATABASE {LOADED_DB}"))?;
    let mut client = install_extension(&options.server, LOADED_DB)?;
    client.batch_execute(AREAS_SQL)?;
    client.batch_execute(REFERENTIALS_SQL)?;
    client.batch_execute("ANALYZE ref_geo.l_areas")?;
    let start = Instant::now();
    load_applied(&mut client, &archive, &format!("the load of {rows} rows"))?;
    eprintln!(
        "sinp-bench-export: {rows} rows loaded in {:.1} s (not timed)",
        start.elapsed().as_secs_f64()
    );
    client.batch_execute("VACUUM ANALYZE")?;
    remove_file_if_any(&archive);
    describe_machine(&mut client)
}

struct Run {
    seconds: f64,
    bytes: u64,
    memory: Option<PeakMemory>,
}

fn timed_export(options: &Options, rows: usize, n: usize) -> Result<Run> {
    let path = options
        .dir
        .join(format!("2026-12-01_sinp_paca_benchexport-{rows}-{n}.zip"));
    remove_file_if_any(&path);
    let mut client = options.server.connect(LOADED_DB)?;
    let pid = backend_pid(&mut client)?;
    let watch = MemoryWatch::start(pid);
    let start = Instant::now();
    let exported: i64 = client
        .query_one(
            "SELECT sum(inserted)::bigint FROM sinp_import.export_archive($1::text, include_restricted => true)",
            &[&path_text(&path)?],
        )?
        .get(0);
    let seconds = start.elapsed().as_secs_f64();
    let memory = watch.finish()?;
    if exported < rows as i64 {
        return Err(format!(
            "the export wrote {exported} rows, not the {rows} observations and their metadata"
        )
        .into());
    }
    let bytes = std::fs::metadata(&path)?.len();
    remove_file_if_any(&path);
    Ok(Run {
        seconds,
        bytes,
        memory: Some(memory),
    })
}

fn timed_copy(options: &Options, rows: usize, n: usize) -> Result<Run> {
    let path = options.dir.join(format!("benchexport-copy-{rows}-{n}.tsv"));
    remove_file_if_any(&path);
    let mut client = options.server.connect(LOADED_DB)?;
    let query = BASELINE_EXPORT_SQL
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    // COPY takes no parameters: PostgreSQL itself writes the statement, the path quoted (%L).
    let statement: String = client
        .query_one(
            "SELECT pg_catalog.format('COPY (%s) TO %L', $1::text, $2::text)",
            &[&query.trim().trim_end_matches(';'), &path_text(&path)?],
        )?
        .get(0);
    let start = Instant::now();
    let copied = client.execute(statement.as_str(), &[])?;
    let seconds = start.elapsed().as_secs_f64();
    if copied != rows as u64 {
        return Err(format!("COPY wrote {copied} rows, not {rows}").into());
    }
    let bytes = std::fs::metadata(&path)?.len();
    remove_file_if_any(&path);
    Ok(Run {
        seconds,
        bytes,
        memory: None,
    })
}

/// The differential export of a day's changes: 1 % of the rows updated, 0.1 % deleted and new,
/// loaded after the change log was installed; the median of `--repeat` exports since then.
fn timed_differential(options: &Options, rows: usize) -> Result<String> {
    let mut client = options.server.connect(LOADED_DB)?;
    client.batch_execute("SELECT sinp_import.log_changes()")?;
    let since: String = client
        .query_one("SELECT clock_timestamp()::text", &[])?
        .get(0);
    let diff = DiffOptions {
        updates: (rows / 100).max(1),
        deletes: (rows / 1000).max(1),
        inserts: (rows / 1000).max(1),
        ..DiffOptions::default()
    };
    let archive = options
        .dir
        .join(format!("2020-09-15_sinp_paca_benchexport-diff-{rows}.zip"));
    write_diff_archive(&synth_options(rows), &diff, File::create(&archive)?)?;
    let loaded = load_applied(
        &mut client,
        &archive,
        &format!("the differential load of {rows} rows"),
    );
    remove_file_if_any(&archive);
    loaded?;
    client.batch_execute("VACUUM ANALYZE")?;
    let mut seconds = Vec::new();
    let mut counts = (0, 0, 0);
    for n in 0..options.repeat {
        let path = options.dir.join(format!(
            "2026-12-02_sinp_paca_benchexport-diff-{rows}-{n}.zip"
        ));
        remove_file_if_any(&path);
        let mut client = options.server.connect(LOADED_DB)?;
        let start = Instant::now();
        let row = client.query_one(
            "SELECT sum(inserted)::bigint, sum(updated)::bigint, sum(deleted)::bigint
               FROM sinp_import.export_archive($1::text, since => $2::text::timestamptz, include_restricted => true)",
            &[&path_text(&path)?, &since],
        )?;
        seconds.push(start.elapsed().as_secs_f64());
        counts = (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2),
        );
        println!(
            "  differential run {n}: {:.3} s ({} I, {} U, {} D rows)",
            seconds[n], counts.0, counts.1, counts.2
        );
        remove_file_if_any(&path);
    }
    if counts.2 < diff.deletes as i64 || counts.0 < diff.inserts as i64 {
        return Err(format!(
            "the differential export carried {counts:?}, not the changes {diff:?}"
        )
        .into());
    }
    Ok(format!(
        "BENCH_EXPORT_DIFF rows={rows} inserted={} updated={} deleted={} export_s={:.3}",
        counts.0,
        counts.1,
        counts.2,
        median(seconds.into_iter())
    ))
}

fn bench_size(options: &Options, admin: &mut Client, rows: usize) -> Result<(Machine, String)> {
    let machine = load_target(options, admin, rows)?;
    let (mut exports, mut copies) = (Vec::new(), Vec::new());
    for n in 0..options.repeat {
        let export = timed_export(options, rows, n)?;
        let copy = timed_copy(options, rows, n)?;
        let memory = export.memory.as_ref().expect("an export's memory is read");
        println!(
            "  run {n}: export {:.3} s ({:.1} MB, peak_rss {:.0} MB, private {:.0} MB), COPY TO {:.3} s ({:.1} MB)",
            export.seconds,
            export.bytes as f64 / 1e6,
            kb_to_mb(memory.rss_kb),
            kb_to_mb(memory.private_kb),
            copy.seconds,
            copy.bytes as f64 / 1e6
        );
        exports.push(export);
        copies.push(copy);
    }
    let export_s = median(exports.iter().map(|r| r.seconds));
    let copy_s = median(copies.iter().map(|r| r.seconds));
    let peak = exports
        .iter()
        .filter_map(|r| r.memory.as_ref())
        .map(|m| m.rss_kb)
        .max()
        .unwrap_or(0);
    let private = exports
        .iter()
        .filter_map(|r| r.memory.as_ref())
        .map(|m| m.private_kb)
        .max()
        .unwrap_or(0);
    let differential = timed_differential(options, rows)?;
    Ok((
        machine,
        format!(
            "BENCH_EXPORT rows={rows} export_s={export_s:.3} copy_s={copy_s:.3} ratio={:.3} peak_rss_mb={:.0} private_mb={:.0}\n{differential}",
            export_s / copy_s,
            kb_to_mb(peak),
            kb_to_mb(private)
        ),
    ))
}

fn run(options: &Options, admin: &mut Client) -> Result<()> {
    prepare_dir(&options.dir)?;
    drop_databases_named(admin, DB_PREFIX)?;
    let mut lines = Vec::new();
    for &rows in &options.rows {
        println!("# {rows} observations, {} runs each", options.repeat);
        let (machine, line) = bench_size(options, admin, rows)?;
        if lines.is_empty() {
            print_machine_lines(&machine, &options.server);
        }
        lines.push(line);
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.first().map(String::as_str), Some("-h" | "--help")) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("sinp-bench-export: {e}");
            return ExitCode::from(2);
        }
    };
    let mut admin = match options.server.connect("postgres") {
        Ok(client) => client,
        Err(e) => {
            eprintln!("sinp-bench-export: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = run(&options, &mut admin);
    drop(admin);
    if let Err(e) = cleanup_databases(&options.server, DB_PREFIX) {
        eprintln!(
            "sinp-bench-export: cleaning up the {DB_PREFIX}* databases: {}",
            error_chain(e.as_ref())
        );
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sinp-bench-export: {}", error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
