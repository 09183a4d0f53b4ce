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

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use postgres::{Client, Config, NoTls};
use sinp_bench::{write_synthetic_archive, Manifest, SynthOptions};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

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

const AREAS_SQL: &str = include_str!("../../sql/areas.sql");
const BASELINE_TABLES_SQL: &str = include_str!("../../sql/baseline_tables.sql");
const BASELINE_AREA_LINKS_SQL: &str = include_str!("../../sql/baseline_area_links.sql");
/// Ids per area-link statement in the baseline: the loader's batch (POST_BATCH in src/load).
const AREA_LINK_BATCH: i64 = 50_000;

/// The archives' shape besides the number of synthese rows.
const DATASETS: usize = 50;
const USERS: usize = 500;
const ORGANISMS: usize = 25;
const ACQUISITION_FRAMEWORKS: usize = 10;
/// Communes COM.05001 .. COM.05100 of bench/sql/areas.sql: the area-only rows' codes.
const COMMUNES: usize = 100;

/// How long to wait for CREATE EXTENSION while an install of the extension is under way.
const EXTENSION_ATTEMPTS: usize = 30;
const EXTENSION_RETRY_DELAY: Duration = Duration::from_secs(10);
/// How often the backend's private memory is sampled during a load.
const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

struct Options {
    rows: Vec<usize>,
    repeat: usize,
    dir: PathBuf,
    server: Server,
}

fn parse_count(flag: &str, value: &str) -> Result<usize> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {value}").into())
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        rows: vec![100_000, 1_000_000],
        repeat: 3,
        dir: PathBuf::from("/var/tmp/sinp_bench"),
        server: Server {
            host: "/var/run/postgresql".to_string(),
            port: 5432,
            user: std::env::var("USER").unwrap_or_else(|_| "postgres".to_string()),
            options: std::env::var("PGOPTIONS")
                .ok()
                .filter(|o| !o.trim().is_empty()),
        },
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
// Connections
// ---------------------------------------------------------------------------------------------

struct Server {
    host: String,
    port: u16,
    user: String,
    /// Server options for every connection, from PGOPTIONS as libpq reads it (e.g.
    /// `-c jit=off`, or `-c dynamic_library_path=DIR:$libdir` to measure an uninstalled build).
    options: Option<String>,
}

