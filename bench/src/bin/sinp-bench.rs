//! sinp-bench: the benchmark driver of `make bench` (docs/benchmarks.md).
//!
//! ```text
//! sinp-bench [--rows "100000 1000000"] [--repeat 3] [--dir /var/tmp/sinp_bench]
//!            [--host /var/run/postgresql] [--port 5432] [--user postgres]
//! ```
//!
//! For each size it writes a synthetic archive with the project's generator (all six files, 50
//! datasets, 500 users, area-only rows attached to communes), then measures, `--repeat` times each
//! (medians reported), interleaved so that the machine's noise spreads over all of them:
//!
//! * **load**: `sinp_import.load_archive(path)` on a fresh copy of a template database (target
//!   schema and 2 626 areas), one fresh connection per run; the backend's peak resident memory
//!   (`VmHWM` of /proc/<pid>/status) and its private memory (`RssAnon`, sampled) during the load;
//! * **baseline**: the rows the first load wrote, exported with `COPY ... TO` (text format) and
//!   loaded with `COPY ... FROM` into an empty copy of `gn_synthese.synthese` (same indexes and
//!   constraints, no triggers), plus the loader's set-based area-link insert over all rows;
//! * **validate**: `sinp_import.validate_archive(path)`, or `load_archive(path, dry_run => true)`
//!   while the extension has no `validate_archive(text)`;
//! * **bare parse**: synthese.csv streamed out of the ZIP and read with the csv crate, here.
//!
//! It prints the machine, a table, and one line per size:
//! `BENCH rows=<n> load_s=<x> copy_s=<y> ratio=<x/y> validate_ratio=<v> peak_rss_mb=<m>`.
//!
//! Run it as the postgres OS user (peer authentication over the Unix socket, server-side COPY
//! files, /proc of the backend). Databases named `sinp_bench_*` are dropped at start and end.
//! `PGOPTIONS` is passed to every connection, as libpq does (e.g. `-c jit=off`, or
//! `-c dynamic_library_path=DIR:$libdir` to measure a sinp_import.so that is not installed).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use postgres::Client;
use sinp_bench::{write_synthetic_archive, Manifest};

#[path = "../driver.rs"]
mod driver;
use driver::*;

const USAGE: &str = "usage:
  sinp-bench [--rows \"100000 1000000\"] [--repeat 3] [--dir /var/tmp/sinp_bench]
             [--host /var/run/postgresql] [--port 5432] [--user postgres]

Run as the postgres OS user, on the database server's machine. PGOPTIONS, if set, is passed
to every connection. See docs/benchmarks.md.";

/// Every database the driver creates starts with this prefix; all are dropped at start and end.
const DB_PREFIX: &str = "sinp_bench_";
/// Extension, target schema and areas: what every measured database is copied from.
const TEMPLATE_DB: &str = "sinp_bench_template";
/// After the first load of a size: its datasets, sources, users, an empty synthese and the
/// baseline's tables; what the baseline runs are copied from.
const LOADED_DB: &str = "sinp_bench_loaded";
/// The database of one measured run, dropped after it.
const RUN_DB: &str = "sinp_bench_run";

const BASELINE_TABLES_SQL: &str = include_str!("../../sql/baseline_tables.sql");
const BASELINE_AREA_LINKS_SQL: &str = include_str!("../../sql/baseline_area_links.sql");
/// Ids per area-link statement in the baseline: the loader's batch (POST_BATCH in src/load).
const AREA_LINK_BATCH: i64 = 50_000;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

struct Options {
    rows: Vec<usize>,
    repeat: usize,
    dir: PathBuf,
    server: Server,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        rows: vec![100_000, 1_000_000],
        repeat: 3,
        dir: PathBuf::from("/var/tmp/sinp_bench"),
        server: Server::from_env("sinp-bench"),
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
    if options.rows.is_empty() || options.rows.contains(&0) {
        return Err(format!("--rows needs one or more positive sizes\n{USAGE}").into());
    }
    if options.repeat == 0 {
        return Err(format!("--repeat must be at least 1\n{USAGE}").into());
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------------
// The template database
// ---------------------------------------------------------------------------------------------

/// What the driver measures as "validate".
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValidateCall {
    ValidateArchive,
    DryRunLoad,
}

impl ValidateCall {
    fn sql(self) -> &'static str {
        match self {
            ValidateCall::ValidateArchive => "SELECT * FROM sinp_import.validate_archive($1::text)",
            ValidateCall::DryRunLoad => {
                "SELECT * FROM sinp_import.load_archive($1::text, dry_run => true)"
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ValidateCall::ValidateArchive => "sinp_import.validate_archive(path)",
            ValidateCall::DryRunLoad => {
                "sinp_import.load_archive(path, dry_run => true) -- validate_archive(text) does not exist yet"
            }
        }
    }
}

/// Builds `sinp_bench_template`; returns what "validate" will call, the machine and the number
/// of areas.
fn build_template(server: &Server, admin: &mut Client) -> Result<(ValidateCall, Machine, i64)> {
    drop_database(admin, TEMPLATE_DB)?;
    admin.batch_execute(&format!("CREATE DATABASE {TEMPLATE_DB}"))?;
    let mut client = install_extension(server, TEMPLATE_DB)?;
    client.batch_execute(AREAS_SQL)?;
    client.batch_execute(REFERENTIALS_SQL)?;
    // What autovacuum would do after the areas' insert. Nothing else is vacuumed or analyzed: the
    // target stays as create_target_schema() leaves it (a VACUUM would tell the planner that the
    // synthese is empty, and change the loader's plans).
    client.batch_execute("ANALYZE ref_geo.l_areas")?;
    let areas: i64 = client
        .query_one("SELECT count(*) FROM ref_geo.l_areas WHERE enable", &[])?
        .get(0);
    let has_validate: bool = client
        .query_one(
            "SELECT to_regprocedure('sinp_import.validate_archive(text)') IS NOT NULL",
            &[],
        )?
        .get(0);
    let machine = describe_machine(&mut client)?;
    let call = if has_validate {
        ValidateCall::ValidateArchive
    } else {
        ValidateCall::DryRunLoad
    };
    Ok((call, machine, areas))
}

// ---------------------------------------------------------------------------------------------
// The archive
// ---------------------------------------------------------------------------------------------

fn archive_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("2020-08-26_sinp_paca_bench-{rows}.zip"))
}

fn copy_file_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("synthese_{rows}.copy"))
}

