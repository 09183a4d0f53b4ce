//! sinp-bench-diff: the benchmark of nightly differential loads, `make bench-diff`
//! (docs/benchmarks.md).
//!
//! ```text
//! sinp-bench-diff [--rows "100000 1000000"] [--repeat 3] [--dir /var/tmp/sinp_bench_diff]
//!                 [--updates 10000] [--deletes 1000] [--inserts 1000] [--keep no] [--template DB]
//!                 [--host /var/run/postgresql] [--port 5432] [--user postgres]
//! ```
//!
//! For each base size it writes, with the project's generator, the synthetic base archive (the
//! shape of `make bench`: 50 datasets, 500 users, area-only rows attached to communes), its
//! differential archive (`sinp_bench::write_diff_archive`: U rows with newer versions and changed
//! values, a fifth of them moved, D rows, new I rows, spread over the base) and the same rows as
//! an initial archive (`write_diff_initial_archive`). It loads the base once into a copy of the
//! template (not timed; then `VACUUM ANALYZE`, as autovacuum would have done long before a
//! nightly load), and then, `--repeat` times each, interleaved:
//!
//! * **diff**: `load_archive(diff)` on a fresh copy of the loaded base (`STRATEGY FILE_COPY`),
//!   one fresh connection, after a `CHECKPOINT`; the result must count every U row updated,
//!   every D row deleted and every I row inserted;
//! * **initial**: `load_archive(initial)` on a fresh copy of the empty template: the same rows
//!   into an empty target, every one inserted.
//!
//! Each with the backend's peak memory (`VmHWM`) and the time of every NOTICE step. It prints the
//! machine, the runs, a table, and
//! `BENCH_DIFF base=<n> diff_rows=<m> load_s=<x> peak_rss_mb=<y>` per size,
//! `BENCH_DIFF_INITIAL rows=<m> load_s=<x>` (the rows of the largest base's differential archive),
//! `diff_cost_ratio=<largest / smallest diff load>` and `diff_vs_initial=<largest diff / initial>`.
//!
//! Run it as the postgres OS user. Databases named `sinp_benchdiff_*` are dropped at start and
//! end; the archives in `--dir` are removed at the end. With `--keep yes`, the template, the
//! loaded bases (`sinp_benchdiff_base_<rows>`) and the archives stay, for profiling a load by
//! hand. `--template DB` copies an existing database as the template instead of building one (the
//! extension, the target schema and the areas already there): a build whose SQL script is no longer
//! the installed one can still be measured, its library named by PGOPTIONS' dynamic_library_path.
//! `PGOPTIONS` is passed to every connection.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use postgres::Client;
use sinp_bench::{
    write_diff_archive, write_diff_initial_archive, write_synthetic_archive, DiffManifest,
    DiffOptions, Manifest,
};

#[path = "../driver.rs"]
mod driver;
use driver::*;

const USAGE: &str = "usage:
  sinp-bench-diff [--rows \"100000 1000000\"] [--repeat 3] [--dir /var/tmp/sinp_bench_diff]
                  [--updates 10000] [--deletes 1000] [--inserts 1000] [--keep no] [--template DB]
                  [--host /var/run/postgresql] [--port 5432] [--user postgres]

Run as the postgres OS user, on the database server's machine. PGOPTIONS, if set, is passed
to every connection. See docs/benchmarks.md.";

/// Every database the driver creates starts with this prefix; all are dropped at start and end.
const DB_PREFIX: &str = "sinp_benchdiff_";
/// Extension, target schema and areas.
const TEMPLATE_DB: &str = "sinp_benchdiff_template";
/// The template with the base archive of `rows` rows loaded: what every differential run is
/// copied from.
fn base_db(rows: usize) -> String {
    format!("sinp_benchdiff_base_{rows}")
}
/// The database of one measured run, dropped after it.
const RUN_DB: &str = "sinp_benchdiff_run";

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

struct Options {
    rows: Vec<usize>,
    repeat: usize,
    dir: PathBuf,
    diff: DiffOptions,
    /// Leave the template, the loaded bases and the archives at the end.
    keep: bool,
    /// A database to copy as the template instead of building one.
    template: Option<String>,
    server: Server,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        rows: vec![100_000, 1_000_000],
        repeat: 3,
        dir: PathBuf::from("/var/tmp/sinp_bench_diff"),
        diff: DiffOptions::default(),
        keep: false,
        template: None,
        server: Server::from_env("sinp-bench-diff"),
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
            "--updates" => options.diff.updates = parse_count(flag, value)?,
            "--deletes" => options.diff.deletes = parse_count(flag, value)?,
            "--inserts" => options.diff.inserts = parse_count(flag, value)?,
            "--template" => options.template = Some(value.to_string()),
            "--keep" => {
                options.keep = match value {
                    "yes" | "true" => true,
                    "no" | "false" => false,
                    _ => return Err(format!("--keep: yes or no, not {value}").into()),
                }
            }
            "--host" => options.server.host = value.to_string(),
            "--port" => options.server.port = parse_count(flag, value)?.try_into()?,
            "--user" => options.server.user = value.to_string(),
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }
    let touched = options.diff.updates + options.diff.deletes;
    if options.rows.is_empty() || options.rows.iter().any(|&n| n < touched.max(1)) {
        return Err(format!(
            "--rows needs one or more sizes of at least {touched} rows (the U and D rows are distinct base rows)\n{USAGE}"
        )
        .into());
    }
    if options.repeat == 0 {
        return Err(format!("--repeat must be at least 1\n{USAGE}").into());
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------------
// The archives and databases
// ---------------------------------------------------------------------------------------------

fn base_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("2020-08-26_sinp_paca_benchdiff-base-{rows}.zip"))
}