/// The NOTICE and WARNING messages a connection received, with the time each arrived.
#[derive(Clone, Default)]
struct NoticeLog {
    entries: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl NoticeLog {
    fn record(&self, message: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.push((Instant::now(), message));
    }

    fn take(&self) -> Vec<(Instant, String)> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Server {
    fn config(&self, db: &str) -> Config {
        let mut config = Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(db)
            .application_name("sinp-bench");
        if let Some(options) = &self.options {
            config.options(options);
        }
        config
    }

    /// A connection whose notices are dropped.
    fn connect(&self, db: &str) -> Result<Client> {
        let mut config = self.config(db);
        config.notice_callback(|_| {});
        config.connect(NoTls).map_err(|e| {
            format!(
                "connecting to {db} on {} as {}: {} (run sinp-bench as the postgres OS user)",
                self.host,
                self.user,
                error_chain(&e)
            )
            .into()
        })
    }

    /// A connection whose notices go to `log`, timestamped on arrival.
    fn connect_logged(&self, db: &str, log: &NoticeLog) -> Result<Client> {
        let mut config = self.config(db);
        let log = log.clone();
        config.notice_callback(move |notice| {
            log.record(format!("{}: {}", notice.severity(), notice.message()))
        });
        Ok(config.connect(NoTls)?)
    }
}

/// An error and its sources (a postgres error says "db error" and keeps the server's message in
/// its source).
fn error_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn backend_pid(client: &mut Client) -> Result<i32> {
    Ok(client.query_one("SELECT pg_backend_pid()", &[])?.get(0))
}

fn drop_database(admin: &mut Client, name: &str) -> Result<()> {
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    Ok(())
}

/// (Re)creates `name` as a copy of `template`. A connection to the template that was just closed
/// may still be ending: PostgreSQL waits for it a few seconds, and this retries once more.
fn copy_database(admin: &mut Client, template: &str, name: &str) -> Result<()> {
    drop_database(admin, name)?;
    let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
    if admin.batch_execute(&sql).is_err() {
        thread::sleep(Duration::from_secs(1));
        admin.batch_execute(&sql)?;
    }
    Ok(())
}

fn drop_bench_databases(admin: &mut Client) -> Result<()> {
    let pattern = format!("{}%", DB_PREFIX.replace('_', "\\_"));
    let names: Vec<String> = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for name in names {
        drop_database(admin, &name)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Backend memory, from /proc
// ---------------------------------------------------------------------------------------------

/// The value of a `Key:   1234 kB` line (the format of /proc/meminfo and /proc/<pid>/status).
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A `kB` line of /proc/<pid>/status (`VmHWM`, `RssAnon`, ...).
fn proc_status_kb(pid: i32, key: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|e| {
        format!("{path}: {e} (the driver must run on the database server's machine)")
    })?;
    kb_field(&status, key).ok_or_else(|| format!("{path}: no {key} line").into())
}

/// A backend's peak memory during a measured statement.
#[derive(Clone, Copy)]
struct PeakMemory {
    /// `VmHWM`: the peak resident set, shared buffers and libraries it touched included.
    rss_kb: u64,
    /// The largest `RssAnon` sampled: private memory (palloc, Rust heap, trigger queues).
    private_kb: u64,
}

/// Samples a backend's `RssAnon` until stopped, and keeps the largest value seen.
struct MemoryWatch {
    pid: i32,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl MemoryWatch {
    fn start(pid: i32) -> MemoryWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = 0;
            loop {
                match proc_status_kb(pid, "RssAnon") {
                    Ok(kb) => peak = peak.max(kb),
                    Err(_) => return peak, // the backend is gone
                }
                if stopped.load(Ordering::Relaxed) {
                    return peak;
                }
                thread::sleep(MEMORY_SAMPLE_EVERY);
            }
        });
        MemoryWatch { pid, stop, thread }
    }

    /// Stops sampling; reads `VmHWM` (the backend must still be connected).
    fn finish(self) -> Result<PeakMemory> {
        self.stop.store(true, Ordering::Relaxed);
        let private_kb = self.thread.join().unwrap_or(0);
        Ok(PeakMemory {
            rss_kb: proc_status_kb(self.pid, "VmHWM")?,
            private_kb,
        })
    }
}

fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

struct Machine {
    cpu: String,
    cores: usize,
    ram_gib: f64,
    postgres: String,
    postgis: String,
    extension: String,
    settings: Vec<(String, String)>,
    library: Option<Library>,
}

/// The extension's shared library as the backends map it.
struct Library {
    path: PathBuf,
    /// When it was installed: a reinstall during the run would mix two builds in the measures
    /// (and crashes the backends that have it loaded).
    modified: Option<SystemTime>,
    /// A debug build (`cargo pgrx test` installs one) has `.debug_info`; a release build does not.
    debug_info: Option<bool>,
}

impl Library {
    /// The sinp_import.so a backend has mapped (after it called the extension).
    fn of_backend(pid: i32) -> Option<Library> {
        let maps = fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
        let path = maps.lines().find_map(|line| {
            let path = line.split_whitespace().nth(5)?;
            path.ends_with("/sinp_import.so")
                .then(|| PathBuf::from(path))
        })?;
        Some(Library {
            modified: modified(&path),
            debug_info: has_debug_info(&path).ok(),
            path,
        })
    }

    fn replaced(&self) -> bool {
        modified(&self.path) != self.modified
    }