fn generate_archive(path: &Path, rows: usize) -> Result<Manifest> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest = write_synthetic_archive(
        &synth_options(rows),
        BufWriter::with_capacity(1 << 20, file),
    )?;
    Ok(manifest)
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

/// One `load_archive` on a fresh target.
struct LoadRun {
    seconds: f64,
    memory: PeakMemory,
    area_links: i64,
    steps: Vec<Step>,
}

/// One COPY of the same rows into an empty copy of the synthese, plus the area links.
struct BaselineRun {
    copy_s: f64,
    area_links_s: f64,
    commit_s: f64,
    area_links: u64,
    memory: PeakMemory,
}

impl BaselineRun {
    fn total_s(&self) -> f64 {
        self.copy_s + self.area_links_s + self.commit_s
    }
}

/// One validate_archive (or dry-run load).
struct ValidateRun {
    seconds: f64,
    memory: PeakMemory,
    /// Problems of severity `error` validate_archive returned (the archive is valid: 0 expected).
    errors: usize,
}

/// One bare read of synthese.csv.
struct ParseRun {
    seconds: f64,
    records: u64,
    bytes: u64,
}

/// Checks that every entity was applied (or dry-run) and that every synthese row was counted.
fn check_outcome(
    rows: &[postgres::Row],
    expected_status: &str,
    synthese_rows: usize,
    notices: &[(Instant, String)],
) -> Result<()> {
    let mut synthese_inserted = None;
    for row in rows {
        let status: String = row.get("status");
        let entity: String = row.get("entity");
        let inserted: i64 = row.get("inserted");
        if status != expected_status {
            let messages: Vec<&str> = notices.iter().map(|(_, m)| m.as_str()).collect();
            return Err(format!(
                "{entity}: status {status}, expected {expected_status}\n{}",
                messages.join("\n")
            )
            .into());
        }
        if entity == "synthese" {
            synthese_inserted = Some(inserted);
        }
    }
    if synthese_inserted != Some(synthese_rows as i64) {
        return Err(format!(
            "synthese: {synthese_inserted:?} rows inserted, expected {synthese_rows}"
        )
        .into());
    }
    Ok(())
}

