//! What the benchmark drivers share (`sinp-bench`, `sinp-bench-diff`): connections as the postgres
//! OS user, database copies, the backend's memory from /proc, the machine, the template's extension
//! and areas, the archives' shape, medians. Included by each driver with `#[path]`; each uses part
//! of it.
#![allow(dead_code)]

use std::error::Error;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use postgres::{Client, Config, NoTls};
use sinp_bench::SynthOptions;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

pub const AREAS_SQL: &str = include_str!("../sql/areas.sql");
/// TAXREF and HABREF rows for the generator's taxa and habitats (GeoNature's foreign keys).
pub const REFERENTIALS_SQL: &str = include_str!("../../tests/sql/referentials.sql");

/// The archives' shape besides the number of synthese rows.
pub const DATASETS: usize = 50;
pub const USERS: usize = 500;
pub const ORGANISMS: usize = 25;
pub const ACQUISITION_FRAMEWORKS: usize = 10;
/// Communes COM.05001 .. COM.05100 of bench/sql/areas.sql: the area-only rows' codes.
pub const COMMUNES: usize = 100;

/// How long to wait for CREATE EXTENSION while an install of the extension is under way.
pub const EXTENSION_ATTEMPTS: usize = 30;
pub const EXTENSION_RETRY_DELAY: Duration = Duration::from_secs(10);
/// How often the backend's private memory is sampled during a load.
pub const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(20);

pub fn parse_count(flag: &str, value: &str) -> Result<usize> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {value}").into())
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