    fn describe(&self) -> String {
        let age = self
            .modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .map_or("?".to_string(), |age| {
                format!("{:.0}", age.as_secs_f64() / 60.0)
            });
        let build = match self.debug_info {
            Some(false) => "release build",
            Some(true) => "DEBUG BUILD (has .debug_info): these figures do not represent the extension; `make install` first",
            None => "build type unknown",
        };
        format!(
            "{}, installed {age} min before this run, {build}",
            self.path.display()
        )
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Little-endian unsigned integer of `len` bytes at `at`.
fn le(bytes: &[u8], at: usize, len: usize) -> u64 {
    bytes[at..at + len]
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

fn read_at(file: &mut File, offset: u64, len: usize) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; len];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// Whether a 64-bit little-endian ELF file has a `.debug_info` section (section headers only).
fn has_debug_info(path: &Path) -> Result<bool> {
    let mut file = File::open(path)?;
    let header = read_at(&mut file, 0, 64)?;
    if !header.starts_with(b"\x7fELF\x02\x01") {
        return Err(format!("{}: not a 64-bit little-endian ELF file", path.display()).into());
    }
    let table_offset = le(&header, 0x28, 8);
    let entry_size = le(&header, 0x3a, 2) as usize;
    let count = le(&header, 0x3c, 2) as usize;
    let names_index = le(&header, 0x3e, 2) as usize;
    if entry_size < 0x28 || names_index >= count {
        return Err(format!("{}: unexpected section headers", path.display()).into());
    }
    let table = read_at(&mut file, table_offset, entry_size * count)?;
    let section = |i: usize| &table[i * entry_size..(i + 1) * entry_size];
    let names_header = section(names_index);
    let names = read_at(
        &mut file,
        le(names_header, 0x18, 8),
        le(names_header, 0x20, 8) as usize,
    )?;
    Ok((0..count).any(|i| {
        let name_at = le(section(i), 0, 4) as usize;
        names
            .get(name_at..)
            .is_some_and(|name| name.starts_with(b".debug_info\0"))
    }))
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn ram_gib() -> f64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| kb_field(&info, "MemTotal"))
        .map_or(0.0, |kb| kb as f64 / 1024.0 / 1024.0)
}

/// Reads the machine and the server, on the template database after create_target_schema()
/// (PostGIS is there, and the backend has loaded sinp_import.so).
fn describe_machine(client: &mut Client) -> Result<Machine> {
    let row = client.query_one(
        "SELECT version(), public.postgis_lib_version(),
                (SELECT extversion FROM pg_extension WHERE extname = 'sinp_import')",
        &[],
    )?;
    let mut settings = Vec::new();
    for name in [
        "shared_buffers",
        "work_mem",
        "maintenance_work_mem",
        "max_wal_size",
        "synchronous_commit",
        "jit",
    ] {
        let value: String = client.query_one(&format!("SHOW {name}"), &[])?.get(0);
        settings.push((name.to_string(), value));
    }
    let pid = backend_pid(client)?;
    Ok(Machine {
        cpu: cpu_model(),
        cores: thread::available_parallelism().map_or(0, |n| n.get()),
        ram_gib: ram_gib(),
        postgres: row.get(0),
        postgis: row.get(1),
        extension: row.get(2),
        settings,
        library: Library::of_backend(pid),
    })
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

/// The extension and the target schema, retried while an install of the extension is under way.
fn install_extension(server: &Server) -> Result<Client> {
    let mut last_error = String::new();
    for attempt in 1..=EXTENSION_ATTEMPTS {
        let result = server.connect(TEMPLATE_DB).and_then(|mut client| {
            client.batch_execute(
                "BEGIN;
                 CREATE EXTENSION IF NOT EXISTS sinp_import CASCADE;
                 SELECT sinp_import.create_target_schema();
                 COMMIT;",
            )?;
            Ok(client)
        });
        match result {
            Ok(client) => return Ok(client),
            Err(e) => {
                last_error = error_chain(e.as_ref());
                eprintln!(
                    "sinp-bench: CREATE EXTENSION sinp_import failed (attempt {attempt}/{EXTENSION_ATTEMPTS}, \
                     an install may be under way): {last_error}"
                );
                thread::sleep(EXTENSION_RETRY_DELAY);
            }
        }
    }
    Err(format!("CREATE EXTENSION sinp_import kept failing: {last_error}").into())
}

/// Builds `sinp_bench_template`; returns what "validate" will call, the machine and the number
/// of areas.
fn build_template(server: &Server, admin: &mut Client) -> Result<(ValidateCall, Machine, i64)> {
    drop_database(admin, TEMPLATE_DB)?;
    admin.batch_execute(&format!("CREATE DATABASE {TEMPLATE_DB}"))?;
    let mut client = install_extension(server)?;
    client.batch_execute(AREAS_SQL)?;
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

fn synth_options(rows: usize) -> SynthOptions {
    SynthOptions {
        rows,
        datasets: DATASETS,
        users: USERS,
        organisms: ORGANISMS,
        afs: ACQUISITION_FRAMEWORKS,
        area_codes: (1..=COMMUNES).map(|i| format!("COM.05{i:03}")).collect(),
        ..SynthOptions::default()
    }
}

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

fn path_text(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| format!("not UTF-8: {}", path.display()).into())
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

/// One NOTICE of the load, at `at_s` seconds after the call.
struct Step {
    at_s: f64,
    message: String,
}

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

fn steps_from(start: Instant, notices: Vec<(Instant, String)>) -> Vec<Step> {
    notices
        .into_iter()
        .map(|(at, message)| Step {
            at_s: at.saturating_duration_since(start).as_secs_f64(),
            message,
        })
        .collect()
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

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if !values.len().is_multiple_of(2) {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
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

fn remove_file_if_any(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("sinp-bench: cannot remove {}: {e}", path.display());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn print_machine(machine: &Machine, areas: i64, call: ValidateCall, options: &Options) {
    println!("# sinp-bench");
    println!(
        "machine:    {}, {} cores, {:.1} GiB RAM",
        machine.cpu, machine.cores, machine.ram_gib
    );
    println!("postgres:   {}", machine.postgres);
    println!(
        "extensions: PostGIS {}, sinp_import {}",
        machine.postgis, machine.extension
    );
    let settings: Vec<String> = machine
        .settings
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    println!("settings:   {}", settings.join(" "));
    match &machine.library {
        Some(library) => println!("library:    {}", library.describe()),
        None => println!("library:    sinp_import.so not found in the backend's memory map"),
    }
    if let Some(options) = &options.server.options {
        println!("PGOPTIONS:  {options}");
    }
    println!(
        "archives:   {DATASETS} datasets, {USERS} users, {ORGANISMS} organisms, \
         {ACQUISITION_FRAMEWORKS} acquisition frameworks; area-only rows attached to {COMMUNES} communes"
    );
    println!("target:     {areas} enabled areas (DEP, COM 5 km, M10, M1 grids)");
    println!("validate:   {}", call.describe());
    println!("repeat:     {} (medians reported)", options.repeat);
    println!();
}

/// Values separated by spaces, with `decimals` decimals.
fn list(values: impl IntoIterator<Item = f64>, decimals: usize) -> String {
    values
        .into_iter()
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_memory(name: &str, peaks: impl Iterator<Item = PeakMemory> + Clone) {
    println!(
        "{name:<19}VmHWM {}  RssAnon {}",
        list(peaks.clone().map(|m| kb_to_mb(m.rss_kb)), 1),
        list(peaks.map(|m| kb_to_mb(m.private_kb)), 1)
    );
}

/// The NOTICEs of a load and the time from each to the next (the time of the step it announces).
fn print_steps(load: &LoadRun) {
    println!("load steps (median run):    at_s   took_s  NOTICE");
    let mut previous = (0.0, "(call)");
    for step in &load.steps {
        println!(
            "  {:>30.3} {:>8.3}  {}",
            previous.0,
            step.at_s - previous.0,
            previous.1
        );
        previous = (step.at_s, step.message.lines().next().unwrap_or_default());
    }
    println!(
        "  {:>30.3} {:>8.3}  {}",
        previous.0,
        load.seconds - previous.0,
        previous.1
    );
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

fn prepare_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let probe = dir.join(".sinp-bench-probe");
    File::create(&probe).map_err(|e| {
        format!(
            "{} is not writable by this user: {e} (create it owned by postgres)",
            dir.display()
        )
    })?;
    fs::remove_file(probe)?;
    Ok(())
}

fn run(options: &Options, admin: &mut Client) -> Result<()> {
    prepare_dir(&options.dir)?;
    drop_bench_databases(admin)?;
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
    let cleanup = cleanup_databases(&options.server);
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

/// Drops the sinp_bench_* databases on a fresh connection: the server may have restarted during
/// the run (a crashed backend makes it recover for a few seconds).
fn cleanup_databases(server: &Server) -> Result<()> {
    let mut attempt = 1;
    loop {
        match server.connect("postgres") {
            Ok(mut admin) => return drop_bench_databases(&mut admin),
            Err(e) if attempt >= 30 => return Err(e),
            Err(_) => {
                attempt += 1;
                thread::sleep(Duration::from_secs(1));
            }
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