fn diff_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("2020-09-15_sinp_paca_benchdiff-diff-{rows}.zip"))
}

fn initial_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("2020-09-15_sinp_paca_benchdiff-initial-{rows}.zip"))
}

fn remove_archives(dir: &Path, rows: usize) {
    remove_file_if_any(&base_path(dir, rows));
    remove_file_if_any(&diff_path(dir, rows));
    remove_file_if_any(&initial_path(dir, rows));
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

struct Archives {
    base: Manifest,
    diff: DiffManifest,
}

fn write_archives(options: &Options, rows: usize) -> Result<Archives> {
    let base_options = synth_options(rows);
    let base = write_synthetic_archive(&base_options, create(&base_path(&options.dir, rows))?)?;
    let diff = write_diff_archive(
        &base_options,
        &options.diff,
        create(&diff_path(&options.dir, rows))?,
    )?;
    write_diff_initial_archive(
        &base_options,
        &options.diff,
        create(&initial_path(&options.dir, rows))?,
    )?;
    Ok(Archives { base, diff })
}

/// `sinp_benchdiff_template`: the extension, the target schema and the areas of `make bench`
/// (or a copy of `from`, which has them).
fn build_template(
    server: &Server,
    admin: &mut Client,
    from: Option<&str>,
) -> Result<(Machine, i64)> {
    let mut client = match from {
        Some(from) => {
            if from.starts_with(DB_PREFIX) {
                return Err(format!(
                    "--template {from}: the driver drops the {DB_PREFIX}* databases; rename it"
                )
                .into());
            }
            copy_database(admin, from, TEMPLATE_DB)?;
            let mut client = server.connect(TEMPLATE_DB)?;
            // idempotent (it creates what is missing); loads the library, for describe_machine
            client.batch_execute("SELECT sinp_import.create_target_schema()")?;
            client
        }
        None => {
            drop_database(admin, TEMPLATE_DB)?;
            admin.batch_execute(&format!("CREATE DATABASE {TEMPLATE_DB}"))?;
            let mut client = install_extension(server, TEMPLATE_DB)?;
            client.batch_execute(AREAS_SQL)?;
            client.batch_execute(REFERENTIALS_SQL)?;
            client.batch_execute("ANALYZE ref_geo.l_areas")?;
            client
        }
    };
    let areas: i64 = client
        .query_one("SELECT count(*) FROM ref_geo.l_areas WHERE enable", &[])?
        .get(0);
    Ok((describe_machine(&mut client)?, areas))
}

/// One entity row of load_archive's result.
struct Counts {
    entity: String,
    status: String,
    inserted: i64,
    updated: i64,
    deleted: i64,
    unchanged: i64,
    rejected: i64,
}

impl Counts {
    fn describe(&self) -> String {
        format!(
            "{} {}: inserted {}, updated {}, deleted {}, unchanged {}, rejected {}",
            self.entity,
            self.status,
            self.inserted,
            self.updated,
            self.deleted,
            self.unchanged,
            self.rejected
        )
    }
}

/// One timed load_archive.
struct LoadRun {
    seconds: f64,
    memory: PeakMemory,
    steps: Vec<Step>,
    synthese: Counts,
    /// Rows of gn_synthese.synthese and cor_area_synthese after the load.
    observations: i64,
    area_links: i64,
    /// The problems the journal kept for the load: `CODE×count`, by code.
    problems: String,
    /// WAL the load wrote (full-page images included: the run starts after a CHECKPOINT).
    wal_mb: f64,
}

/// `load_archive(archive)` in `db` (fresh connection, after a CHECKPOINT); every entity must be
/// applied and the synthese counted as `expected` (inserted, updated, deleted), else an error
/// with the load's NOTICEs and WARNINGs: a benchmark of a rejected load measures nothing.
fn timed_load(
    server: &Server,
    db: &str,
    archive: &Path,
    expected: (i64, i64, i64),
) -> Result<LoadRun> {
    let log = NoticeLog::default();
    let mut client = server.connect_logged(db, &log)?;
    let pid = backend_pid(&mut client)?;
    client.batch_execute("CHECKPOINT")?;
    let wal_before: String = client
        .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])?
        .get(0);
    log.take();

    let watch = MemoryWatch::start(pid);
    let start = Instant::now();
    let result = client.query(
        "SELECT entity, status, inserted, updated, deleted, unchanged, rejected, import_id
           FROM sinp_import.load_archive($1::text)",
        &[&path_text(archive)?],
    );
    let seconds = start.elapsed().as_secs_f64();
    let memory = watch.finish();
    let notices = log.take();
    let messages = || {
        notices
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let rows = result.map_err(|e| format!("{}\n{}", error_chain(&e), messages()))?;
    let memory = memory?;
    let import_id: Option<i64> = rows.first().map(|r| r.get(7));
    let counts: Vec<Counts> = rows
        .iter()
        .map(|r| Counts {
            entity: r.get(0),
            status: r.get(1),
            inserted: r.get(2),
            updated: r.get(3),
            deleted: r.get(4),
            unchanged: r.get(5),
            rejected: r.get(6),
        })
        .collect();
    let all = || {
        counts
            .iter()
            .map(Counts::describe)
            .collect::<Vec<_>>()
            .join("; ")
    };
    if let Some(bad) = counts.iter().find(|c| c.status != "applied") {
        return Err(format!(
            "{}: {}, expected applied ({})\n{}",
            archive.display(),
            bad.describe(),
            all(),
            messages()
        )
        .into());
    }
    let synthese = counts
        .into_iter()
        .find(|c| c.entity == "synthese")
        .ok_or_else(|| format!("{}: no synthese in the result", archive.display()))?;
    if (synthese.inserted, synthese.updated, synthese.deleted) != expected
        || synthese.unchanged != 0
        || synthese.rejected != 0
    {
        return Err(format!(
            "{}: {}; expected inserted {}, updated {}, deleted {}, nothing unchanged or rejected\n{}",
            archive.display(),
            synthese.describe(),
            expected.0,
            expected.1,
            expected.2,
            messages()
        )
        .into());
    }
    let row = client.query_one(
        "SELECT (SELECT count(*) FROM gn_synthese.synthese),
                (SELECT count(*) FROM gn_synthese.cor_area_synthese),
                (SELECT coalesce(string_agg(code || '×' || n, ', ' ORDER BY code), 'none')
                   FROM (SELECT severity || ' ' || code AS code, count(*) AS n
                           FROM sinp_import.import_errors WHERE import_id = $1
                          GROUP BY 1) AS p),
                (pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $2::text::pg_lsn) / 1048576.0)::float8",
        &[&import_id, &wal_before],
    )?;
    Ok(LoadRun {
        seconds,
        memory,
        steps: steps_from(start, notices),
        synthese,
        observations: row.get(0),
        area_links: row.get(1),
        problems: row.get(2),
        wal_mb: row.get(3),
    })
}