/// `load_archive` on a fresh copy of the template, in `RUN_DB` (left in place for the caller).
fn measure_load(
    server: &Server,
    admin: &mut Client,
    archive: &Path,
    rows: usize,
) -> Result<LoadRun> {
    copy_database(admin, TEMPLATE_DB, RUN_DB)?;
    let log = NoticeLog::default();
    let mut client = server.connect_logged(RUN_DB, &log)?;
    let pid = backend_pid(&mut client)?;
    client.batch_execute("CHECKPOINT")?;
    log.take();

    let watch = MemoryWatch::start(pid);
    let start = Instant::now();
    let result = client.query(
        "SELECT status, entity, inserted FROM sinp_import.load_archive($1::text)",
        &[&path_text(archive)?],
    );
    let seconds = start.elapsed().as_secs_f64();
    let memory = watch.finish();
    let result_rows = result?;
    let memory = memory?;

    let notices = log.take();
    check_outcome(&result_rows, "applied", rows, &notices)?;
    let area_links: i64 = client
        .query_one("SELECT count(*) FROM gn_synthese.cor_area_synthese", &[])?
        .get(0);
    Ok(LoadRun {
        seconds,
        memory,
        area_links,
        steps: steps_from(start, notices),
    })
}

/// After the first load of a size, in `RUN_DB`: writes the synthese rows to the baseline's COPY
/// file, empties the synthese (its datasets, sources and users stay), creates the baseline's
/// tables, and keeps the database as `LOADED_DB`.
fn prepare_baseline(server: &Server, admin: &mut Client, copy_file: &Path) -> Result<()> {
    let mut client = server.connect(RUN_DB)?;
    client.batch_execute(&format!(
        "COPY gn_synthese.synthese TO {}",
        quote_literal(path_text(copy_file)?)
    ))?;
    client.batch_execute("TRUNCATE gn_synthese.synthese CASCADE")?;
    client.batch_execute(BASELINE_TABLES_SQL)?;
    drop(client);
    drop_database(admin, LOADED_DB)?;
    let rename = format!("ALTER DATABASE {RUN_DB} RENAME TO {LOADED_DB}");
    if admin.batch_execute(&rename).is_err() {
        thread::sleep(Duration::from_secs(1));
        admin.batch_execute(&rename)?;
    }
    Ok(())
}

/// `COPY bench_synthese FROM file` plus the area links, in one transaction, on a fresh copy of
/// `LOADED_DB`.
fn measure_baseline(server: &Server, admin: &mut Client, copy_file: &Path) -> Result<BaselineRun> {
    copy_database(admin, LOADED_DB, RUN_DB)?;
    let mut client = server.connect(RUN_DB)?;
    let pid = backend_pid(&mut client)?;
    client.batch_execute("CHECKPOINT")?;
    let copy_sql = format!(
        "COPY public.bench_synthese FROM {}",
        quote_literal(path_text(copy_file)?)
    );

    let watch = MemoryWatch::start(pid);
    let start = Instant::now();
    let mut transaction = client.transaction()?;
    // As the loader does for its own statements: JIT only costs time here.
    transaction.batch_execute("SET LOCAL jit = off")?;
    transaction.batch_execute(&copy_sql)?;
    let copied = Instant::now();
    let row = transaction.query_one(
        "SELECT coalesce(min(id_synthese), 0)::bigint, coalesce(max(id_synthese), -1)::bigint
           FROM public.bench_synthese",
        &[],
    )?;
    let (low, high): (i64, i64) = (row.get(0), row.get(1));
    let mut area_links = 0;
    let mut from = low;
    while from <= high {
        let to = (from + AREA_LINK_BATCH - 1).min(high);
        let batch = BASELINE_AREA_LINKS_SQL
            .replace("{from}", &from.to_string())
            .replace("{to}", &to.to_string());
        area_links += transaction.execute(batch.as_str(), &[])?;
        from = to + 1;
    }
    let linked = Instant::now();
    transaction.commit()?;
    let committed = Instant::now();
    let memory = watch.finish()?;
    drop(client);
    drop_database(admin, RUN_DB)?;
    Ok(BaselineRun {
        copy_s: (copied - start).as_secs_f64(),
        area_links_s: (linked - copied).as_secs_f64(),
        commit_s: (committed - linked).as_secs_f64(),
        area_links,
        memory,
    })
}