pub struct Server {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Server options for every connection, from PGOPTIONS as libpq reads it (e.g.
    /// `-c jit=off`, or `-c dynamic_library_path=DIR:$libdir` to measure an uninstalled build).
    pub options: Option<String>,
    /// The connections' application_name: the driver's name.
    pub application: &'static str,
}

/// The NOTICE and WARNING messages a connection received, with the time each arrived.
#[derive(Clone, Default)]
pub struct NoticeLog {
    entries: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl NoticeLog {
    pub fn record(&self, message: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.push((Instant::now(), message));
    }

    pub fn take(&self) -> Vec<(Instant, String)> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Server {
    /// The local server over its Unix socket, as the OS user running the driver, with the
    /// options of PGOPTIONS: what every driver starts from before its flags.
    pub fn from_env(application: &'static str) -> Server {
        Server {
            host: "/var/run/postgresql".to_string(),
            port: 5432,
            user: std::env::var("USER").unwrap_or_else(|_| "postgres".to_string()),
            options: std::env::var("PGOPTIONS")
                .ok()
                .filter(|o| !o.trim().is_empty()),
            application,
        }
    }

    pub fn config(&self, db: &str) -> Config {
        let mut config = Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(db)
            .application_name(self.application);
        if let Some(options) = &self.options {
            config.options(options);
        }
        config
    }

    /// A connection whose notices are dropped.
    pub fn connect(&self, db: &str) -> Result<Client> {
        let mut config = self.config(db);
        config.notice_callback(|_| {});
        config.connect(NoTls).map_err(|e| {
            format!(
                "connecting to {db} on {} as {}: {} (run {} as the postgres OS user)",
                self.host,
                self.user,
                error_chain(&e),
                self.application
            )
            .into()
        })
    }

    /// A connection whose notices go to `log`, timestamped on arrival.
    pub fn connect_logged(&self, db: &str, log: &NoticeLog) -> Result<Client> {
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
pub fn error_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn backend_pid(client: &mut Client) -> Result<i32> {
    Ok(client.query_one("SELECT pg_backend_pid()", &[])?.get(0))
}

pub fn drop_database(admin: &mut Client, name: &str) -> Result<()> {
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    Ok(())
}

/// (Re)creates `name` as a copy of `template`. A connection to the template that was just closed
/// may still be ending: PostgreSQL waits for it a few seconds, and this retries once more.
pub fn copy_database(admin: &mut Client, template: &str, name: &str) -> Result<()> {
    drop_database(admin, name)?;
    let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
    if admin.batch_execute(&sql).is_err() {
        thread::sleep(Duration::from_secs(1));
        admin.batch_execute(&sql)?;
    }
    Ok(())
}

/// [`copy_database`] with `STRATEGY FILE_COPY`: a checkpoint and a copy of the files, instead of
/// writing every page of the copy to the WAL (PostgreSQL 15's default): much faster for a
/// template of several GB.
pub fn copy_database_by_files(admin: &mut Client, template: &str, name: &str) -> Result<()> {
    drop_database(admin, name)?;
    let sql = format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY");
    if admin.batch_execute(&sql).is_err() {
        thread::sleep(Duration::from_secs(1));
        admin.batch_execute(&sql)?;
    }
    Ok(())
}

/// Drops every database whose name starts with `prefix`.
pub fn drop_databases_named(admin: &mut Client, prefix: &str) -> Result<()> {
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
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
pub fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A `kB` line of /proc/<pid>/status (`VmHWM`, `RssAnon`, ...).
pub fn proc_status_kb(pid: i32, key: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|e| {
        format!("{path}: {e} (the driver must run on the database server's machine)")
    })?;
    kb_field(&status, key).ok_or_else(|| format!("{path}: no {key} line").into())
}

/// A backend's peak memory during a measured statement.
#[derive(Clone, Copy)]
pub struct PeakMemory {
    /// `VmHWM`: the peak resident set, shared buffers and libraries it touched included.
    pub rss_kb: u64,
    /// The largest `RssAnon` sampled: private memory (palloc, Rust heap, trigger queues).
    pub private_kb: u64,
}

/// Samples a backend's `RssAnon` until stopped, and keeps the largest value seen.
pub struct MemoryWatch {
    pid: i32,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl MemoryWatch {
    pub fn start(pid: i32) -> MemoryWatch {
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
    pub fn finish(self) -> Result<PeakMemory> {
        self.stop.store(true, Ordering::Relaxed);
        let private_kb = self.thread.join().unwrap_or(0);
        Ok(PeakMemory {
            rss_kb: proc_status_kb(self.pid, "VmHWM")?,
            private_kb,
        })
    }
}

pub fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram_gib: f64,
    pub postgres: String,
    pub postgis: String,
    pub extension: String,
    pub settings: Vec<(String, String)>,
    pub library: Option<Library>,
}

/// The extension's shared library as the backends map it.
pub struct Library {
    path: PathBuf,
    /// When it was installed: a reinstall during the run would mix two builds in the measures
    /// (and crashes the backends that have it loaded).
    modified: Option<SystemTime>,
    /// A debug build (`cargo pgrx test` installs one) has `.debug_info`; a release build does not.
    debug_info: Option<bool>,
}

impl Library {
    /// The sinp_import.so a backend has mapped (after it called the extension).
    pub fn of_backend(pid: i32) -> Option<Library> {
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

    pub fn replaced(&self) -> bool {
        modified(&self.path) != self.modified
    }

    pub fn describe(&self) -> String {
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

pub fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Little-endian unsigned integer of `len` bytes at `at`.
pub fn le(bytes: &[u8], at: usize, len: usize) -> u64 {
    bytes[at..at + len]
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

pub fn read_at(file: &mut File, offset: u64, len: usize) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; len];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// Whether a 64-bit little-endian ELF file has a `.debug_info` section (section headers only).
pub fn has_debug_info(path: &Path) -> Result<bool> {
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

pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

pub fn ram_gib() -> f64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| kb_field(&info, "MemTotal"))
        .map_or(0.0, |kb| kb as f64 / 1024.0 / 1024.0)
}

/// Reads the machine and the server, on the template database after create_target_schema()
/// (PostGIS is there, and the backend has loaded sinp_import.so).
pub fn describe_machine(client: &mut Client) -> Result<Machine> {
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

/// The extension and the target schema, retried while an install of the extension is under way.
pub fn install_extension(server: &Server, db: &str) -> Result<Client> {
    let mut last_error = String::new();
    for attempt in 1..=EXTENSION_ATTEMPTS {
        let result = server.connect(db).and_then(|mut client| {
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
                    "{}: CREATE EXTENSION sinp_import failed (attempt {attempt}/{EXTENSION_ATTEMPTS}, \
                     an install may be under way): {last_error}",
                    server.application
                );
                thread::sleep(EXTENSION_RETRY_DELAY);
            }
        }
    }
    Err(format!("CREATE EXTENSION sinp_import kept failing: {last_error}").into())
}

pub fn synth_options(rows: usize) -> SynthOptions {
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

pub fn path_text(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| format!("not UTF-8: {}", path.display()).into())
}

/// One NOTICE of the load, at `at_s` seconds after the call.
pub struct Step {
    pub at_s: f64,
    pub message: String,
}

pub fn steps_from(start: Instant, notices: Vec<(Instant, String)>) -> Vec<Step> {
    notices
        .into_iter()
        .map(|(at, message)| Step {
            at_s: at.saturating_duration_since(start).as_secs_f64(),
            message,
        })
        .collect()
}

pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
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

pub fn remove_file_if_any(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("cannot remove {}: {e}", path.display());
        }
    }
}

/// Values separated by spaces, with `decimals` decimals.
pub fn list(values: impl IntoIterator<Item = f64>, decimals: usize) -> String {
    values
        .into_iter()
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn print_memory(name: &str, peaks: impl Iterator<Item = PeakMemory> + Clone) {
    println!(
        "{name:<19}VmHWM {}  RssAnon {}",
        list(peaks.clone().map(|m| kb_to_mb(m.rss_kb)), 1),
        list(peaks.map(|m| kb_to_mb(m.private_kb)), 1)
    );
}

pub fn prepare_dir(dir: &Path) -> Result<()> {
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

/// Drops the databases named `prefix*` on a fresh connection: the server may have restarted
/// during the run (a crashed backend makes it recover for a few seconds).
pub fn cleanup_databases(server: &Server, prefix: &str) -> Result<()> {
    let mut attempt = 1;
    loop {
        match server.connect("postgres") {
            Ok(mut admin) => return drop_databases_named(&mut admin, prefix),
            Err(e) if attempt >= 30 => return Err(e),
            Err(_) => {
                attempt += 1;
                thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// The machine, the server and the extension's library, as the drivers print them first.
pub fn print_machine_lines(machine: &Machine, server: &Server) {
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
    if let Some(options) = &server.options {
        println!("PGOPTIONS:  {options}");
    }
}

/// The NOTICEs of a load and the time from each to the next (the time of the step it announces);
/// the last step runs to the end of the call (`total_s`).
pub fn print_notice_steps(title: &str, steps: &[Step], total_s: f64) {
    println!("{title:<28}at_s   took_s  NOTICE");
    let mut previous = (0.0, "(call)");
    for step in steps {
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
        total_s - previous.0,
        previous.1
    );
}