/// The base archive loaded into `base_db(rows)` (a copy of the template), then vacuumed and
/// analyzed.
/// Returns the load's and the vacuum's seconds.
fn load_base(
    server: &Server,
    admin: &mut Client,
    archive: &Path,
    rows: usize,
) -> Result<(LoadRun, f64)> {
    let base = base_db(rows);
    copy_database(admin, TEMPLATE_DB, &base)?;
    let load = timed_load(server, &base, archive, (rows as i64, 0, 0))?;
    let mut client = server.connect(&base)?;
    let start = Instant::now();
    // What autovacuum does after a load, long before the next night's: statistics, visibility
    // map and hint bits, so that no run pays for them on its copy.
    client.batch_execute("VACUUM (ANALYZE)")?;
    let vacuum_s = start.elapsed().as_secs_f64();
    drop(client);
    admin.batch_execute("CHECKPOINT")?;
    Ok((load, vacuum_s))
}

// ---------------------------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------------------------

struct SizeResult {
    rows: usize,
    archives: Archives,
    base_load: LoadRun,
    vacuum_s: f64,
    diffs: Vec<LoadRun>,
    initials: Vec<LoadRun>,
}

/// The run whose time is the median (the first of two middles).
fn median_run(runs: &[LoadRun]) -> &LoadRun {
    let mut order: Vec<&LoadRun> = runs.iter().collect();
    order.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    order[(order.len() - 1) / 2]
}