/// validate_archive (or a dry-run load) on a fresh copy of the template.
fn measure_validate(
    server: &Server,
    admin: &mut Client,
    archive: &Path,
    rows: usize,
    call: ValidateCall,
) -> Result<ValidateRun> {
    copy_database(admin, TEMPLATE_DB, RUN_DB)?;
    let log = NoticeLog::default();
    let mut client = server.connect_logged(RUN_DB, &log)?;
    let pid = backend_pid(&mut client)?;
    client.batch_execute("CHECKPOINT")?;
    log.take();

    let watch = MemoryWatch::start(pid);
    let start = Instant::now();
    let result = client.query(call.sql(), &[&path_text(archive)?]);
    let seconds = start.elapsed().as_secs_f64();
    let memory = watch.finish();
    let result_rows = result?;
    let memory = memory?;
    let errors = match call {
        ValidateCall::ValidateArchive => result_rows
            .iter()
            .filter(|row| row.get::<_, String>("severity") == "error")
            .count(),
        ValidateCall::DryRunLoad => {
            check_outcome(&result_rows, "dry_run", rows, &log.take())?;
            0
        }
    };
    drop(client);
    drop_database(admin, RUN_DB)?;
    Ok(ValidateRun {
        seconds,
        memory,
        errors,
    })
}

/// synthese.csv streamed out of the ZIP and read with the csv crate (tab, `"`), every field
/// touched; nothing decoded or converted.
fn measure_bare_parse(archive: &Path) -> Result<ParseRun> {
    let start = Instant::now();
    let file = File::open(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))?;
    let member = zip.by_name("synthese.csv")?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quote(b'"')
        .has_headers(true)
        .from_reader(member);
    let mut record = csv::ByteRecord::new();
    let (mut records, mut bytes) = (0u64, 0u64);
    while reader.read_byte_record(&mut record)? {
        records += 1;
        for field in record.iter() {
            bytes += field.len() as u64;
        }
    }
    Ok(ParseRun {
        seconds: start.elapsed().as_secs_f64(),
        records,
        bytes,
    })
}

// ---------------------------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------------------------

struct SizeResult {
    rows: usize,
    manifest: Manifest,
    archive_mb: f64,
    loads: Vec<LoadRun>,
    baselines: Vec<BaselineRun>,
    validates: Vec<ValidateRun>,
    parses: Vec<ParseRun>,
}

impl SizeResult {
    fn load_s(&self) -> f64 {
        median(self.loads.iter().map(|r| r.seconds))
    }

    fn copy_s(&self) -> f64 {
        median(self.baselines.iter().map(BaselineRun::total_s))
    }

    fn ratio(&self) -> f64 {
        self.load_s() / self.copy_s()
    }

    fn validate_s(&self) -> f64 {
        median(self.validates.iter().map(|r| r.seconds))
    }

    fn parse_s(&self) -> f64 {
        median(self.parses.iter().map(|r| r.seconds))
    }

    fn validate_ratio(&self) -> f64 {
        self.parse_s() / self.validate_s()
    }

    fn peak_rss_mb(&self) -> f64 {
        median(self.loads.iter().map(|r| kb_to_mb(r.memory.rss_kb)))
    }

    fn peak_anon_mb(&self) -> f64 {
        median(self.loads.iter().map(|r| kb_to_mb(r.memory.private_kb)))
    }

    /// The load whose time is the median (the first of two middles).
    fn median_load(&self) -> &LoadRun {
        let mut order: Vec<&LoadRun> = self.loads.iter().collect();
        order.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        order[(order.len() - 1) / 2]
    }

    fn bench_line(&self) -> String {
        format!(
            "BENCH rows={} load_s={:.3} copy_s={:.3} ratio={:.3} validate_ratio={:.3} peak_rss_mb={:.1}",
            self.rows,
            self.load_s(),
            self.copy_s(),
            self.ratio(),
            self.validate_ratio(),
            self.peak_rss_mb()
        )
    }
}

fn progress(rows: usize, what: String) {
    eprintln!("sinp-bench: [{rows} rows] {what}");
}