impl SizeResult {
    fn diff_s(&self) -> f64 {
        median(self.diffs.iter().map(|r| r.seconds))
    }

    fn initial_s(&self) -> f64 {
        median(self.initials.iter().map(|r| r.seconds))
    }

    fn diff_rss_mb(&self) -> f64 {
        median(self.diffs.iter().map(|r| kb_to_mb(r.memory.rss_kb)))
    }

    fn initial_rss_mb(&self) -> f64 {
        median(self.initials.iter().map(|r| kb_to_mb(r.memory.rss_kb)))
    }

    fn diff_private_mb(&self) -> f64 {
        median(self.diffs.iter().map(|r| kb_to_mb(r.memory.private_kb)))
    }

    fn bench_line(&self, diff_rows: usize) -> String {
        format!(
            "BENCH_DIFF base={} diff_rows={diff_rows} load_s={:.3} peak_rss_mb={:.1}",
            self.rows,
            self.diff_s(),
            self.diff_rss_mb()
        )
    }
}

fn progress(rows: usize, what: String) {
    eprintln!("sinp-bench-diff: [base {rows}] {what}");
}

fn bench_size(options: &Options, admin: &mut Client, rows: usize) -> Result<SizeResult> {
    let server = &options.server;
    let diff = &options.diff;
    let started = Instant::now();
    let archives = write_archives(options, rows)?;
    progress(
        rows,
        format!(
            "archives written in {:.1} s: base {}, diff {}",
            started.elapsed().as_secs_f64(),
            archives.base.to_json(),
            archives.diff.to_json()
        ),
    );
    let (base_load, vacuum_s) = load_base(server, admin, &base_path(&options.dir, rows), rows)?;
    progress(
        rows,
        format!(
            "base loaded in {:.1} s ({} observations, {} area links), VACUUM ANALYZE {:.1} s",
            base_load.seconds, base_load.observations, base_load.area_links, vacuum_s
        ),
    );
    let expected_diff = (
        diff.inserts as i64,
        diff.updates as i64,
        diff.deletes as i64,
    );
    let expected_initial = (diff.rows() as i64, 0, 0);
    let mut result = SizeResult {
        rows,
        archives,
        base_load,
        vacuum_s,
        diffs: Vec::new(),
        initials: Vec::new(),
    };
    for run in 1..=options.repeat {
        copy_database_by_files(admin, &base_db(rows), RUN_DB)?;
        let load = timed_load(
            server,
            RUN_DB,
            &diff_path(&options.dir, rows),
            expected_diff,
        )?;
        let expected_rows = (rows + diff.inserts - diff.deletes) as i64;
        if load.observations != expected_rows {
            return Err(format!(
                "after the differential load: {} observations, expected {expected_rows}",
                load.observations
            )
            .into());
        }
        drop_database(admin, RUN_DB)?;
        progress(
            rows,
            format!(
                "diff {run}/{}: {:.3} s, peak RSS {:.1} MB ({})",
                options.repeat,
                load.seconds,
                kb_to_mb(load.memory.rss_kb),
                load.synthese.describe()
            ),
        );
        result.diffs.push(load);

        copy_database(admin, TEMPLATE_DB, RUN_DB)?;
        let load = timed_load(
            server,
            RUN_DB,
            &initial_path(&options.dir, rows),
            expected_initial,
        )?;
        drop_database(admin, RUN_DB)?;
        progress(
            rows,
            format!(
                "initial {run}/{}: {:.3} s, peak RSS {:.1} MB",
                options.repeat,
                load.seconds,
                kb_to_mb(load.memory.rss_kb)
            ),
        );
        result.initials.push(load);
    }
    if !options.keep {
        drop_database(admin, &base_db(rows))?;
        remove_archives(&options.dir, rows);
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn print_header(machine: &Machine, areas: i64, options: &Options) {
    println!("# sinp-bench-diff");
    print_machine_lines(machine, &options.server);
    println!(
        "base:       synthetic archives of {DATASETS} datasets, {USERS} users, {ORGANISMS} organisms, \
         {ACQUISITION_FRAMEWORKS} acquisition frameworks; area-only rows attached to {COMMUNES} communes; \
         loaded once per size, then VACUUM ANALYZE"
    );
    println!(
        "diff:       {} U (a fifth with a moved geometry), {} D, {} I rows; initial: the same {} rows, all I, into the empty template",
        options.diff.updates,
        options.diff.deletes,
        options.diff.inserts,
        options.diff.rows()
    );
    println!("target:     {areas} enabled areas (DEP, COM 5 km, M10, M1 grids)");
    if let Some(from) = &options.template {
        println!("template:   a copy of the database {from}");
    }
    println!("repeat:     {} (medians reported)", options.repeat);
    println!();
}

fn print_size_details(r: &SizeResult, diff_rows: usize) {
    println!("## base {} rows", r.rows);
    println!("base archive:      {}", r.archives.base.to_json());
    println!("diff archive:      {}", r.archives.diff.to_json());
    println!(
        "base load:         {:.3} s ({} observations, {} area links); VACUUM ANALYZE {:.3} s",
        r.base_load.seconds, r.base_load.observations, r.base_load.area_links, r.vacuum_s
    );
    println!(
        "diff load s:       {}",
        list(r.diffs.iter().map(|l| l.seconds), 3)
    );
    println!(
        "initial load s:    {}",
        list(r.initials.iter().map(|l| l.seconds), 3)
    );
    print_memory("diff MB:", r.diffs.iter().map(|l| l.memory));
    print_memory("initial MB:", r.initials.iter().map(|l| l.memory));
    println!(
        "WAL MB:            diff {}  initial {}",
        list(r.diffs.iter().map(|l| l.wal_mb), 1),
        list(r.initials.iter().map(|l| l.wal_mb), 1)
    );
    let diff = median_run(&r.diffs);
    println!(
        "diff result:       {}; then {} observations, {} area links",
        diff.synthese.describe(),
        diff.observations,
        diff.area_links
    );
    print_notice_steps("base load steps:", &r.base_load.steps, r.base_load.seconds);
    println!("diff problems:     {}", diff.problems);
    print_notice_steps("diff steps (median run):", &diff.steps, diff.seconds);
    let initial = median_run(&r.initials);
    println!("initial problems:  {}", initial.problems);
    print_notice_steps(
        "initial steps (median run):",
        &initial.steps,
        initial.seconds,
    );
    println!();
    println!("{}", r.bench_line(diff_rows));
    println!();
}

fn print_table(results: &[SizeResult]) {
    println!(
        "| base rows | diff load s | initial load of the same rows s | diff / initial | peak RSS MB (diff) | peak private MB (diff) | peak RSS MB (initial) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} |",
            r.rows,
            r.diff_s(),
            r.initial_s(),
            r.diff_s() / r.initial_s(),
            r.diff_rss_mb(),
            r.diff_private_mb(),
            r.initial_rss_mb()
        );
    }
    println!();
}

/// The closing lines: one BENCH_DIFF per size, the initial load of the largest size's rows, and
/// the two ratios (largest against smallest base; largest diff against that initial load).
fn summary_lines(results: &[SizeResult], diff_rows: usize) -> Vec<String> {
    let mut lines: Vec<String> = results.iter().map(|r| r.bench_line(diff_rows)).collect();
    let smallest = results.iter().min_by_key(|r| r.rows);
    let largest = results.iter().max_by_key(|r| r.rows);
    if let (Some(smallest), Some(largest)) = (smallest, largest) {
        lines.push(format!(
            "BENCH_DIFF_INITIAL rows={diff_rows} load_s={:.3}",
            largest.initial_s()
        ));
        if results.len() > 1 {
            lines.push(format!(
                "diff_cost_ratio={:.3}",
                largest.diff_s() / smallest.diff_s()
            ));
        }
        lines.push(format!(
            "diff_vs_initial={:.3}",
            largest.diff_s() / largest.initial_s()
        ));
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn run(options: &Options, admin: &mut Client) -> Result<()> {
    prepare_dir(&options.dir)?;
    drop_databases_named(admin, DB_PREFIX)?;
    let (machine, areas) = build_template(&options.server, admin, options.template.as_deref())?;
    print_header(&machine, areas, options);
    let replaced = || machine.library.as_ref().is_some_and(Library::replaced);
    let diff_rows = options.diff.rows();
    let mut results = Vec::new();
    for &rows in &options.rows {
        let result = bench_size(options, admin, rows).map_err(|e| {
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
        print_size_details(&result, diff_rows);
        results.push(result);
    }
    print_table(&results);
    for line in summary_lines(&results, diff_rows) {
        println!("{line}");
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
            eprintln!("sinp-bench-diff: {e}");
            return ExitCode::from(2);
        }
    };
    let mut admin = match options.server.connect("postgres") {
        Ok(client) => client,
        Err(e) => {
            eprintln!("sinp-bench-diff: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = run(&options, &mut admin);
    if options.keep {
        if let Err(e) = drop_database(&mut admin, RUN_DB) {
            eprintln!("sinp-bench-diff: {}", error_chain(e.as_ref()));
        }
        drop(admin);
    } else {
        drop(admin);
        if let Err(e) = cleanup_databases(&options.server, DB_PREFIX) {
            eprintln!(
                "sinp-bench-diff: cleaning up the {DB_PREFIX}* databases: {}",
                error_chain(e.as_ref())
            );
        }
        for &rows in &options.rows {
            remove_archives(&options.dir, rows);
        }
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sinp-bench-diff: {}", error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sizes_must_hold_the_updates_and_deletes() {
        let options = parse_args(&args(&["--rows", "20000, 1_000_000", "--repeat", "1"])).unwrap();
        assert_eq!(options.rows, vec![20_000, 1_000_000]);
        assert_eq!(options.diff.rows(), 12_000);
        assert!(parse_args(&args(&["--rows", "10000"])).is_err());
        let small = parse_args(&args(&[
            "--rows",
            "10000",
            "--updates",
            "1000",
            "--deletes",
            "100",
            "--inserts",
            "100",
        ]))
        .unwrap();
        assert_eq!(small.diff.rows(), 1_200);
    }

    #[test]
    fn summary_has_the_ratios() {
        let run = |seconds: f64| LoadRun {
            seconds,
            memory: PeakMemory {
                rss_kb: 1024,
                private_kb: 512,
            },
            steps: Vec::new(),
            synthese: Counts {
                entity: "synthese".into(),
                status: "applied".into(),
                inserted: 0,
                updated: 0,
                deleted: 0,
                unchanged: 0,
                rejected: 0,
            },
            observations: 0,
            area_links: 0,
            problems: String::new(),
            wal_mb: 0.0,
        };
        let size = |rows: usize, diff: f64, initial: f64| SizeResult {
            rows,
            archives: Archives {
                base: Manifest::default(),
                diff: DiffManifest::default(),
            },
            base_load: run(0.0),
            vacuum_s: 0.0,
            diffs: vec![run(diff), run(diff + 1.0), run(diff - 1.0)],
            initials: vec![run(initial)],
        };
        let lines = summary_lines(
            &[size(100_000, 4.0, 2.0), size(1_000_000, 5.0, 2.5)],
            12_000,
        );
        assert_eq!(
            lines,
            [
                "BENCH_DIFF base=100000 diff_rows=12000 load_s=4.000 peak_rss_mb=1.0",
                "BENCH_DIFF base=1000000 diff_rows=12000 load_s=5.000 peak_rss_mb=1.0",
                "BENCH_DIFF_INITIAL rows=12000 load_s=2.500",
                "diff_cost_ratio=1.250",
                "diff_vs_initial=2.000",
            ]
        );
    }
}