/// Every measure of one size, `repeat` times, interleaved.
fn bench_size(
    options: &Options,
    admin: &mut Client,
    rows: usize,
    call: ValidateCall,
) -> Result<SizeResult> {
    let server = &options.server;
    let archive = archive_path(&options.dir, rows);
    let copy_file = copy_file_path(&options.dir, rows);
    let started = Instant::now();
    let manifest = generate_archive(&archive, rows)?;
    let archive_mb = fs::metadata(&archive)?.len() as f64 / 1e6;
    progress(
        rows,
        format!(
            "archive {} ({archive_mb:.1} MB) written in {:.1} s",
            archive.display(),
            started.elapsed().as_secs_f64()
        ),
    );
    let mut result = SizeResult {
        rows,
        manifest,
        archive_mb,
        loads: Vec::new(),
        baselines: Vec::new(),
        validates: Vec::new(),
        parses: Vec::new(),
    };
    for run in 1..=options.repeat {
        let load = measure_load(server, admin, &archive, rows)?;
        progress(
            rows,
            format!(
                "load {run}/{}: {:.3} s, peak RSS {:.1} MB, area links {}",
                options.repeat,
                load.seconds,
                kb_to_mb(load.memory.rss_kb),
                load.area_links
            ),
        );
        if run == 1 {
            prepare_baseline(server, admin, &copy_file)?;
        } else {
            drop_database(admin, RUN_DB)?;
        }
        result.loads.push(load);

        let baseline = measure_baseline(server, admin, &copy_file)?;
        progress(
            rows,
            format!(
                "baseline {run}/{}: {:.3} s (COPY {:.3} s, area links {:.3} s, {} links)",
                options.repeat,
                baseline.total_s(),
                baseline.copy_s,
                baseline.area_links_s,
                baseline.area_links
            ),
        );
        result.baselines.push(baseline);

        let validate = measure_validate(server, admin, &archive, rows, call)?;
        progress(
            rows,
            format!(
                "validate {run}/{}: {:.3} s",
                options.repeat, validate.seconds
            ),
        );
        result.validates.push(validate);

        let parse = measure_bare_parse(&archive)?;
        progress(
            rows,
            format!(
                "bare parse {run}/{}: {:.3} s ({} records)",
                options.repeat, parse.seconds, parse.records
            ),
        );
        result.parses.push(parse);
    }
    drop_database(admin, LOADED_DB)?;
    remove_file_if_any(&copy_file);
    remove_file_if_any(&archive);
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn print_machine(machine: &Machine, areas: i64, call: ValidateCall, options: &Options) {
    println!("# sinp-bench");
    print_machine_lines(machine, &options.server);
    println!(
        "archives:   {DATASETS} datasets, {USERS} users, {ORGANISMS} organisms, \
         {ACQUISITION_FRAMEWORKS} acquisition frameworks; area-only rows attached to {COMMUNES} communes"
    );
    println!("target:     {areas} enabled areas (DEP, COM 5 km, M10, M1 grids)");
    println!("validate:   {}", call.describe());
    println!("repeat:     {} (medians reported)", options.repeat);
    println!();
}

fn print_steps(load: &LoadRun) {
    print_notice_steps("load steps (median run):", &load.steps, load.seconds);
}

fn print_size_details(r: &SizeResult) {
    let parse = r.parses.first();
    println!("## {} rows", r.rows);
    println!(
        "archive: {:.1} MB zipped, synthese.csv {:.1} MB in {} records; {}",
        r.archive_mb,
        parse.map_or(0.0, |p| p.bytes as f64 / 1e6),
        parse.map_or(0, |p| p.records),
        r.manifest.to_json()
    );
    println!(
        "load_archive s:    {}",
        list(r.loads.iter().map(|l| l.seconds), 3)
    );
    println!(
        "baseline s:        {}  (COPY {} + area links {})",
        list(r.baselines.iter().map(BaselineRun::total_s), 3),
        list(r.baselines.iter().map(|b| b.copy_s), 3),
        list(r.baselines.iter().map(|b| b.area_links_s), 3)
    );
    let validate_errors: usize = r.validates.iter().map(|v| v.errors).sum();
    println!(
        "validate s:        {}{}",
        list(r.validates.iter().map(|v| v.seconds), 3),
        if validate_errors == 0 {
            String::new()
        } else {
            format!("  (WARNING: {validate_errors} errors reported on a valid archive)")
        }
    );
    println!(
        "bare parse s:      {}",
        list(r.parses.iter().map(|p| p.seconds), 3)
    );
    print_memory("load MB:", r.loads.iter().map(|l| l.memory));
    print_memory("baseline MB:", r.baselines.iter().map(|b| b.memory));
    print_memory("validate MB:", r.validates.iter().map(|v| v.memory));
    let load = r.median_load();
    let baseline_links = r.baselines.first().map_or(0, |b| b.area_links);
    println!(
        "area links:        load {}, baseline {}{}",
        load.area_links,
        baseline_links,
        if load.area_links as u64 == baseline_links {
            ""
        } else {
            "  (DIFFERENT)"
        }
    );
    print_steps(load);
    println!();
}

fn print_table(results: &[SizeResult]) {
    println!(
        "| rows | load_archive s | COPY + area links s | ratio | validate s | bare parse s | validate_ratio | peak RSS MB | peak private MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} |",
            r.rows,
            r.load_s(),
            r.copy_s(),
            r.ratio(),
            r.validate_s(),
            r.parse_s(),
            r.validate_ratio(),
            r.peak_rss_mb(),
            r.peak_anon_mb()
        );
    }
    println!();
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn run(options: &Options, admin: &mut Client) -> Result<()> {
    prepare_dir(&options.dir)?;
    drop_databases_named(admin, DB_PREFIX)?;
    let (call, machine, areas) = build_template(&options.server, admin)?;
    print_machine(&machine, areas, call, options);
    let replaced = || machine.library.as_ref().is_some_and(Library::replaced);
    let mut results = Vec::new();
    for &rows in &options.rows {
        let result = bench_size(options, admin, rows, call).map_err(|e| {
            if replaced() {
                format!(
                    "{}\n(sinp_import.so was replaced during the run: an install of the extension \
                     crashes the backends that have it loaded; run again)",
                    error_chain(e.as_ref())
                )
                .into()
            } else {
                e
            }
        })?;
        print_size_details(&result);
        println!("{}", result.bench_line());
        println!();
        results.push(result);
    }
    print_table(&results);
    for result in &results {
        println!("{}", result.bench_line());
    }
    if replaced() {
        println!(
            "WARNING: sinp_import.so was replaced during the run: these measures mix two builds"
        );
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
            eprintln!("sinp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let mut admin = match options.server.connect("postgres") {
        Ok(client) => client,
        Err(e) => {
            eprintln!("sinp-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = run(&options, &mut admin);
    drop(admin);
    let cleanup = cleanup_databases(&options.server, DB_PREFIX);
    if let Err(e) = cleanup {
        eprintln!(
            "sinp-bench: cleaning up the sinp_bench_* databases: {}",
            error_chain(e.as_ref())
        );
    }
    for &rows in &options.rows {
        remove_file_if_any(&copy_file_path(&options.dir, rows));
        remove_file_if_any(&archive_path(&options.dir, rows));
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sinp-bench: {}", error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The baseline's area links use the loader's predicate (sql/merge.sql, "post synthese areas").
    #[test]
    fn baseline_area_predicate_is_the_loaders() {
        let merge_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/merge.sql");
        let merge = normalized(&fs::read_to_string(merge_path).expect("sql/merge.sql"));
        let post = merge
            .split("-- name: post synthese areas")
            .nth(1)
            .expect("merge.sql has post synthese areas");
        let ours = normalized(BASELINE_AREA_LINKS_SQL);
        let predicate = ours
            .split(" FROM ref_geo.l_areas AS a ")
            .nth(1)
            .expect("the baseline reads ref_geo.l_areas");
        assert!(
            post.contains(predicate),
            "the baseline's area predicate differs from sql/merge.sql's:\n{predicate}"
        );
    }

    #[test]
    fn debug_info_is_found_in_a_debug_build() {
        // Test binaries are built with the dev profile: debug info included.
        let exe = std::env::current_exe().unwrap();
        assert!(has_debug_info(&exe).unwrap());
        assert!(has_debug_info(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("Cargo.toml")
                .as_path()
        )
        .is_err());
        assert_eq!(le(&[0x34, 0x12, 0, 0], 0, 4), 0x1234);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::<f64>::new()).is_nan());
    }

    #[test]
    fn rows_accept_spaces_commas_and_underscores() {
        let args: Vec<String> = ["--rows", "20000, 1_000_000", "--repeat", "5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let options = parse_args(&args).unwrap();
        assert_eq!(options.rows, vec![20_000, 1_000_000]);
        assert_eq!(options.repeat, 5);
        assert!(parse_args(&["--rows".to_string(), "".to_string()]).is_err());
    }

    #[test]
    fn area_codes_are_the_template_communes() {
        let codes = synth_options(10).area_codes;
        assert_eq!(codes.len(), 100);
        assert!(codes.contains(&"COM.05061".to_string()));
        assert!(AREAS_SQL.contains("generate_series(0, 9) AS row, generate_series(0, 9) AS col"));
    }
}
